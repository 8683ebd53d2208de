"""How a file's columns fill the book fields when its header alone does not say.

A Mapping names, per field, the file's columns to read (a list is a fallback chain: the first
non-blank cell, or the next column's cell when the first cannot be read), a value for every row
(a default: alone, or after the chain when every column of it is blank), and value maps for fields
with a fixed list (Book type): a file's value → the stored value, or None to reject those rows.
Fields the mapping does not name are matched from the header's synonyms, as for any file.

Its JSON form, kept on the import and in saved profiles, and taken by the API and the CLI:

    {"columns": {"title": "Title", "isbn": ["ISBN13", "ISBN"], "quantity": "Owned Copies",
                 "description": null},
     "defaults": {"book_type": "Classic", "price": "0.00"},
     "values": {"book_type": {"Fiction": "Classic", "Manga": "Comic", "Poetry": null}},
     "group_by": "Handle"}

(`null` for a column: leave an optional field empty, even if a header would match it.) ``group_by``
names the column of a shop export's item: a row with the same value as the row above continues that
item and takes its blank details from the item's first row (see importer.groups).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field

from .errors import FileProblem, ValueProblem
from .fields import BOOK_TYPES, FIELDS, LABELS, OPTIONAL_FIELDS
from .headers import HeaderMap, field_of, normalise_header, parent_names, product_type_column, synonym_rank
from .values import converters

#: Fields whose values come from a fixed list, so a value map can send each file value to one of them.
FIXED_VALUES = {"book_type": BOOK_TYPES}
#: Fields a default may not fill: one value for every row would make every row the same book.
NO_DEFAULT = frozenset({"isbn", "title"})
#: The longest default or value-map text accepted (the field's own converter checks the rest).
MAX_SETTING_CHARS = 255
#: The most value-map entries for one field.
MAX_VALUE_ENTRIES = 10_000


class MappingError(ValueError):
    """The mapping itself is malformed; the message says how, in the mapping's own words."""


def _default_problem(fld: str, text: str, value_map: dict[str, str | None] | None) -> str | None:
    """What is wrong with *text* as *fld*'s value for every row (None: it reads), so that a value no row
    could take ("Fiction" as a book type) is refused where it is typed, not as every row's problem.

    Read as the rows read it: through the field's value map first, then its converter (a price passes
    with a decimal point or a decimal comma: a semicolon-separated file reads the latter)."""
    if value_map:
        found = {value_key(k): v for k, v in value_map.items()}.get(value_key(text), "")
        if found is None:
            return f"{LABELS[fld]}'s value for every row, {text!r}, is a value you chose to reject."
        if found:
            return None
    try:
        converters()[fld](text)
    except ValueProblem as exc:
        try:
            converters(decimal_comma=True)[fld](text)
        except ValueProblem:
            return f"{LABELS[fld]}'s value for every row, {text!r}, {exc}."
    return None


def _price_with_a_point(text: str) -> str:
    """A price for every row typed with a decimal comma ("0,00", "12,50 €") written with a point, so that
    every file reads it as typed: a comma-separated file reads its prices with a point and would refuse
    "0,00" in each of its rows. A price that reads with a point ("1,234.50", or "1,234") is kept as typed,
    and so is one that reads neither way (a stored mapping's rows then say what is wrong with it)."""
    try:
        converters()["price"](text)
    except ValueProblem:
        if "," in text:
            try:
                return str(converters(decimal_comma=True)["price"](text))
            except ValueProblem:
                pass
    return text


def header_text(header: object) -> str:
    """Return a header cell as the text a mapping names it by."""
    return "" if header is None else str(header).strip()


def header_key(headers: list[object]) -> str:
    """Return the key that tells files with the same header row (case and spacing aside) apart."""
    normal = "\x1f".join(_same_header(h) for h in headers)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def _same_header(header: object) -> str:
    """A header as a mapping finds it: case and runs of spaces aside."""
    return " ".join(header_text(header).split()).casefold()


def value_key(cell: object) -> object:
    """Return the key a value map looks a cell up by: text with its case and spacing evened out
    ("Fiction", "fiction " and "FICTION" are one value), other cells as they are."""
    return " ".join(cell.split()).casefold() if isinstance(cell, str) else cell


