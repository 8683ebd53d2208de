"""What the matching page offers and reads back: for each book field a column (then fallback columns) and
a value for every row, and Book type's value matches, suggested from the header and the column profile,
read from a mapping, read from the page's form, and turned into a Mapping; and the preview of a file's
first rows read with them. (Whether an upload's Book type values send it here at all: book_types.)

Nothing is guessed for a required field beyond what the header's synonyms say and what a column's values
show (valid ISBNs; years from 1450 to next year): no value for every row is ever suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from .book_types import offered_type, pre_matched
from .cells import as_read, cell_text, decode_cell, looks_like, shown
from .errors import ValueProblem
from .fields import FIELDS, LABELS, MARKUP_FIELDS, OPTIONAL_FIELDS, REQUIRED_FIELDS
from .groups import suggested_group
from .headers import field_of, last_resort, without_ids_as_years
from .left_out import why_left_out
from .mapping import FIXED_VALUES, NO_DEFAULT, Mapping, header_text, value_key
from .markup import looks_like_markup, markup_text
from .validation import RowValidator
from .values import parse_year

#: What a value-match select sends to reject the rows with that value.
REJECT = "reject"
#: Fields the value suggestions of a column profile can fill.
SUGGESTED_BY_VALUES = ("isbn", "year_published")
#: What the file's columns table says a group column is read for.
GROUP_LABEL = "Item of each row"


def selectable_columns(headers: list[object]) -> list[str]:
    """Return the header texts a field can be matched to: named, and the first of a name (case aside)."""
    seen: set[str] = set()
    columns = []
    for header in headers:
        text = header_text(header)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            columns.append(text)
    return columns


@dataclass
class Choices:
    """Per field, the columns read in order (empty: none) and the value for every row ("" : none);
    Book type's value matches (a file value → a type, or None to reject its rows)."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, str | None] = field(default_factory=dict)
    #: The column naming each row's item ("": none): see importer.groups.
    group_by: str = ""

    def chain(self, fld: str) -> list[str]:
        return self.columns.get(fld) or []

    def missing(self) -> list[str]:
        """Return the required fields with neither a column nor a value for every row."""
        return [f for f in REQUIRED_FIELDS if not self.chain(f) and not self.defaults.get(f)]

    def as_json(self) -> dict:
        """Return the mapping's JSON form: every field named, so no header synonym adds anything unseen."""
        columns: dict[str, object] = {}
        for fld in FIELDS:
            chain = self.chain(fld)
            if chain:
                columns[fld] = chain[0] if len(chain) == 1 else list(chain)
            elif fld in OPTIONAL_FIELDS:
                columns[fld] = None
        defaults = {f: v for f, v in self.defaults.items() if v and f not in NO_DEFAULT}
        values = {"book_type": dict(self.values)} if self.values else {}
        data = {"columns": columns, "defaults": defaults, "values": values}
        if self.group_by:
            data["group_by"] = self.group_by
        return data

    def mapping(self) -> Mapping:
        """Return the Mapping (raises MappingError when a default or value is not acceptable)."""
        return Mapping.from_json(self.as_json(), as_typed=True)

    def used_for(self) -> dict[str, list[str]]:
        """Return, per header text, the labels of the fields that read it."""
        used: dict[str, list[str]] = {}
        for fld in FIELDS:
            for text in self.chain(fld):
                used.setdefault(text, []).append(LABELS[fld])
        if self.group_by:
            used.setdefault(self.group_by, []).append(GROUP_LABEL)
        return used


