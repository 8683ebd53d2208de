"""What a library catalogue writes in a book's cells, and how each is read as the book's value.

A library system's report or export gives a field as its MARC record holds it: an ISBN with its qualifier
("0441172717 (pbk.)"), a date of publication as "c1965." or "[1965]", an extent as "xii, 412 p. :", a
title and a name closed with ISBD punctuation ("Dune /", "Herbert, Frank,"), a name with the dates and the
fuller form the catalogue adds to it ("Herbert, Frank, 1920-1986"). The converters (values.py) read a cell
the first three ways only where their plain reading refuses it, so a usual file's cells never reach them;
the punctuation (and a name's dates) is taken off only in a Title or Author column whose first cells all
close so (catalogue_punctuation_columns), so a shop's "Who Goes There?" or "Smith, 1999 edition" is never
touched. Plain functions of text: they import nothing of bookapp but its errors and how a cell's text is read
(text_values.clean_text, as the converters read it).
"""

import re
from collections.abc import Container, Iterable, Sequence
from itertools import zip_longest

from .errors import ValueProblem
from .text_values import clean_text

#: What a library catalogue writes after an ISBN (its MARC record's ISBN field, as the catalogue's export
#: or report shows it): a qualifier in brackets ("(pbk.)", "(hardcover : alk. paper)", "(v. 1)"); then maybe
#: the terms of availability after a colon (" : $4.95"); and the punctuation closing the field (" :", ".").
_QUALIFIER = re.compile(r"\s*\([^()]*\)")
_TERMS = re.compile(r"\s+:.*\Z", re.DOTALL)
_CLOSING = " :;.,/"


def without_qualifier(text: str) -> str | None:
    """Return an ISBN cell's text (its "ISBN" prefix taken off) without a library catalogue's qualifiers,
    terms and closing punctuation ("0441172717 (pbk.) : $4.95" → "0441172717"); None when it has none of
    those three, or nothing but them."""
    bare = _QUALIFIER.sub("", text) if "(" in text else text
    bare = _TERMS.sub("", bare).rstrip(_CLOSING)
    return bare if bare and bare != text else None


#: A number of pages as a library catalogue writes it (its MARC record's extent): the page sequences, roman
#: (the preliminaries, "xii"), arabic ("412") or in brackets (unnumbered, "[8]"), then "p." (or pp., pages,
#: S., Seiten, págs., páginas), then maybe the other physical details and the size (" : ill. ; 24 cm.").
_EXTENT = re.compile(
    r"(?P<sequences>(?:(?:[ivxlcdm]+|\[\d+\]|\d+)\s*,\s*)*(?:[ivxlcdm]+|\[\d+\]|\d+))\s*"
    r"(?:p|pp|pages?|s|seiten|p[áa]gs?|p[áa]ginas)\.?(?:\s*[:;].*)?",
    re.IGNORECASE,
)


def catalogue_pages(text: str) -> int | None:
    """Return the number of pages of a library catalogue's extent ("xii, 412 p." → 412: its one sequence
    of arabic numbers), else None; refuse one with several such sequences ("300, 200 p."): which is it?"""
    extent = _EXTENT.fullmatch(text.strip())
    if extent is None:
        return None
    numbered = [s for s in map(str.strip, extent["sequences"].split(",")) if s.isdigit()]
    if len(numbered) > 1:
        raise ValueProblem(
            f"holds several numbered sequences of pages ({', '.join(numbered)}); write the book's number of pages"
        )
    return int(numbered[0]) if numbered else None


