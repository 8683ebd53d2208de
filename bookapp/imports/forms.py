"""The upload page's forms: the file and what the uploader chooses about it, the "Import it again"
button, and the buttons that change an import."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice

from ..models import MODE_LABELS, ImportMode
from ..services.imports import ImportOptions

#: The names the upload form takes (the server then judges the file by its bytes, never its name).
UPLOAD_EXTENSIONS = ["csv", "tsv", "txt", "xlsx", "xls", "xlsb", "ods"]
#: What the file picker offers: those names, and the media types browsers give those files.
UPLOAD_ACCEPT = ",".join(
    [f".{extension}" for extension in UPLOAD_EXTENSIONS]
    + [
        "text/csv",
        "text/tab-separated-values",
        "text/plain",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
        "application/vnd.ms-excel.sheet.binary.macroenabled.12",
        "application/vnd.oasis.opendocument.spreadsheet",
    ]
)


class ImportChoices(FlaskForm):
    """What the upload form asks besides the file: how to treat ISBNs already stored, dry run, all or nothing."""

    mode = RadioField(
        "When an ISBN is already stored",
        choices=[SelectChoice(m.value, label) for m, label in MODE_LABELS.items()],
        default=ImportMode.CREATE_UPDATE.value,
    )
    dry_run = BooleanField("Dry run: check the whole file and show what would happen, without saving")
    all_or_nothing = BooleanField("All or nothing: if any row is rejected, save none")


class UploadForm(ImportChoices):
    file = FileField(
        "Spreadsheet",
        validators=[
            FileRequired("Choose a spreadsheet or CSV file to upload."),
            FileAllowed(UPLOAD_EXTENSIONS, "Upload a .csv, .tsv, .txt, .xlsx, .xls, .xlsb or .ods file."),
        ],
    )
    allow_repeat = HiddenField(default="")


class ImportAgainForm(ImportChoices):
    """The button that imports a file refused as imported before, which the server kept: it sends the
    upload form's choices as they are ticked when it is pressed, and the kept file's token, never a path."""

    token = HiddenField()


class ActionForm(FlaskForm):
    """A button that changes an import (CSRF-protected POST)."""


def options_from(form: ImportChoices) -> ImportOptions:
    return ImportOptions(
        mode=ImportMode(form.mode.data),
        dry_run=form.dry_run.data,
        all_or_nothing=form.all_or_nothing.data,
        allow_repeat=isinstance(form, UploadForm) and form.allow_repeat.data == "1",
    )