def suggest(headers: list[object], profile: dict | None = None) -> Choices:
    """Return the choices a file starts with: its header's synonyms (a second column with a name of the
    same field becomes the fallback: "ISBN, else ISBN13"; a Purchase Price is read only where no other
    column is left for the price: see headers.LAST_RESORT), then, for ISBN and Year published when no
    header names them, the first free column of ISBNs or years (no id beside a date: without_ids_as_years);
    a free column of ISBNs is ISBN's fallback when its header names a SKU ("Barcode, else Variant SKU")."""
    header_map, _ = Mapping().resolve(headers)
    texts = [header_text(h) for h in headers]
    choices = Choices()
    used: set[str] = set()
    for fld, position in header_map.positions.items():
        choices.columns[fld] = [texts[position]]
        used.add(texts[position].casefold())
    for text in selectable_columns(headers):
        fld = field_of(text)
        if fld is not None and fld in choices.columns and text.casefold() not in used:
            choices.columns[fld].append(text)
            used.add(text.casefold())
    # A header that names a field whose values it plainly does not hold (Shopify's "Published": TRUE and
    # FALSE, not years) is not guessed: no sample of it reads as that field. A Purchase Price is kept only
    # where no other column is left for the price (headers.LAST_RESORT).
    by_header = {(c.get("header") or "").casefold(): c for c in (profile or {}).get("columns", [])}
    for fld, chain in list(choices.columns.items()):
        kept = [t for t in chain if not _plainly_not(fld, by_header.get(t.casefold()))]
        if not all(map(last_resort, kept)):
            kept = [t for t in kept if not last_resort(t)]
        used.difference_update(t.casefold() for t in chain if t not in kept)
        if kept:
            choices.columns[fld] = kept
        else:
            del choices.columns[fld]
    for fld in SUGGESTED_BY_VALUES:
        chain = choices.columns.get(fld, [])
        samples = [s for s in (by_header.get(chain[0].casefold(), {}).get("samples") or []) if s] if chain else []
        if samples and not any(_fits(fld, s) for s in samples):
            used.discard(chain.pop(0).casefold())
            if not chain:
                del choices.columns[fld]
    free = {t.casefold(): t for t in selectable_columns(headers) if t.casefold() not in used}
    for column in without_ids_as_years((profile or {}).get("columns", [])):
        fld, text = column.get("looks_like"), (column.get("header") or "").casefold()
        if fld in SUGGESTED_BY_VALUES and fld not in choices.columns and text in free:
            choices.columns[fld] = [free.pop(text)]
        elif fld == "isbn" and fld in choices.columns and text in free and "sku" in text.split():
            # A shop's SKUs that are ISBNs, read where its barcode is blank; not another edition's ISBN column.
            choices.columns[fld].append(free.pop(text))
    choices.group_by = suggested_group(list(free.values()))
    return choices


def _plainly_not(fld: str, column: dict | None) -> bool:
    """Whether a column its header names for *fld* plainly holds no such values: every cell blank (a
    catalogue export's empty Notes would clear stored descriptions), or, for Book type, plain numbers
    (a marketplace's category ID, 261186)."""
    if column is None:
        return False
    samples = [s for s in column.get("samples") or [] if s]
    return not samples or (fld == "book_type" and all(_PLAIN_NUMBER.fullmatch(s) for s in samples))


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _fits(fld: str, sample: str) -> bool:
    """Whether a column's sample reads as *fld*, for a column its name suggests: an ISBN, or a year (a
    date gives its year: a catalogue app's publish_date, 1990-09-01)."""
    if looks_like([sample]) == fld:
        return True
    if fld != "year_published":
        return False
    try:
        return parse_year(sample) is not None
    except ValueProblem:
        return False


def from_mapping(mapping: Mapping, headers: list[object]) -> Choices:
    """Return the choices a mapping makes for a file with *headers* (its synonyms included, as the
    import reads it)."""
    header_map, _ = mapping.resolve(headers)
    texts = [header_text(h) for h in headers]
    choices = Choices(defaults=dict(mapping.defaults), values=dict(mapping.values.get("book_type", {})))
    for fld, position in header_map.positions.items():
        choices.columns[fld] = [texts[p] for p in (position, *header_map.fallbacks.get(fld, ()))]
    if header_map.group_by is not None:
        choices.group_by = texts[header_map.group_by]
    return choices


def from_form(form, headers: list[object]) -> Choices:
    """Read the choices the matching page's form sends (a MultiDict: .get and .getlist).

    Per field: column-<field> (a header text), else-<field> (fallback columns, repeated) and
    default-<field>; per listed value: value-text-<n> and value-<n> (a type, "reject" or "");
    value-text-new and value-new add one; group_by, the column naming each row's item. Columns the file
    does not have are left out."""
    known = {t.casefold(): t for t in selectable_columns(headers)}
    choices = Choices()
    for fld in FIELDS:
        named = [form.get(f"column-{fld}", ""), *form.getlist(f"else-{fld}")]
        chain = [known[t.strip().casefold()] for t in named if t and t.strip().casefold() in known]
        choices.columns[fld] = list(dict.fromkeys(chain))
        if fld not in NO_DEFAULT:
            choices.defaults[fld] = " ".join(str(form.get(f"default-{fld}", "")).split())
    choices.group_by = known.get(str(form.get("group_by", "")).strip().casefold(), "")
    keys = [k.removeprefix("value-text-") for k in form if k.startswith("value-text-")]
    for key in keys:
        text = str(form.get(f"value-text-{key}", "")).strip()
        choice = str(form.get(f"value-{key}", "")).strip()
        if not text or not choice:
            continue
        if choice == REJECT:
            choices.values[text] = None
        elif choice in FIXED_VALUES["book_type"] and pre_matched(text) != choice:
            choices.values[text] = choice
    return choices