#: A year as a library catalogue writes it (its MARC record's date of publication): c1965 or ©1965 (its
#: copyright), p1965 or ℗1965 (a recording's), cop. 1965, [1965] (supplied by the cataloguer), [1965?]
#: (probable), closing its field with a full stop or not; and several of them in one cell ("1987, c1965").
_CATALOGUE_YEAR = r"\[?(?:c|©|p|℗|cop\.)?\s?(\d{4})\??\]?"
_CATALOGUE_YEARS = re.compile(rf"{_CATALOGUE_YEAR}(?:(?:\s*[,;\-–]\s*|\s+){_CATALOGUE_YEAR})*\s*\.?", re.IGNORECASE)
_ONE_CATALOGUE_YEAR = re.compile(_CATALOGUE_YEAR, re.IGNORECASE)


def catalogue_year(text: str) -> str | None:
    """Return the year of a date a library catalogue wrote ("c1965.", "[1965]", "©1965"), else None; refuse
    one holding different years ("1987, c1965": a printing's and the copyright's; "1965-1970"): which is
    the book's?"""
    if _CATALOGUE_YEARS.fullmatch(text) is None:
        return None
    years = list(dict.fromkeys(_ONE_CATALOGUE_YEAR.findall(text)))
    if len(years) > 1:
        raise ValueProblem(f"holds different years ({', '.join(years)}); keep the one the book was published in")
    return years[0]


def is_catalogue_date(cell: object) -> bool:
    """Whether a year cell the converter accepted was a library catalogue's date ("c1965.", "©1965", "[1965]",
    "1965.", or one of them as a spreadsheet's text formula, ="c1965."), read as its year: a plain year, a
    number and a date are not."""
    text = _text_read(cell)
    if text is None or (len(text) == 4 and text.isdigit()):
        return False
    try:
        return catalogue_year(text) is not None
    except ValueProblem:
        return False


def is_catalogue_extent(cell: object) -> bool:
    """Whether a pages cell the converter accepted was a library catalogue's extent ("412 p.", "xii, 412 p. :",
    ="412 p."), read as its number of pages: a whole number never is (the extent's "p." tells it)."""
    text = _text_read(cell)
    if text is None:
        return False
    try:
        return catalogue_pages(text) is not None
    except ValueProblem:
        return False


def _text_read(cell: object) -> str | None:
    """Return a text cell's text as the converters read it (spaces and a text formula's ="…" taken off),
    so a cell is told read from a catalogue's form exactly when it was; None for a cell of another type."""
    if type(cell) is not str:
        return None
    try:
        return clean_text(cell)
    except ValueProblem:
        return None


#: The fields a library catalogue closes with punctuation: the title (its MARC record's title proper) and
#: the author (its main entry's name).
PUNCTUATED_FIELDS = ("title", "author")
#: What closes a title or a name in a catalogue (ISBD punctuation, kept in the record's subfields): " /"
#: before the statement of responsibility, " :" before the subtitle, " =" before a parallel title, " ;"
#: before a next title (each after a space); "," before a name's dates or relator term; "." closing the field.
_SEPARATORS = frozenset("/:;=")
#: The word a final full stop closes, when that stop may be the catalogue's own (looked for in the cell's
#: last _TAIL characters: a longer word is no abbreviation).
_LAST_WORD = re.compile(r"(?<![.\w])(\w+)\.\Z")
_TAIL = 24
#: Words a name or a title ends with whose full stop is their own (a catalogue adds none after them): an
#: initial ("Tolkien, J. R. R.": any one letter; "U.S.", "Ph.D." end in one), a suffix or title of a name
#: ("Seuss, Dr.", "King, Martin Luther, Jr."), a forename as older records abbreviate it ("Dickens, Chas."),
#: "etc.", a firm's "Co." (in French, Spanish and German too: "Hachette et Cie.", "Espasa-Calpe y Cía.",
#: "Gebr."), a body's part ("United States. Dept."), a place's ("Mt.", "Ft.").
_ABBREVIATIONS = frozenset({
    "jr", "sr", "dr", "st", "mr", "mrs", "ms", "mme", "mlle", "bp", "abp", "rev", "fr", "bro", "bros", "esq", "hon",
    "capt", "lt", "col", "gen", "sgt", "gov", "prof", "wm", "chas", "geo", "thos", "jas", "jos", "benj", "saml",
    "edw", "robt", "etc", "al", "co", "inc", "ltd", "corp", "cie", "cía", "hnos", "gebr", "dept", "univ", "assn",
    "govt", "ed", "eds", "comp", "tr", "trans", "vol", "vols", "pt", "ca", "fl", "mt", "ft", "sra", "srta", "dra",
})  # fmt: skip
#: The last characters of a cell that may be a catalogue's closing punctuation (cheap to look at first).
_CLOSING_MARKS = frozenset("/:;=,.")
#: What a catalogue's title or name may end with and keep: a mark of the data's own (Who goes there?).
_OWN_MARKS = frozenset("?!)]-\"'")


