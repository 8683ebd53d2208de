"""Match a file's header row to book fields, tolerant of case, accents, spacing, punctuation and synonyms."""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from .fields import FIELDS, LABELS, REQUIRED_FIELDS

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

# Each field's English names first, then the French, German and Spanish ones shops use (matched accents
# aside, as every name is: "Annee" is "Année"). A publisher's column (Éditeur, Verlag, Editorial) fills none.
# fmt: off
_SYNONYMS = {
    "title": ["title", "book title", "name", "book name", "book", "titre", "titel", "título"],
    "author": ["author", "authors", "author name", "writer", "by", "primary author", "creators", "creator",
               "auteur", "autor"],
    "book_type": ["book type", "type", "genre", "category", "kind", "booktype", "typ", "tipo", "género"],
    # "variant barcode" is Shopify's; a plain "Barcode" is often a library's own label (LibraryThing's), no ISBN.
    # A book's GTIN (a shop's "GTIN, UPC, EAN, or ISBN") is its ISBN-13; ean_isbn13 and upc_isbn10 are a
    # catalogue app's.
    "isbn": ["isbn", "isbn 13", "isbn13", "isbn 10", "isbn10", "ean", "isbn number", "isbn no", "variant barcode",
             "gtin", "gtin upc ean or isbn", "ean isbn13", "upc isbn10"],
    "year_published": ["year published", "year", "published", "publication year", "pub year", "year of publication",
                       "publish date", "publication date", "date published", "année", "erscheinungsjahr", "jahr", "año"],
    # Not "cost": in a shop's list that is what the shop paid, often beside its Price.
    # "standard price" is a shop inventory template's (its sale price is a column of its own).
    # "purchase price" is last: a collection program's only price (what its owner paid), read where no other
    # column names the price, never beside one (see LAST_RESORT).
    "price": ["price", "unit price", "retail price", "rrp", "variant price", "regular price", "list price",
              "standard price", "start price", "prix", "preis", "precio", "purchase price"],
    "no_of_pages": ["no of pages", "number of pages", "pages", "page count", "num pages", "no pages",
                    "nombre de pages", "seiten", "seitenzahl", "páginas"],
    # Not "in stock": a shop's export uses it for a yes/no flag (1 or 0) beside its Stock count.
    "quantity": ["quantity", "qty", "stock", "count", "copies", "units", "variant inventory qty",
                 "inventory quantity", "on hand", "quantité", "qté", "menge", "anzahl", "bestand", "cantidad",
                 "existencias"],
    # "body html" is Shopify's Body (HTML): the product's description, read as the text its HTML shows.
    # Not "short description": WooCommerce's teaser beside its Description.
    "description": ["description", "summary", "blurb", "notes", "synopsis", "product description", "résumé",
                    "beschreibung", "descripción", "body html"],
}
# fmt: on

#: The columns that tell a WooCommerce product export (normalised): there, Type is the product's type
#: (simple, variable, variation, grouped, external), never a book's kind, and Parent names the product a
#: variation belongs to ("id:<its ID>", or its SKU).
_PRODUCT_EXPORT = frozenset({"type", "parent", "visibilityincatalog", "sku"})
#: How a product export's Parent names a product, by the column of the product's own row it is read from.
PARENT_NAMES = (("id", "id:"), ("sku", ""))

#: Columns that describe a stored row, never something a file may set.
PROTECTED = frozenset({"id", "pk", "createdat", "updatedat", "created", "updated", "importid", "createdbyimportid"})


def normalise_header(header: object) -> str:
    """Return *header* lower-cased and without accents ("Quantité" → "quantite"), with everything but
    letters and digits removed."""
    text = str(header if header is not None else "").casefold()
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", text)


_LOOKUP = {normalise_header(name): fld for fld, names in _SYNONYMS.items() for name in names}
assert set(_LOOKUP.values()) == set(FIELDS)
#: How plainly each name says its field: its place in the field's list (the field's own name first).
_RANK = {normalise_header(name): rank for names in _SYNONYMS.values() for rank, name in enumerate(names)}
#: Names that fill their field only where no other column names it, never as a column read where another
#: is blank: Purchase Price is what a collector paid, no selling price, beside the file's own Price.
LAST_RESORT = frozenset({normalise_header("purchase price")})


def last_resort(header: object) -> bool:
    """Whether *header* names its field only where no other column does (see LAST_RESORT)."""
    return normalise_header(undecorated(header)) in LAST_RESORT