@dataclass(frozen=True)
class Mapping:
    """A mapping as the person gave it: columns by header text, defaults and value maps."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: The header of the column that names each row's item (None: every row stands alone).
    group_by: str | None = None

    def __bool__(self) -> bool:
        return bool(self.columns or self.defaults or self.values or self.group_by)

    @classmethod
    def from_json(cls, data: object, *, as_typed: bool = False) -> Mapping:
        """Read the JSON form; raise MappingError naming what is wrong.

        *as_typed*: the mapping was just given (a form, the API, the CLI), so each value for every row
        is also read as the rows would read it and refused when no row could take it. A stored one
        (a profile or an import saved before that check) is read as it is: its rows say what is wrong."""
        if data is None:
            return cls()
        if not isinstance(data, MappingABC):
            raise MappingError("The mapping must be a JSON object with columns, defaults and values.")
        unknown = set(data) - {"columns", "defaults", "values", "group_by", "save_as"}
        if unknown:
            raise MappingError(f"The mapping has unknown keys: {', '.join(sorted(map(str, unknown)))}.")
        columns: dict[str, tuple[str, ...]] = {}
        for name, value in _object(data, "columns").items():
            fld = _field(name, "columns")
            if value is None or value == []:
                if fld not in OPTIONAL_FIELDS:
                    raise MappingError(f"{LABELS[fld]} is required: it cannot be left without a column.")
                columns[fld] = ()
                continue
            chain = [value] if isinstance(value, str) else value
            if not isinstance(chain, list) or not all(isinstance(h, str) and h.strip() for h in chain):
                raise MappingError(f"columns.{fld} must be a header, or a list of headers (a fallback chain).")
            columns[fld] = tuple(dict.fromkeys(h.strip() for h in chain))
        defaults: dict[str, str] = {}
        for name, value in _object(data, "defaults").items():
            fld = _field(name, "defaults")
            if fld in NO_DEFAULT:
                raise MappingError(f"{LABELS[fld]} cannot have one value for every row; map it to a column.")
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise MappingError(f"defaults.{fld} must be text or a number.")
            defaults[fld] = _short(str(value).strip(), f"defaults.{fld}")
        values: dict[str, dict[str, str | None]] = {}
        for name, table in _object(data, "values").items():
            fld = _field(name, "values")
            if fld not in FIXED_VALUES:
                raise MappingError(
                    f"values.{fld}: only {', '.join(LABELS[f] for f in FIXED_VALUES)} takes a value map."
                )
            if not isinstance(table, MappingABC) or len(table) > MAX_VALUE_ENTRIES:
                raise MappingError(f"values.{fld} must be an object of file value → stored value.")
            allowed = {t.casefold(): t for t in FIXED_VALUES[fld]}
            entries: dict[str, str | None] = {}
            for raw, target in table.items():
                if target is None or target == "":
                    entries[_short(str(raw).strip(), f"values.{fld}")] = None
                    continue
                if not isinstance(target, str) or target.strip().casefold() not in allowed:
                    raise MappingError(
                        f"values.{fld}: {target!r} is not one of {', '.join(FIXED_VALUES[fld])} (or null to reject)."
                    )
                entries[_short(str(raw).strip(), f"values.{fld}")] = allowed[target.strip().casefold()]
            if entries:
                values[fld] = entries
        for fld, text in defaults.items() if as_typed else ():
            if problem := _default_problem(fld, text, values.get(fld)):
                raise MappingError(problem)
        # Stored mappings too: a profile saved before typed prices were kept with a point still holds "0,00".
        if "price" in defaults:
            defaults["price"] = _price_with_a_point(defaults["price"])
        group_by = data.get("group_by")
        if group_by is not None and not (isinstance(group_by, str) and group_by.strip()):
            raise MappingError("group_by must be a header of the file (the column naming each row's item), or null.")
        group_by = _short(group_by.strip(), "group_by") if group_by else None
        return cls(columns, defaults, values, group_by)

    def to_json(self) -> dict:
        """Return the JSON form (chains as lists, single columns as text)."""
        columns = {f: (None if not c else c[0] if len(c) == 1 else list(c)) for f, c in self.columns.items()}
        data = {
            "columns": columns,
            "defaults": dict(self.defaults),
            "values": {f: dict(v) for f, v in self.values.items()},
        }
        if self.group_by:  # only when set: a mapping without one keeps the JSON (and key) it always had
            data["group_by"] = self.group_by
        return data

    def header_map(self, headers: list[object], header_row: int | None = None) -> HeaderMap:
        """Resolve against a file's header row (the file's row *header_row*, when known): positions of
        every field, synonyms for the rest.

        Raises FileProblem when a named column is not in the file, or a required field has neither
        a column nor a default."""
        header_map, absent = self.resolve(headers)
        if absent:
            shown = ", ".join(repr(t) for t in header_map.headers if t) or "none"
            raise FileProblem(
                f"The mapping names columns this file does not have: {', '.join(map(repr, absent))}. "
                f"The file's columns: {shown}."
            )
        if header_map.missing:
            found = ", ".join(repr(t) for t in header_map.headers if t) or "none"
            missing = ", ".join(LABELS[f] for f in header_map.missing)
            raise FileProblem(
                f"The file has no column for: {missing}. Match its columns to the book fields (or name them "
                f"in {header_row_words(header_row)}, as the template does); headers found: {found}."
            )
        return header_map

    def as_read(self, header_map: HeaderMap) -> Mapping:
        """Return this mapping as *header_map* (its resolution against a file's header) reads the file:
        every field named, by its column or chain, or by none (an optional field left empty), so that
        the header's synonyms are never asked again: an import's later reads (a resume, the confirm of a
        dry run, its reports) meet the columns its first read met, whatever a later release's synonyms say."""
        texts = header_map.headers
        columns: dict[str, tuple[str, ...]] = {}
        for fld in FIELDS:
            if fld in header_map.positions:
                chain = (header_map.positions[fld], *header_map.fallbacks.get(fld, ()))
                columns[fld] = tuple(texts[i] for i in chain)
            elif fld in OPTIONAL_FIELDS and fld not in self.defaults:
                columns[fld] = ()
        group_by = None if header_map.group_by is None else texts[header_map.group_by]
        return Mapping(columns, dict(self.defaults), dict(self.values), group_by)

    def resolve(self, headers: list[object]) -> tuple[HeaderMap, list[str]]:
        """Return the header map (unchecked) and the columns named by the mapping that the file lacks."""
        texts = [header_text(h) for h in headers]
        position_of: dict[str, int] = {}
        for index, text in enumerate(texts):
            position_of.setdefault(_same_header(text), index)
        chains: dict[str, tuple[int, ...]] = {}
        absent = []
        for fld, chain in self.columns.items():
            found = []
            for text in chain:
                index = position_of.get(_same_header(text))
                if index is None:
                    absent.append(text)
                else:
                    found.append(index)
            chains[fld] = tuple(found)
        group_by = None
        if self.group_by:
            group_by = position_of.get(_same_header(self.group_by))
            if group_by is None:
                absent.append(self.group_by)
        used = {i for chain in chains.values() for i in chain}
        product_type = product_type_column(texts)  # a product's type (simple, variable), no book's kind
        # The fields the mapping leaves to the header's synonyms: of two columns naming one field, the
        # plainer name ("Price" before "Unit price"), then the one further left.
        for index, text in sorted(enumerate(texts), key=lambda item: synonym_rank(item[1])):
            fld = field_of(text)
            if (
                fld is not None
                and fld not in chains
                and fld not in self.defaults
                and index not in used
                and index != product_type
            ):
                chains[fld] = (index,)
                used.add(index)
        positions = {f: c[0] for f, c in chains.items() if c}
        fallbacks = {f: c[1:] for f, c in chains.items() if len(c) > 1}
        ignored = [t for i, t in enumerate(texts) if t and i not in used and i != group_by]
        header_map = HeaderMap(
            texts,
            positions,
            ignored,
            fallbacks=fallbacks,
            defaults=dict(self.defaults),
            values=self.values,
            group_by=group_by,
            product_type=product_type,
            item_names=parent_names(texts, group_by),
        )
        return header_map, absent


def header_row_words(header_row: int | None) -> str:
    """Return where a file's header is, in words: "the header row, row 3" ("the header row" when not known)."""
    return "the header row" if header_row is None else f"the header row, row {header_row}"


def map_headers(headers: list[object], mapping: Mapping | None = None) -> HeaderMap:
    """Map *headers* to fields (by *mapping*, then synonyms); refuse the file when a required field
    has no column and no default."""
    return (mapping or Mapping()).header_map(headers)


def missing_fields(headers: list[object], mapping: Mapping | None = None) -> list[str]:
    """Return the required fields *headers* (with *mapping*) leave without a column or a default."""
    return (mapping or Mapping()).resolve(headers)[0].missing


def _object(data: MappingABC, key: str) -> MappingABC:
    value = data.get(key) or {}
    if not isinstance(value, MappingABC):
        raise MappingError(f"{key} must be an object keyed by book field.")
    return value


def _field(name: object, where: str) -> str:
    if name in FIELDS:
        return name
    by_label = {normalise_header(LABELS[f]): f for f in FIELDS}
    found = by_label.get(normalise_header(name))
    if found is None:
        raise MappingError(f"{where}: {name!r} is not a book field; the fields are {', '.join(FIELDS)}.")
    return found


def _short(text: str, where: str) -> str:
    if len(text) > MAX_SETTING_CHARS:
        raise MappingError(f"{where}: a value may have at most {MAX_SETTING_CHARS} characters.")
    return text
