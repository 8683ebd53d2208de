"""What a library catalogue writes in a book's cells, and how each is read as the book's value.

A library system's report or export gives a field as its MARC record holds it: an ISBN with its qualifier
("0441172717 (pbk.)"), a date of publication as "c1965." or "[1965]", an extent as "xii, 412 p. :". The
converters (values.py) read a cell these ways only where their plain reading refuses it, so a usual file's
cells never reach them. Plain functions of text: they import nothing of bookapp but its errors.
"""

import re

from .errors import ValueProblem

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