#: Words of a header naming an identifier (a catalogue's Book Id, a stock number, a code): numbers that
#: are no years, though some (2020 to 2027) look like years.
_ID_WORDS = frozenset({"id", "ids", "identifier", "no", "nr", "num", "number", "code", "key", "ref", "reference"})
#: Words of a header naming a date or a year ("Date", "Entry Date", "Année", "Jahr").
_DATE_WORDS = frozenset({"date", "year", "published", "publication", "annee", "jahr", "datum", "ano", "fecha"})


def header_words(header: object) -> frozenset[str]:
    """Return the words of *header*, lower-cased and without accents ("BookID" and "book_id" are book, id)."""
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(header if header is not None else ""))
    return frozenset(map(normalise_header, re.split(r"[\W_]+", text))) - {""}


def without_ids_as_years(columns: list[dict]) -> list[dict]:
    """Return a file profile's *columns* (importer.profiling) less those Year published is not guessed from:
    of the columns whose values look like years, one named an id, a number or a code where another is named
    a date or a year (a LibraryThing export's Book Id, 2020 to 2027 in a small library, before its Date)."""
    years = [c for c in columns if c.get("looks_like") == "year_published"]
    if not any(header_words(c.get("header")) & _DATE_WORDS for c in years):
        return columns
    return [c for c in columns if c not in years or not header_words(c.get("header")) & _ID_WORDS]


@dataclass
class HeaderMap:
    """Which column holds which field, and what was left aside (made by importer.mapping)."""

    headers: list[str]
    #: The column each field reads first.
    positions: dict[str, int]
    ignored: list[str] = field(default_factory=list)
    #: Columns read, in order, where the first one's cell is blank or cannot be read.
    fallbacks: dict[str, tuple[int, ...]] = field(default_factory=dict)
    #: A value for every row (the text a person typed), used where the field's columns are blank.
    defaults: dict[str, str] = field(default_factory=dict)
    #: Per field with a fixed list: file value → stored value, or None to reject the row.
    values: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: The column that names the item each row belongs to: a row naming the same one as the row above
    #: continues it (see importer.groups).
    group_by: int | None = None
    #: A product export's Type column (the product's type, not a book's: see product_type_column).
    product_type: int | None = None
    #: With group_by a product export's Parent: the columns of a product's own row its variations name it
    #: by, each with the prefix Parent writes before it ((ID's position, "id:"), (SKU's position, "")).
    item_names: tuple[tuple[int, str], ...] = ()

    @property
    def missing(self) -> list[str]:
        return [f for f in REQUIRED_FIELDS if f not in self.positions and f not in self.defaults]

    @property
    def absent(self) -> list[str]:
        """The fields the file gives no value for at all: no column and no value for every row (optional
        ones only, since a required field missing stops the import). An update leaves them as stored."""
        return [f for f in FIELDS if f not in self.positions and f not in self.defaults]

    def header_of(self, fld: str) -> str:
        """Return the header a field's problems are reported under."""
        if fld in self.positions:
            return self.headers[self.positions[fld]] or f"Column {self.positions[fld] + 1}"
        return f"{LABELS[fld]} (same for every row)"


def product_type_column(headers: Sequence[object]) -> int | None:
    """Return the position of a WooCommerce product export's Type column (the product's type: simple,
    variable, variation…), or None when the header is not such an export's."""
    names = [normalise_header(h) for h in headers]
    if not _PRODUCT_EXPORT.issubset(names):
        return None
    return names.index("type")


def parent_names(headers: Sequence[object], group_by: int | None) -> tuple[tuple[int, str], ...]:
    """Return the columns a product export's variations name their product by, when *group_by* is its
    Parent column (see HeaderMap.item_names); none for any other grouping."""
    names = [normalise_header(h) for h in headers]
    if group_by is None or names[group_by] != "parent" or product_type_column(headers) is None:
        return ()
    return tuple((names.index(name), prefix) for name, prefix in PARENT_NAMES if name in names)


def header_score(headers: list[object]) -> int:
    """Return how many required fields *headers* would fill (to pick the sheet with books)."""
    found = {field_of(h) for h in headers}
    return sum(1 for f in REQUIRED_FIELDS if f in found)


