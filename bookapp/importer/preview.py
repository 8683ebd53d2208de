"""The matching page's preview: the file's first rows (kept in its column profile) validated with the
columns chosen, as the import will read them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .cells import as_read, cell_text, decode_cell, shown
from .fields import FIELDS, MARKUP_FIELDS
from .left_out import why_left_out
from .markup import looks_like_markup, markup_text
from .matching import Choices
from .validation import RowValidator


@dataclass
class PreviewRow:
    row_number: int
    #: Per field, the value as it would be saved (or, in a rejected row, the cell as read).
    values: dict[str, str]
    problems: list[str]
    #: Why the import leaves the row out, in words ("": it does not): a totals row, a note, … (importer.left_out).
    left_out: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.left_out


def preview(choices: Choices, profile: dict) -> list[PreviewRow]:
    """Validate the file's first rows (kept in its profile) with the choices, as the import will.

    A required field left unmatched is left out (the page says so once, not in every row)."""
    headers = profile.get("headers") or []
    header_map, _ = choices.mapping().resolve(headers)
    unmatched = choices.missing()
    for fld in unmatched:  # not what a header's synonym would give: the page shows the field unmatched
        header_map.positions.pop(fld, None)
        header_map.fallbacks.pop(fld, None)
    validator = RowValidator(
        header_map,
        decimal_comma=bool(profile.get("decimal_comma")),
        decimal_comma_columns=frozenset(profile.get("decimal_comma_columns") or ()),
        catalogue_punctuation_columns=frozenset(profile.get("catalogue_punctuation_columns") or ()),
        text_cells=bool(profile.get("text_cells")),
        nul_cells=bool(profile.get("nul_cells")),
    )
    rows = []
    head = ((number, [decode_cell(c) for c in encoded]) for number, encoded in profile.get("head", []))
    first_row = next((number for number, _ in profile.get("head", [])), None)  # the row under the header
    for number, cells in validator.continued(head):
        left_out = why_left_out(cells, validator, rejected=False)
        if left_out:
            values = {f: _as_read(header_map, f, cells) for f in FIELDS}
            rows.append(PreviewRow(number, values, [], left_out=left_out))
            continue
        outcome = validator.validate(number, cells)
        if isinstance(outcome, list):
            values = {f: _as_read(header_map, f, cells) for f in FIELDS}
            left_out = why_left_out(cells, validator, rejected=True, first=number == first_row)
            rows.append(PreviewRow(number, values, [] if left_out else [p.message for p in outcome], left_out))
        else:
            values = {f: _shown_value(v) for f, v in outcome.values().items()}
            rows.append(PreviewRow(number, values, []))
    return rows


def _shown_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return shown(str(value))


def _as_read(header_map, fld: str, cells: list[object]) -> str:
    """Return the cell the import reads for *fld* in a row it does not save, as text: the first of its
    columns that is not blank (else the value for every row), a description written in HTML as the text
    it shows (importer.markup: as the import stores it), not as tags."""
    position = header_map.positions.get(fld)
    text = ""
    for at in () if position is None else (position, *header_map.fallbacks.get(fld, ())):
        text = as_read(cell_text(cells[at])) if at < len(cells) else ""
        if text:
            break
    if not text:
        return header_map.defaults.get(fld, "")
    if fld in MARKUP_FIELDS and looks_like_markup(text):
        text = markup_text(text)
    return shown(text)
