"""One field's column of a chunk: where its cells come from (a column, a fallback chain, a default, a
value map) and how they are converted, in bulk where the cells allow it and one by one where not."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from itertools import repeat
from operator import is_

from .catalogue_values import without_catalogue_marks
from .cells import cell_text, shown
from .errors import UnsavedFormula, ValueProblem
from .fields import LABELS, MAX_LENGTHS, OPTIONAL_FIELDS
from .isbn_fast import fast_isbns
from .mapping import value_key
from .markup import looks_like_markup
from .plain_text import TEXT_OR_EMPTY, all_plain, cells_to_convert
from .text_values import BLANK_WORDS, PASSED_OVER, PASSED_OVER_LENGTH
from .values import held_several_isbns, lost_leading_zero, read_past_qualifier

#: Fields whose values repeat (types, years, prices…): each distinct cell is converted once.
MEMOISED_FIELDS = frozenset({"book_type", "year_published", "price", "no_of_pages", "quantity"})
#: How many distinct cells a memo keeps per field before it stops growing.
MEMO_LIMIT = 20_000
#: Cell types a memo keys by the cell itself (no key of another type equals one of them); cells of other
#: types are keyed as (type, cell).
_OWN_KEYS = frozenset({str, float})
#: What a memo gives for a cell it has not converted yet.
_NOT_SEEN = object()
#: dict.get(cell, cell): a blank cell ("", as a CSV and calamine give it) becomes None, any other stays itself.
BLANK_TO_NONE: dict[object, None] = {"": None}
#: What a value map gives for a file value it does not list.
_UNLISTED = object()
#: The words a field without any reads as blank (PASSED_OVER's).
NOTHING_PASSED_OVER: frozenset[str] = frozenset()


def is_blank_cell(cell: object, passed_over: frozenset[str] = NOTHING_PASSED_OVER) -> bool:
    """Whether a cell holds nothing: empty, spaces only, or the empty text formula `=""`; or, given a field's
    *passed_over* (text_values.PASSED_OVER: a numeric tool's nan where the field reads it as blank), one of
    those words (looked up only in a cell short enough to be one)."""
    if cell is None:
        return True
    if type(cell) is not str:
        return False
    text = cell.strip()
    return not text or text == '=""' or (len(text) <= PASSED_OVER_LENGTH and text in passed_over)


def first_filled(*cells: object, passed_over: frozenset[str] = NOTHING_PASSED_OVER) -> object:
    """Return the first cell that is not blank (a fallback chain's cell), passing over the words the
    field reads as blank (*passed_over*: a numeric tool's nan) for a later cell that holds a value; else the
    first of those words (its converter says what it is), else an empty cell ("", as a CSV's blank cell is:
    a column of text stays all text)."""
    word = None
    for cell in cells:
        if cell is None:
            continue
        if type(cell) is not str:
            return cell
        text = cell.strip()
        if not text or text == '=""':
            continue
        if len(text) <= PASSED_OVER_LENGTH and text in passed_over:
            if word is None:
                word = cell
            continue
        return cell
    return "" if word is None else word


class Column:
    """One field's column in the file, with its converter and memo.

    *position* is the column read first (None: the field takes its default in every row);
    *fallbacks* the columns read, in order, where it is blank or its cell cannot be read;
    *default* the text used where every column is blank; *values* a value map (file value →
    stored value, None to reject the row); *markup*: its cells may be written in HTML (a description),
    read as their text by its converter; *catalogue_punctuation*: its cells close with a library
    catalogue's punctuation ("Dune /", "Herbert, Frank,"), taken off its own cells' values (a fallback
    column's are read as written), and so are an author's dates ("Herbert, Frank, 1920-1986"); *forms*:
    what tells a cell written in a form its converter reads past that the import counts (a catalogue's
    "c1965.", a quantity's 1.200), by the name of the list of rows so read (validation.ValidRows)."""

    def __init__(
        self,
        field: str,
        position: int | None,
        header: str,
        convert: Callable,
        *,
        text_cells: bool = False,
        fallbacks: tuple[int, ...] = (),
        default: str | None = None,
        values: dict[str, str | None] | None = None,
        markup: bool = False,
        catalogue_punctuation: bool = False,
        forms: Mapping[str, Callable[[object], bool]] | None = None,
    ):
        self.field, self.position, self.header, self.convert = field, position, header, convert
        self.fallbacks, self.default = fallbacks, default
        self.values = {value_key(k): v for k, v in values.items()} if values else None
        #: Rows (indexes into the last chunk) whose cell was repaired on the way in.
        self.repaired: list[int] = []
        self.markup = markup
        #: Rows (indexes into the last chunk) whose cell was written in HTML and read as its text.
        self.from_markup: list[int] = []
        #: Rows (indexes into the last chunk) whose ISBN cell held several ISBNs of the book (read as the first).
        self.first_of_several: list[int] = []
        #: Rows (indexes into the last chunk) whose ISBN cell held a library catalogue's qualifier after the
        #: ISBN ("0441172717 (pbk.)", read as the ISBN).
        self.past_qualifier: list[int] = []
        self.catalogue_punctuation = catalogue_punctuation
        #: Rows (indexes into the last chunk) whose value had a library catalogue's closing punctuation taken off.
        self.punctuation_taken_off: list[int] = []
        self.forms = dict(forms or {})
        #: Rows (indexes into the last chunk) whose value was read from each of the forms, by the form's name.
        self.read_forms: dict[str, list[int]] = {}
        #: The memo's cells written in each of the forms.
        self._form_keys: dict[str, set[object]] = {name: set() for name in self.forms}
        #: Rows (indexes into the last chunk) whose author had the dates (or the fuller form of its forenames) a
        #: catalogue adds to a name taken off.
        self.dates_taken_off: list[int] = []
        #: Whether every cell is known to be text (a CSV's are), so no cell's type needs checking.
        self.text_cells = text_cells
        self.required = field not in OPTIONAL_FIELDS
        #: The cells the field reads as blank though they are text (a numeric tool's nan, a spreadsheet's #N/A).
        self.blank_words = BLANK_WORDS.get(field, frozenset())
        #: The cells the field's chain passes over for its next column's (or its default), as blank: those
        #: words, and for a number, an ISBN or a book type a numeric tool's blank in any case.
        self.passed_over = PASSED_OVER.get(field, NOTHING_PASSED_OVER)
        self.memoised = field in MEMOISED_FIELDS
        self.memo: dict[object, object] = {}  # cell (or (type, cell)) → value
        self.memo_problems: dict[object, str] = {}  # the memo's cells that have a problem → message

    def convert_cell(self, cell: object) -> tuple[object, str | None]:
        """Return (value, problem message or None) for one cell."""
        if isinstance(cell, UnsavedFormula):
            return None, (
                f"{LABELS[self.field]} is a formula (cell {cell}) whose result was never saved: "
                "open the file in Excel, let it calculate, save it and upload it again"
            )
        try:
            value = self.convert(cell)
        except ValueProblem as exc:
            return None, f"{LABELS[self.field]} {exc}"
        if value is None and self.required:
            if type(cell) is str and cell.strip() in self.blank_words:
                return None, f"{LABELS[self.field]} is required; the file writes {cell.strip()}, a numeric tool's blank"
            return None, f"{LABELS[self.field]} is required"
        return value, None

    def source_cells(self, by_position: list[Sequence[object]], count: int) -> list[object]:
        """Return the chunk's cells for this field as the file gives them (the chain's first filled
        cell, or the default)."""
        if self.position is None:
            return [self.default] * count
        cells = by_position[self.position]
        if not self.fallbacks and self.default is None:
            return cells
        chain = [by_position[p] for p in self.fallbacks]
        if self.default is not None:
            chain.append(repeat(self.default, count))
        filled = list(map(partial(first_filled, passed_over=self.passed_over), cells, *chain))
        if self.text_cells and self.default is None:
            # Every column of the chain blank: a blank text cell, as a CSV has (the bulk checks take text only).
            filled = ["" if cell is None else cell for cell in filled]
        return filled

    def convert_source(
        self, by_position: list[Sequence[object]], count: int
    ) -> tuple[list[object], list[object], dict[int, str]]:
        """Convert the chunk's cells for this field; return (cells as read, values, {index: problem})."""
        cells = self.source_cells(by_position, count)
        not_own: Collection[int] = frozenset()
        if self.catalogue_punctuation and (self.fallbacks or self.default is not None):
            own = by_position[self.position]
            not_own = {i for i, cell in enumerate(own) if is_blank_cell(cell, self.passed_over)}
        rejected: list[int] = []
        if self.values is not None:
            cells, rejected = self._mapped(cells)
        values, problems = self.convert_cells(cells, not_own)
        if self.fallbacks and problems:
            self._try_fallbacks(by_position, values, problems)
        for index in rejected:
            values[index] = None
            problems[index] = f"{LABELS[self.field]} {cells[index]!r} is a value you chose to reject"
        if self.values and problems:  # a value not matched: say so, and how (a profile may lack a new one)
            for index, problem in problems.items():
                cell = cells[index]
                if index not in rejected and not is_blank_cell(cell) and value_key(cell) not in self.values:
                    problems[index] = (
                        f"{problem} ({shown(cell_text(cell))!r} was not among the values matched at Match values "
                        "for this import: match it to a type there, or change the cell to one of these types)"
                    )
        return cells, values, problems

    def _mapped(self, cells: list[object]) -> tuple[list[object], list[int]]:
        """Apply the value map; return the cells to convert and the rows whose value is to be rejected."""
        table = self.values
        found = [table.get(value_key(c), _UNLISTED) if c is not None else _UNLISTED for c in cells]
        rejected = [i for i, target in enumerate(found) if target is None]
        mapped = [c if t is _UNLISTED or t is None else t for c, t in zip(cells, found, strict=True)]
        return mapped, rejected

    def _try_fallbacks(self, by_position, values: list[object], problems: dict[int, str]) -> None:
        """Where the chosen cell cannot be read, use the next column of the chain that can."""
        for index in list(problems):
            chosen = None
            for position in (self.position, *self.fallbacks):
                cell = by_position[position][index]
                if is_blank_cell(cell, self.passed_over):
                    continue
                if chosen is None:
                    chosen = cell  # the cell that failed
                    continue
                if self.values is not None:
                    target = self.values.get(value_key(cell), cell)
                    if target is None:
                        continue
                    cell = target
                value, problem = self.convert_cell(cell)
                if problem is None:
                    values[index] = value
                    del problems[index]
                    if self.field == "isbn":
                        self._note_repair(index, cell)
                    elif self.markup and type(cell) is str and looks_like_markup(cell):
                        self.from_markup = sorted({*self.from_markup, index})
                    else:
                        for name in self._forms_of(cell):
                            self.read_forms[name] = sorted({*self.read_forms.get(name, ()), index})
                    break

    def convert_cells(
        self, cells: Sequence[object], not_own: Collection[int] = frozenset()
    ) -> tuple[list[object], dict[int, str]]:
        """Convert a column of cells; return the values and {index: problem}. *not_own*: the rows whose cell
        came from a fallback column or the default, not this column: read as written."""
        self.repaired = []
        self.first_of_several = []
        self.past_qualifier = []
        self.punctuation_taken_off, self.dates_taken_off = [], []
        self.read_forms = {}
        if self.memoised:
            return self._convert_memoised(cells)
        if self.field == "isbn":
            return self._convert_isbns(cells)
        if self.catalogue_punctuation:
            return self._without_catalogue_punctuation(*self._convert_text(cells), not_own)
        return self._convert_text(cells)

    def _convert_text(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        """Convert a column of text (a title, an author, a description), in bulk where it is plain."""
        # HTML is plain text to the bulk checks: its cells go through the converter, which reads their text.
        markup = self.from_markup = self._markup_cells(cells) if self.markup else []
        longest = MAX_LENGTHS[self.field]
        if not markup and all_plain(cells, longest, text_cells=self.text_cells, blank_words=self.blank_words):
            return list(cells), {}
        # An optional column with blanks: the other cells may all be plain text still.
        if (
            not markup
            and not self.required
            and (self.text_cells or set(map(type, cells)) <= TEXT_OR_EMPTY)
            and all_plain(list(filter(None, cells)), longest, text_cells=self.text_cells, blank_words=self.blank_words)
        ):
            return list(map(BLANK_TO_NONE.get, cells, cells)), {}
        values = list(cells)
        problems: dict[int, str] = {}
        to_convert, blanks = cells_to_convert(
            cells, longest, text_cells=self.text_cells, required=self.required, blank_words=self.blank_words
        )
        if markup:
            to_convert = sorted({*to_convert, *markup})
        for index in blanks:
            values[index] = None
        for index in to_convert:
            values[index], problem = self.convert_cell(cells[index])
            if problem:
                problems[index] = problem
        if markup and problems:
            self.from_markup = [index for index in markup if index not in problems]
        return values, problems

    def _without_catalogue_punctuation(
        self, values: list[object], problems: dict[int, str], not_own: Collection[int]
    ) -> tuple[list[object], dict[int, str]]:
        """Take a library catalogue's closing punctuation (and an author's dates) off the column's values (a
        list of their own), noting the rows; not off those of the rows *not_own* (a fallback column's value, or
        the default)."""
        self.punctuation_taken_off, self.dates_taken_off = without_catalogue_marks(
            values, not_own, names=self.field == "author"
        )
        return values, problems

    def _markup_cells(self, cells: Sequence[object]) -> list[int]:
        """Return the indexes of the cells written in HTML. The gate is a "<" in the cell: a column
        without one costs a substring search per cell, and only a cell with one is searched for a tag."""
        if self.text_cells:
            return [index for index, cell in enumerate(cells) if "<" in cell and looks_like_markup(cell)]
        return [index for index, cell in enumerate(cells) if type(cell) is str and looks_like_markup(cell)]

    def _convert_isbns(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        values: list[object] = fast_isbns(cells, text_cells=self.text_cells)
        problems: dict[int, str] = {}
        for index, value in enumerate(values):
            if value is not None:
                continue
            cell = cells[index]
            values[index], problem = self.convert_cell(cell)
            if problem:
                problems[index] = problem
            else:
                self._note_repair(index, cell)
        return values, problems

    def _note_repair(self, index: int, cell: object) -> None:
        """Note an ISBN cell the converter (not the fast path) read as repaired: a lost leading 0; or
        several ISBNs of the book in one cell, a library catalogue's qualifier after the ISBN, or both."""
        if lost_leading_zero(cell):
            self.repaired.append(index)
            return
        if held_several_isbns(cell):
            self.first_of_several.append(index)
        if read_past_qualifier(cell):
            self.past_qualifier.append(index)

    def _convert_memoised(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        memo, memo_problems = self.memo, self.memo_problems
        if self.text_cells or (len(types := set(map(type, cells))) == 1 and types <= _OWN_KEYS):
            keys = cells
        else:  # typed cells: 1, 1.0 and True are equal as dict keys but not as values
            keys = [c if type(c) in _OWN_KEYS else (type(c), c) for c in cells]
        values = list(map(memo.get, keys, repeat(_NOT_SEEN)))
        if any(map(is_, values, repeat(_NOT_SEEN))):  # cells not met before (mostly in the first chunks)
            for key in set(keys).difference(memo):
                if len(memo) >= MEMO_LIMIT:
                    return self._convert_one_by_one(cells)
                cell = key[1] if type(key) is tuple else key
                memo[key], problem = self.convert_cell(cell)
                if problem is not None:
                    memo_problems[key] = problem
                else:
                    for name in self._forms_of(cell):
                        self._form_keys[name].add(key)
            values = list(map(memo.__getitem__, keys))
        for name, formed in self._form_keys.items():
            if formed and not formed.isdisjoint(keys):
                self.read_forms[name] = [i for i, key in enumerate(keys) if key in formed]
        if not memo_problems or memo_problems.keys().isdisjoint(keys):
            return values, {}
        return values, {i: memo_problems[key] for i, key in enumerate(keys) if key in memo_problems}

    def _convert_one_by_one(self, cells: Sequence[object]) -> tuple[list[object], dict[int, str]]:
        values: list[object] = []
        problems: dict[int, str] = {}
        for index, cell in enumerate(cells):
            key = cell if type(cell) in _OWN_KEYS else (type(cell), cell)
            if key in self.memo:
                value, problem = self.memo[key], self.memo_problems.get(key)
            else:
                value, problem = self.convert_cell(cell)
            values.append(value)
            if problem:
                problems[index] = problem
            else:
                for name, is_form in self.forms.items():
                    if key in self._form_keys[name] or is_form(cell):
                        self.read_forms.setdefault(name, []).append(index)
        return values, problems

    def _forms_of(self, cell: object) -> list[str]:
        """Return the names of the forms a cell its converter accepted is written in."""
        return [name for name, is_form in self.forms.items() if is_form(cell)] if self.forms else []
