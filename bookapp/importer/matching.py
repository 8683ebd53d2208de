"""What the matching page offers and reads back: for each book field a column (then fallback columns) and
a value for every row, and Book type's value matches, suggested from the header and the column profile,
read from a mapping, read from the page's form, and turned into a Mapping. (Whether an upload's Book type
values send it here at all: book_types; the values listed to match: value_matches; the preview of a
file's first rows read with them: preview.)

Nothing is guessed for a required field beyond what the header's synonyms say and what a column's values
show (valid ISBNs; years from 1450 to next year): no value for every row is ever suggested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .book_types import pre_matched
from .cells import looks_like
from .errors import ValueProblem
from .fields import FIELDS, LABELS, OPTIONAL_FIELDS, REQUIRED_FIELDS
from .groups import suggested_group
from .headers import field_of, last_resort, without_ids_as_years
from .mapping import FIXED_VALUES, NO_DEFAULT, Mapping, header_text
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
