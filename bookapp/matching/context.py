"""What the matching pages show for a header row and a set of choices: the fields' controls, the file's
columns, Book type's values, the preview, and whether (and why not) Continue can be pressed."""

from __future__ import annotations

from dataclasses import dataclass

from ..importer.fields import BOOK_TYPES, FIELDS, LABELS, OPTIONAL_FIELDS
from ..importer.mapping import NO_DEFAULT, MappingError
from ..importer.matching import REJECT, Choices, selectable_columns
from ..importer.preview import preview
from ..importer.value_matches import value_section

#: The longest sample shown beside a column's name in a select.
OPTION_SAMPLE_CHARS = 24


@dataclass
class FieldRow:
    """One book field's controls."""

    field: str
    label: str
    required: bool
    column: str
    #: The fallback columns chosen, then one empty select to add another.
    fallbacks: list[str]
    default: str
    default_allowed: bool
    missing: bool


def field_rows(choices: Choices) -> list[FieldRow]:
    rows = []
    for fld in FIELDS:
        chain = choices.chain(fld)
        rows.append(
            FieldRow(
                field=fld,
                label=LABELS[fld],
                required=fld not in OPTIONAL_FIELDS,
                column=chain[0] if chain else "",
                fallbacks=[*chain[1:], ""],
                default=choices.defaults.get(fld, ""),
                default_allowed=fld not in NO_DEFAULT,
                missing=fld in choices.missing(),
            )
        )
    return rows


def blank_everywhere(column: dict, rows: int) -> bool:
    """Whether a profiled column is blank in every row read (of a file with rows under its header): it would
    fill nothing, so the page neither lists nor offers it unless the choices read it."""
    return rows > 0 and (column.get("blank") or 0) >= rows


def blank_columns(headers: list[str | None] | None, profile: dict | None) -> list[str] | None:
    """Return the headers of the profiled columns blank in every row (None without a profile), for the
    import's report: *headers* as the import keeps them, in the profile's column order."""
    if not profile:
        return None
    rows = profile.get("rows") or 0
    named = headers or []
    columns = [(named[i], column) for i, column in enumerate(profile.get("columns", [])) if i < len(named) and named[i]]
    # The report names columns by header: a name one filled column has too (two "Notes") is not blank.
    filled = {name for name, column in columns if not blank_everywhere(column, rows)}
    return [name for name, column in columns if name not in filled]


def column_options(headers: list[object], profile: dict | None) -> list[tuple[str, str]]:
    """Return (header, text shown in a select): the header, and a sample of its values when known. The
    columns blank in every row come last, said to be blank: one may still be wanted (a profile saved from
    this file for next week's, which fills it; a field to clear when updating stored books)."""
    samples = {}
    first: dict[str, dict] = {}
    for column in (profile or {}).get("columns", []):
        key = (column.get("header") or "").casefold()
        first.setdefault(key, column)
        if column.get("samples"):
            sample = column["samples"][0]
            if len(sample) > OPTION_SAMPLE_CHARS:
                sample = sample[: OPTION_SAMPLE_CHARS - 1] + "…"
            samples.setdefault(key, sample)
    rows = (profile or {}).get("rows") or 0
    options, blank = [], []
    for text in selectable_columns(headers):
        column = first.get(text.casefold())
        if column is not None and blank_everywhere(column, rows):
            blank.append((text, f"{text} (blank in every row)"))
            continue
        sample = samples.get(text.casefold())
        options.append((text, f"{text} (e.g. {sample})" if sample else text))
    return options + blank


def file_columns(profile: dict | None, choices: Choices) -> list[dict]:
    """Return each column of the file as the page's table shows it; *left_out*: blank in every row and read
    for no field, the table leaves it out (the page names it in one line's disclosure)."""
    if not profile:
        return []
    rows = profile.get("rows") or 0
    used = {k.casefold(): v for k, v in choices.used_for().items()}
    shown = []
    for index, column in enumerate(profile.get("columns", [])):
        blank = column.get("blank", 0)
        distinct = column.get("distinct", 0)
        exact = column.get("distinct_exact", True)
        used_for = used.get((column.get("header") or "").casefold(), [])
        shown.append(
            {
                "index": index,
                "header": column.get("header") or "",
                "samples": column.get("samples") or [],
                "blank_share": _share(blank, rows),
                "blank": blank,
                "distinct": f"{distinct:,}" if exact else f"about {_round(distinct):,}",
                "used_for": used_for,
                "left_out": blank_everywhere(column, rows) and not used_for,
            }
        )
    return shown