def without_closing_punctuation(text: str) -> str:
    """Return a title or a name without the punctuation a library catalogue closes it with ("Dune /" →
    "Dune", "Herbert, Frank," → "Herbert, Frank", "Herbert, Frank." → "Herbert, Frank"); a full stop
    that is part of the data stays: an abbreviation's ("Tolkien, J. R. R.", "Seuss, Dr."), an ellipsis's
    ("And then there were none..."). One mark is taken off, and none that would leave nothing."""
    last = text[-1:]
    if last not in _CLOSING_MARKS:
        return text
    if last == "," or (last in _SEPARATORS and text[-2:-1].isspace()):
        return text[:-1].rstrip() or text
    if last != ".":
        return text
    word = _LAST_WORD.search(text[-_TAIL:])
    if word is None or (len(word[1]) == 1 and word[1].isalpha()) or word[1].casefold() in _ABBREVIATIONS:
        return text
    return text[:-1]


#: A year of a name's dates as a catalogue writes them (its MARC record's name's dates): 1920, 1920?, b. 1947,
#: d. 1850, fl. 1200, ca. 1300, born 1947, died 1850, active 1899, approximately 1300, 1900 or 1901.
_DATE = r"(?:(?:b|d|fl|ca|born|died|active|approximately)\.?\s*)?\d{3,4}\??(?:\s+or\s+\d{2,4}\??)?"
#: A name's dates after its comma: a span ("1920-1986", "1947-", "-1850", "ca. 1300-1350") or one year
#: said to be a birth, a death or a time of activity ("b. 1947", "fl. 1200").
_LIFE_DATES = re.compile(
    rf",\s*(?:{_DATE}\s*[-–]\s*(?:{_DATE})?|[-–]\s*{_DATE}|(?:b|d|fl|born|died|active)\.?\s*\d{{3,4}}\??)\s*\Z",
    re.IGNORECASE,
)
#: The fuller form of a name's forenames, in brackets after them ("Tolkien, J. R. R. (John Ronald Reuel)").
_FULLER_FORM = re.compile(r",\s*(?P<forenames>[^,()]+?)\s*\((?P<fuller>[^\W\d_][^()\d]*)\)\Z")
#: The last characters of a name that may close its dates or fuller form (cheap to look at first).
_DATED_ENDS = frozenset("0123456789-–?)")


def without_life_dates(name: str) -> str:
    """Return a name without the dates and the fuller form a library catalogue adds to it ("Herbert, Frank,
    1920-1986" → "Herbert, Frank"; "King, Stephen, 1947-" → "King, Stephen"; "Tolkien, J. R. R. (John
    Ronald Reuel), 1892-1973" → "Tolkien, J. R. R."), once its closing punctuation is taken off; else the
    name as it is. A bracket stays unless it spells out the forenames before it (its first letter theirs):
    "Smith, John (Fictitious character)" keeps it."""
    if name[-1:] not in _DATED_ENDS:
        return name
    bare = _LIFE_DATES.sub("", name, count=1)
    fuller = _FULLER_FORM.search(bare)
    if fuller and fuller["fuller"][0].casefold() == fuller["forenames"][0].casefold():
        bare = bare[: fuller.start("forenames")] + fuller["forenames"]
    return bare if bare.strip(" ,") else name