@dataclass
class ValueRow:
    text: str
    count: int | None
    #: The select's value: a type, REJECT or "" (not matched yet).
    choice: str
    pre_matched: bool
    #: Whether the choice is a match made by a person (else the pre-match, the offer, or nothing yet).
    saved: bool = False
    #: Whether the choice is offered, the value being a type's name with another ending ("Magazin").
    offered: bool = False


@dataclass
class ValueSection:
    """Book type's values to match: those of its columns in the file, or (no file) the saved matches."""

    columns: list[str]
    rows: list[ValueRow] = field(default_factory=list)
    #: A column whose values are too many to list (its approximate number of distinct values).
    too_many: tuple[str, int] | None = None
    #: Whether the values come from the file (else from the saved matches only).
    from_file: bool = True
    #: Whether a column names each row's item, so that rows may take a value from their item's first row.
    grouped: bool = False
    #: Whether each count is every row the import will read with the value; False: only the rows holding
    #: it, not those that take it from their item's first row (item_values.ItemValues did not count them).
    exact: bool = True

    @property
    def needed(self) -> bool:
        """Whether anything is left to decide: a value that is not a type already, or a saved match."""
        return any(not r.pre_matched or r.saved for r in self.rows)

    @property
    def unmatched(self) -> list[ValueRow]:
        return [r for r in self.rows if not r.choice]

    @property
    def key(self) -> str:
        """What the section depends on (the page replaces it when this changes): its columns, and its counts
        (the column naming each row's item, and the columns matched, change those of a shop's export)."""
        counts = ",".join(str(r.count) for r in self.rows) if self.from_file else ""
        return "\x1f".join(self.columns) + f"\x1e{counts}\x1e{self.grouped:d}{self.exact:d}"


def value_section(choices: Choices, profile: dict | None) -> ValueSection:
    """Return Book type's values with their counts over the whole file, each with its current choice."""
    chain = choices.chain("book_type")
    section = ValueSection(columns=chain, from_file=profile is not None, grouped=bool(choices.group_by))
    counts: dict[object, int | None] = {}
    #: Values are one when only their case and spacing differ (as the value map reads them): each is
    #: shown as the file first wrote it.
    texts: dict[object, str] = {}
    if profile is not None:
        at = {}
        for index, column in enumerate(profile.get("columns", [])):
            at.setdefault((column.get("header") or "").casefold(), index)
        for text in chain:
            index = at.get(text.casefold())
            if index is None:
                continue
            column = profile["columns"][index]
            if column.get("values") is None:
                section.too_many = (text, column.get("distinct") or 0)
                return section
            others, exact = not_their_own(choices, profile, index, at)
            section.exact = section.exact and exact
            for value, count in [*column["values"], *others]:
                key = value_key(value)
                if key:
                    counts[key] = (counts.get(key) or 0) + count
                    texts.setdefault(key, value.strip() if isinstance(value, str) else str(value))
        counts = {key: count for key, count in counts.items() if count > 0}  # only in rows left out: none
    chosen = {value_key(text): (text, target) for text, target in choices.values.items()}
    for key, (text, _) in chosen.items():
        counts.setdefault(key, None)
        texts.setdefault(key, text)
    for key, count in sorted(counts.items(), key=lambda item: (-(item[1] or 0), texts[item[0]].casefold())):
        text = texts[key]
        found = pre_matched(text)
        offer = None
        if key in chosen:
            target = chosen[key][1]
            choice = REJECT if target is None else target
        else:
            offer = None if found else offered_type(text)
            choice = found or offer or ""
        section.rows.append(ValueRow(text, count, choice, found is not None, key in chosen, offer is not None))
    return section


def not_their_own(
    choices: Choices, profile: dict, index: int, at: dict[str, int]
) -> tuple[list[tuple[str, int]], bool]:
    """Return the counts to add to the values of a column of the file (*index*; *at*: each header's
    column) for the rows the import reads with each value: less a product export's variable and grouped
    products' own rows, left out; with the column naming each row's item chosen, plus the rows continuing
    an item that take the value from the item's first row, unless they hold nothing in the matched
    columns (left out too). Both as item_values.ItemValues counted them. And whether that is every row:
    False when a row may take a value from its item's first row that was not counted (another column
    names the items, or the profile is from before they were counted)."""
    items = profile.get("items") or {}
    counted = items.get("columns", {}).get(str(index)) or {"continued": [], "left_out": []}
    others = [(value, -count) for value, count in counted["left_out"]]
    if not choices.group_by:
        return others, True
    if items.get("by", "").casefold() != choices.group_by.casefold() or index in items.get("uncounted", ()):
        return others, not profile["columns"][index].get("blank")
    read = {at[text.casefold()] for fld in FIELDS for text in choices.chain(fld) if text.casefold() in at}
    kinds = items["kinds"]
    others += [(value, count) for value, kind, count in counted["continued"] if read.intersection(kinds[kind])]
    return others, True


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