#: What a listing tool's header may carry around a name: a * marking a required column, a C: (an item
#: specific) or Product: prefix (a marketplace's File Exchange sheet: "*StartPrice", "C:Author").
_DECORATION = re.compile(r"\A\s*\*?\s*(?:(?:C|Product)\s*:\s*)?", re.IGNORECASE)


def undecorated(header: object) -> object:
    """Return a header without a listing tool's decorations ("*Title" → "Title", "C:Author" → "Author")."""
    if isinstance(header, str) and header[:1] in "*CcPp " and (bare := _DECORATION.sub("", header, count=1)):
        return bare
    return header


def field_of(header: object) -> str | None:
    """Return the book field a header names, if any: by its name, else by its name before a bracketed
    note ("Price (EUR)", a shop's "Author (product.metafields.custom.author)"), a listing tool's * or C:
    aside."""
    header = undecorated(header)
    found = _LOOKUP.get(normalise_header(header))
    if found is None and isinstance(header, str) and "(" in header.lstrip("("):
        found = _LOOKUP.get(normalise_header(header[: header.index("(", 1)]))
    return found


def synonym_rank(header: object) -> int:
    """Return how plainly a header names its field (0: the field's own name), so that of two columns naming
    one field ("Unit price" and "Price"), the plainer one is read whatever their order (a name before a
    bracketed note after every plain one)."""
    header = undecorated(header)
    rank = _RANK.get(normalise_header(header))
    if rank is None and field_of(header) is not None:
        return len(_RANK) + _RANK[normalise_header(header[: header.index("(", 1)])]
    return len(_RANK) * 2 if rank is None else rank


#: How many of a file's first rows may hold its header: a shop's sheet may open with a title row and a
#: blank row above it. Every reader (CSV, workbooks, the upload's header read) looks this far, no further.
HEADER_SEARCH_ROWS = 10
#: The required fields a row under row 1 must name to be taken as the header (and more than row 1 does).
HEADER_FIELDS_BELOW = 2
#: The required fields row 1 names to be taken as the header unless a fuller one is under it: a title row
#: may name two ("Title: Hartley Books stock list, Year: 2025") and still be no header; one naming three
#: or more by chance gives way only to a header under it that names more (see header_index).
HEADER_FIELDS_AT_ONCE = 3


def header_index(rows: Sequence[Sequence[object]]) -> int:
    """Return which of a file's first rows (row 1 first, blank rows included) is its header.

    Row 1, when it names every required field (no title does), or at least HEADER_FIELDS_AT_ONCE of them
    and no row under it (among the first HEADER_SEARCH_ROWS) is a fuller header: one naming as many
    required fields, more fields in all, in more cells than row 1 fills (a title row's label and value
    pairs, "Title | Spring stock | Type | Stock take | Year | 2025", do not span the table's columns).
    When row 1 names fewer (a title, "Hartley Books — stock list", or one naming two fields by chance),
    the first row that names at least HEADER_FIELDS_BELOW and more than row 1, the most of them. A blank
    row 1 is left as the header, to be refused as one."""
    if not rows:
        return 0
    first = header_score(rows[0])
    if looks_like_header(rows[0]) or not _filled(rows[0]):
        return 0
    if first >= HEADER_FIELDS_AT_ONCE:
        return _header_under_title(rows, first)
    best, index = max(HEADER_FIELDS_BELOW - 1, first), 0
    for at, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=1):
        score = header_score(row)
        if score > best:
            best, index = score, at
    return index


def _header_under_title(rows: Sequence[Sequence[object]], first: int) -> int:
    """Return the first row under row 1 that is a fuller header than row 1 (see header_index), naming the
    most fields, or 0 (row 1) when there is none."""
    named, filled = len(_fields_named(rows[0])), _filled(rows[0])
    index = 0
    for at, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=1):
        fields = _fields_named(row)
        if len(fields) > named and _filled(row) > filled and header_score(row) >= first:
            named, index = len(fields), at
    return index


def _fields_named(row: Sequence[object]) -> set[str]:
    return {f for f in map(field_of, row) if f is not None}


def _filled(row: Sequence[object]) -> int:
    """Return how many of a row's cells hold something (cells of spaces alone hold nothing)."""
    return sum(1 for c in row if c is not None and str(c).strip())


def looks_like_header(row: Sequence[object]) -> bool:
    """Whether row 1 is the header without looking at the rows under it (the usual file: free): it names
    every required field, as no title row does."""
    return header_score(row) == len(REQUIRED_FIELDS)
