"""Rows that continue the item above them: a shop export's variants.

A shop's product export writes one row per variant (hardcover, paperback), each with its own barcode,
price and stock, and the product's own details (title, vendor, type, description) on its first row
only: Shopify leaves them blank on the rows after it, which share its Handle. A mapping's ``group_by``
names that column; a row whose cell there is the same as the row above's continues that item, and
its blank cells in the book's own details are taken from the item's first row, before the row is
validated, so every later step (the rejected rows' cells, the per-row report, a resumed import) sees
the row as it was filled.

A row that holds nothing in any column a field reads (Shopify's rows that only add an image) is not
filled: it is left out, as any such row is.

WooCommerce names the item the other way round: a variable product's own row (no price or stock: see
left_out.is_product_row) has a blank Parent, and each of its variations under it names it there, as
"id:<its ID>" or by its SKU. With Parent as the group column, a row with a blank Parent starts an item
named by its own ID and SKU (the item names: HeaderMap.item_names), which the rows naming it continue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from .cells import cell_text
from .columns import NOTHING_PASSED_OVER, is_blank_cell
from .mapping import header_text
from .text_values import BLANK_WORDS, PASSED_OVER

#: The fields a continuing row takes from its item's first row where its own cells are blank: the
#: book's details. Never its ISBN, price or stock, which each variant has of its own (a blank one
#: there stays blank, and the row says so).
SHARED_FIELDS = ("title", "author", "book_type", "year_published", "no_of_pages", "description")
#: Headers suggested as the column naming each row's item (casefolded): Shopify's product Handle, and the
#: Parent a WooCommerce variation names its product in.
GROUP_HEADERS = ("handle", "parent")
#: The cells of the group column (and of those naming an item) that name none though they are text: what
#: numeric tools write for a blank, as a title reads them (text_values.BLANK_WORDS). A product export one wrote
#: back has nan in each row that continues no item (a WooCommerce product's blank Parent): not one item of all.
NO_ITEM = BLANK_WORDS["title"]


def suggested_group(headers: Iterable[object]) -> str:
    """Return the header suggested as the column naming each row's product (Shopify's Handle), or ""."""
    texts = {header_text(h).casefold(): header_text(h) for h in headers}
    return next((texts[h] for h in GROUP_HEADERS if h in texts), "")


class SharedColumns(tuple):
    """The columns a continuing row may take from its item's first row, in order, and (*passed_over*) per
    column some field reads, the cells it holds nothing in though they are text: the words its field reads
    as blank (text_values.PASSED_OVER: a numeric tool's nan; those of every field reading it)."""

    passed_over: dict[int, frozenset[str]]

    def __new__(cls, positions: Iterable[int], passed_over: dict[int, frozenset[str]]) -> SharedColumns:
        shared = super().__new__(cls, positions)
        shared.passed_over = passed_over
        return shared

    def __getnewargs__(self) -> tuple[tuple[int, ...], dict[int, frozenset[str]]]:  # pickled with its words
        return tuple(self), self.passed_over


def shared_positions(positions: dict[str, int], fallbacks: dict[str, tuple[int, ...]]) -> SharedColumns:
    """Return the columns a continuing row may take from its item's first row (every column of a
    shared field's chain), with the words each column some field reads holds nothing in."""
    found = {positions[f] for f in SHARED_FIELDS if f in positions}
    found.update(p for f in SHARED_FIELDS for p in fallbacks.get(f, ()))
    passed_over: dict[int, frozenset[str]] = {}
    for fld, position in positions.items():
        for at in (position, *fallbacks.get(fld, ())):
            words = PASSED_OVER.get(fld, frozenset())
            passed_over[at] = passed_over[at] & words if at in passed_over else words
    return SharedColumns(sorted(found), passed_over)


def group_key(cells: Sequence[object], position: int) -> object:
    """Return the item a row names in the group column (None: it names none, so it continues nothing)."""
    cell = cells[position] if position < len(cells) else None
    if is_blank_cell(cell, NO_ITEM):
        return None
    return cell.strip() if isinstance(cell, str) else cell


def own_names(cells: Sequence[object], item_names: Sequence[tuple[int, str]]) -> set[str]:
    """Return the names a row's item goes by in the group column of the rows continuing it ("id:101",
    its SKU): none unless *item_names* says where they are."""
    return {
        prefix + cell_text(cells[position]).strip()
        for position, prefix in item_names
        if position < len(cells) and not is_blank_cell(cells[position], NO_ITEM)
    }


class Items:
    """Which item each row of a file continues, told a row at a time in the file's order.

    An item starts at a row whose group cell differs from the row above's (or is the first to have
    one); a row with a blank group cell starts none and ends the one above, unless *item_names* gives
    it names of its own (a product export's parent: see own_names), which the rows under it continue
    when their group cell is one of them."""

    def __init__(self, group_at: int, item_names: Sequence[tuple[int, str]] = ()):
        self.group_at, self.item_names = group_at, item_names
        self.key: object = None
        self.first: Sequence[object] | None = None
        self.names: set[str] = set()

    def first_row(self, cells: Sequence[object]) -> Sequence[object] | None:
        """Return the first row of the item the row continues; None when it continues none."""
        this = group_key(cells, self.group_at)
        if this is None:
            self.key = None
            self.names = own_names(cells, self.item_names) if self.item_names else set()
            self.first = cells if self.names else None
        elif this != self.key and (not self.names or cell_text(this).strip() not in self.names):
            self.key, self.first, self.names = this, cells, set()
        else:
            return self.first
        return None


class FilledCells(list):
    """A continuing row's cells, some of them taken from its item's first row where its own were blank:
    which (*taken*, their positions) and that row's number (*first_row*), so that what shows the row says
    which of its values the file held in another row."""

    def __init__(self, cells: Iterable[object], taken: Sequence[int], first_row: int | None):
        super().__init__(cells)
        self.taken, self.first_row = tuple(taken), first_row


def continued(
    rows: Iterable[tuple[int, Sequence[object]]],
    group_at: int,
    fill: Sequence[int],
    read_columns: Sequence[int],
    item_names: Sequence[tuple[int, str]] = (),
) -> Iterator[tuple[int, Sequence[object]]]:
    """Yield *rows* with each continuing row's blank *fill* cells taken from its item's first row (see
    Items), unless the row has nothing in the *read_columns* (it is left out): such a row's cells are
    FilledCells, which say what was taken. A cell is blank as its field reads it (*fill*'s passed_over): a
    numeric tool's nan is, a title's "Nan" is not; a continuing row's nan is filled, a first row's not taken."""
    items = Items(group_at, item_names)
    first_number = None
    words = fill.passed_over if isinstance(fill, SharedColumns) else {}

    def blank_at(cells: Sequence[object], i: int) -> bool:
        return is_blank_cell(cells[i], words.get(i, NOTHING_PASSED_OVER))

    for number, cells in rows:
        first = items.first_row(cells)
        if first is None:
            if items.first is cells:  # this row starts an item
                first_number = number
        elif any(not blank_at(cells, i) for i in read_columns if i < len(cells)):
            blank = [i for i in fill if i < len(cells) and i < len(first) and blank_at(cells, i)]
            if blank:
                taken = [i for i in blank if not blank_at(first, i)]
                cells = FilledCells(cells, taken, first_number)
                for i in taken:
                    cells[i] = first[i]
        yield number, cells
