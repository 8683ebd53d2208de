"""Sniff how a delimited text file is written: its encoding (and lines, and whether it holds a NUL) and
its delimiter, from its first line, or the lines under a title that has none."""

from __future__ import annotations

import codecs
import csv
import re
from contextlib import suppress
from itertools import islice
from pathlib import Path

from .errors import FileProblem
from .headers import HEADER_SEARCH_ROWS

#: Bytes read at a time when checking a CSV's encoding.
_BLOCK = 1 << 20
_DELIMITERS = (",", ";", "\t", "|")
#: The byte order marks of UTF-16 text, and what each says.
UTF16_BOMS = {codecs.BOM_UTF16_LE: "UTF-16 LE", codecs.BOM_UTF16_BE: "UTF-16 BE"}


def sniff_encoding(path: Path) -> tuple[str, int, bool]:
    """Return the CSV's encoding (UTF-16 LE or BE when it starts with that byte order mark, else UTF-8,
    with or without BOM, else Windows-1252), its line count and whether it holds a NUL character anywhere.

    UTF-16 is decoded to count (its bytes hold line feeds and NULs that are halves of other characters)."""
    with open(path, "rb") as fh:
        start = fh.read(3)
        if start[:2] in UTF16_BOMS:
            return "utf-16-le" if start[:2] == codecs.BOM_UTF16_LE else "utf-16-be", *_count_utf16(fh)
        fh.seek(0)
        for encoding in ("utf-8-sig" if start == codecs.BOM_UTF8 else "utf-8", "cp1252"):
            decoder = codecs.getincrementaldecoder(encoding)()
            lines = 0
            nul = False
            fh.seek(0)
            try:
                while block := fh.read(_BLOCK):
                    decoder.decode(block)
                    lines += block.count(b"\n")
                    nul = nul or b"\x00" in block
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding, lines, nul
    raise FileProblem(
        "The file's text is neither UTF-8 nor Windows-1252. Save it from your spreadsheet as "
        "'CSV UTF-8' and upload it again."
    )


def _count_utf16(fh) -> tuple[int, bool]:
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("utf-16")()
    lines = 0
    nul = False
    try:
        while block := fh.read(_BLOCK):
            text = decoder.decode(block)
            lines += text.count("\n")
            nul = nul or "\x00" in text
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise FileProblem(
            f"The file starts as UTF-16 text but is not valid UTF-16 ({exc.reason}, at byte {fh.tell():,} or "
            "before): it may be cut short. Save it from your spreadsheet again and upload it again."
        ) from None
    return lines, nul


def sniff_delimiter(first_lines: str) -> str:
    """Return the delimiter used in the first line: comma, semicolon, tab or pipe. A first line without
    any (a title above the header) says nothing: the next of *first_lines* that has one says it."""
    for line in first_lines.splitlines() or [""]:
        unquoted = re.sub(r'"[^"]*"', "", line)
        counts = {d: unquoted.count(d) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=lambda d: counts[d])
        if counts[best]:
            return best
    return ","


#: The most characters of each line under a first line without a delimiter that are read to sniff one.
_SNIFFED_LINE_CHARS = 64 * 1024


def first_lines(fh) -> str:
    """Return the text's first line, and when it holds no delimiter (a title above the header), the next
    lines where the header may be (HEADER_SEARCH_ROWS in all, each cut at _SNIFFED_LINE_CHARS)."""
    first = fh.readline()
    if any(d in first for d in _DELIMITERS):
        return first
    more = (fh.readline(_SNIFFED_LINE_CHARS) for _ in range(HEADER_SEARCH_ROWS - 1))
    return first + "".join(line if line.endswith("\n") else line + "\n" for line in more if line)


def first_records(reader) -> list[list[str]]:
    """Read the records of a CSV's first HEADER_SEARCH_ROWS rows (fewer where one cannot be read: the
    rows are read again and that one refused, in its own words, only if it is under the header)."""
    records = []
    with suppress(csv.Error):
        records.extend(islice(reader, HEADER_SEARCH_ROWS))
    return records