def without_catalogue_marks(values: list, not_own: Container[int], *, names: bool) -> tuple[list[int], list[int]]:
    """Take a library catalogue's closing punctuation off a column's text *values* (in place, but for those
    at *not_own*: a fallback column's, read as written) and, in a column of *names*, the dates and fuller
    forms it adds (without_life_dates). Return the indexes of the values that had punctuation, and of
    those that had dates or a fuller form, taken off."""
    punctuated, dated = [], []
    for index, value in enumerate(values):
        if type(value) is not str or index in not_own:
            continue
        bare = without_closing_punctuation(value)
        if bare != value:
            punctuated.append(index)
        if names and (undated := without_life_dates(bare)) != bare:
            dated.append(index)
            bare = undated
        values[index] = bare
    return punctuated, dated


#: How many of a column's first cells may end otherwise (a record keyed without the punctuation).
_UNPUNCTUATED_SHARE = 0.05
#: The fewest text cells a column is judged by: a handful of a shop's titles may all end in a full stop.
_FEWEST_CELLS = 3


def catalogue_punctuation_columns(rows: Sequence[Sequence[object]]) -> frozenset[int]:
    """Return the columns whose text cells, in *rows* (a file's first), close as a library catalogue closes
    a title or a name: every one (but for one in twenty) ends in ISBD punctuation or a mark of their own
    ("Dune /", "Herbert, Frank,", "Who goes there?"), and at least half have punctuation to take off
    (without_closing_punctuation). A column of full stops alone ("Herbert, Frank.") counts only in a file
    where another, or itself, shows what only a catalogue writes (" /", " :", a closing comma): a shop's
    titles that end in a full stop ("Are You There God? It's Me, Margaret.") are never such a column, nor
    are "Dune", "Who Goes There?" or "And Then There Were None...". A column is looked at by its cells'
    last characters first: most columns are told apart by those alone."""
    found, telling = [], False
    for position, column in enumerate(zip_longest(*rows)):
        texts = [text for cell in column if type(cell) is str and (text := cell.rstrip())]
        ends = "".join(text[-1] for text in texts)
        closed = sum(map(ends.count, _CLOSING_MARKS | _OWN_MARKS))
        if len(texts) < _FEWEST_CELLS or len(texts) - closed > _UNPUNCTUATED_SHARE * len(texts):
            continue
        taken = 0
        for text in texts:  # until half of them have punctuation to take off
            taken += without_closing_punctuation(text) != text
            if 2 * taken >= len(texts):
                found.append(position)
                telling = telling or any(t[-1] != "." and without_closing_punctuation(t) != t for t in texts)
                break
    return frozenset(found) if telling else frozenset()


#: What an import's description (its read_as) adds when it took a catalogue's closing punctuation off its
#: titles or names, followed by which ("titles", "names", "titles and names"): a fix of its rejected rows
#: reads them alike (the fixed rows alone are too few to tell).
PUNCTUATION_TAKEN_OFF = ", a library catalogue's closing punctuation taken off "
_SAID = {"title": "titles", "author": "names"}


def punctuation_said(fields: Iterable[str]) -> str:
    """Return what an import's description adds for a catalogue's punctuation taken off *fields*."""
    named = [_SAID[f] for f in PUNCTUATED_FIELDS if f in set(fields)]
    return PUNCTUATION_TAKEN_OFF + " and ".join(named) if named else ""


def punctuation_read(description: str | None) -> tuple[str, ...]:
    """Return the fields an import's *description* says it took a catalogue's punctuation off."""
    _, said, rest = (description or "").partition(PUNCTUATION_TAKEN_OFF)
    if not said:
        return ()
    named = rest.split(",", 1)[0]
    return tuple(f for f in PUNCTUATED_FIELDS if _SAID[f] in named.split(" and "))