def left_out_names(columns: list[dict]) -> list[str]:
    """The names of the columns the table leaves out (one without a name by its place)."""
    return [c["header"] or f"(no name: column {c['index'] + 1})" for c in columns if c["left_out"]]


def _share(part: int, whole: int) -> str:
    if not whole or not part:
        return "0 %"
    share = 100 * part / whole
    if share < 1:
        return "under 1 %"
    return f"{share:.0f} %"


def _round(number: int) -> int:
    """Round an estimate to 3 significant digits."""
    digits = len(str(abs(number)))
    return round(number, -max(digits - 3, 0))


def matching_context(headers: list[object], choices: Choices, profile: dict | None, *, with_preview: bool) -> dict:
    """Return everything the matching form and its live parts show."""
    missing = choices.missing()
    mapping_error = None
    try:
        choices.mapping()
    except MappingError as exc:
        mapping_error = str(exc)
    rows = None
    if with_preview and profile and mapping_error is None:
        rows = preview(choices, profile)
    section = value_section(choices, profile)
    if mapping_error:
        reason = mapping_error
    elif missing:
        names = ", ".join(LABELS[f] for f in missing)
        reason = f"Continue needs a column, or a value for every row, for: {names}."
    else:
        reason = ""
    unmatched = section.unmatched if section.from_file else []
    columns = file_columns(profile, choices)
    return {
        "headers": headers,
        "choices": choices,
        "field_rows": field_rows(choices),
        "column_options": column_options(headers, profile),
        "file_columns": columns,
        "left_out_columns": left_out_names(columns),
        "profile": profile,
        "missing": missing,
        "missing_labels": [LABELS[f] for f in missing],
        "reason": reason,
        "can_continue": not reason,
        "preview_rows": rows,
        "mapping_error": mapping_error,
        "values": section,
        "unmatched_values": unmatched,
        "unmatched_rows": sum(r.count or 0 for r in unmatched),
        "blank_type_rows": blank_type_rows(choices, profile),
        "BOOK_TYPES": BOOK_TYPES,
        "REJECT": REJECT,
        "summary": summary(rows, reason, [LABELS[f] for f in missing]),
    }


def blank_type_rows(choices: Choices, profile: dict | None) -> int:
    """The rows whose Book type column is blank, with no value for every row to take its place (each
    will be rejected: a type is required); 0 when the file's columns are not read yet, or a fallback
    column or the item's first row (group_by) may fill them."""
    chain = choices.chain("book_type")
    if len(chain) != 1 or choices.defaults.get("book_type") or choices.group_by or not profile:
        return 0
    column = next(
        (c for c in profile.get("columns", []) if (c.get("header") or "").casefold() == chain[0].casefold()), None
    )
    return int(column.get("blank") or 0) if column else 0


def summary(rows, reason: str, waiting: list[str] | None = None) -> str:
    """Return one sentence for screen readers after the controls change: what the import would do with
    the preview's rows, in the words of a dry run's outcome ("would reject 3"), then why Continue waits."""
    parts = []
    if rows is not None:
        parts.append(preview_summary(rows, waiting or []))
    if reason:
        parts.append(reason)
    return " ".join(parts)


def preview_summary(rows, waiting: list[str]) -> str:
    """Say what the import would do with the preview's rows, as their verdicts do: "Preview of the first 10
    rows: the import would reject 3; the other 7 are valid." A valid row is not said to be imported: the
    preview cannot tell a new book from one the import would update or leave unchanged. *waiting*: the
    fields without a column yet (the valid rows wait for them)."""
    if not rows:
        return "Preview: the file has no rows under its header."
    count = len(rows)
    left_out = sum(1 for r in rows if r.left_out)
    rejected = sum(1 for r in rows if not r.ok and not r.left_out)
    valid = count - left_out - rejected
    head = f"Preview of the first {count:,} row{'' if count == 1 else 's'}"
    would = [
        *([f"reject {'all ' if rejected == count > 1 else ''}{rejected:,}"] if rejected else []),
        *([f"leave out {'all ' if left_out == count > 1 else ''}{left_out:,}"] if left_out else []),
    ]
    verdict = ("waits" if valid == 1 else "wait") + " for " + ", ".join(waiting) if waiting else ""
    if not would:
        if count == 1:
            return f"{head}: it {verdict or 'is valid'}."
        return f"{head}: all {count:,} {verdict or 'are valid'}."
    said = f"{head}: the import would {' and '.join(would)}"
    if valid:
        said += f"; the other {valid:,} {verdict or ('is valid' if valid == 1 else 'are valid')}"
    return said + "."
