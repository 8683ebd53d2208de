"""Read a cell written in HTML (a shop's product description) as the plain text it shows.

Shop exports write a product's description as HTML (Shopify's Body (HTML), WooCommerce's Description,
a catalogue program's comments), and bookapp stores and shows descriptions as text: kept as written,
"<p>A <strong>gripping</strong> tale&hellip;</p>" is what staff and every export would see. Such a cell
is read as its text instead: paragraphs and <br> as line breaks, entities decoded, scripts and styles
dropped, whitespace tidied. Only a cell with a tag of an element HTML text uses in it is markup; a plain
text's "a < b", "<3" or "<Enter>" is left as written.

The HTML is parsed by lxml (libxml2's HTML parser): it reads markup as browsers do (unclosed <p>s,
stray end tags, every named entity), in C. What follows the parse is only where the lines break.
"""

from __future__ import annotations

import re

from lxml import etree

#: The elements a description's HTML is written with (a shop editor's and a catalogue program's): a cell
#: with a tag of one of them, or an HTML comment, is markup. Others ("<Enter>", "<name>") are not
#: taken as tags: such words in angle brackets are plain text's.
_ELEMENTS = (
    "a|abbr|address|article|aside|b|big|blockquote|body|br|caption|center|cite|code|col|colgroup|dd|del|details|"
    "dfn|div|dl|dt|em|figcaption|figure|font|footer|h[1-6]|head|header|hr|html|i|iframe|img|ins|kbd|li|link|main|"
    "mark|meta|nav|ol|p|pre|q|s|samp|script|section|small|span|strike|strong|style|sub|summary|sup|table|tbody|"
    "td|tfoot|th|thead|title|tr|tt|u|ul|var|wbr"
)
MARKUP = re.compile(rf"<(?:/?(?:{_ELEMENTS})(?:\s[^<>]*)?/?>|!--)", re.IGNORECASE)

#: Elements whose content is never shown as text.
_HIDDEN = ("script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg")
_HIDDEN_TAG = re.compile(rf"<(?:{'|'.join(_HIDDEN)})\b", re.IGNORECASE)
#: Elements that stand apart as paragraphs (a blank line around them) or as lines of their own.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "dl", "table", "pre",
                         "hr", "figure", "address"})  # fmt: skip
_LINES = frozenset({"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "main", "nav", "aside",
                    "caption", "figcaption", "details", "summary", "center", "form", "fieldset", "body"})  # fmt: skip
_CELLS = frozenset({"td", "th"})
#: A break between paragraphs (a blank line), between lines, and one <br>'s (they add up: <br><br> is a
#: blank line, where a paragraph's end and the next one's start are one break).
_PARAGRAPH, _LINE, _BR = 2, 1, -1
#: The most line breaks in a row the text keeps: paragraphs apart by one blank line, however many <br>s.
_MOST_BREAKS = 2

#: A run of line breaks and the spaces around them.
_NEWLINES = re.compile(r"([^\S\n]*\n\s*)")

#: lxml's own elements (not lxml.html's classes, whose lookup per element costs more than the parse).
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True)


def looks_like_markup(text: str) -> bool:
    """Whether *text* is written in HTML: it holds a tag of an element HTML text uses, or a comment."""
    return "<" in text and MARKUP.search(text) is not None


def markup_text(markup: str) -> str:
    """Return the text *markup* shows, as plain text: a paragraph or a block apart from the next by a blank
    line or a line break, <br> as a line break, entities decoded, scripts and styles dropped, spaces within
    a line as one, a list item starting with "- ". Empty when it shows nothing."""
    try:
        root = etree.fromstring(markup.encode("utf-8", "surrogatepass"), _PARSER)
    except (etree.ParserError, ValueError):  # nothing a parser keeps
        return ""
    if root is None:  # nothing but a comment
        return ""
    if _HIDDEN_TAG.search(markup):
        etree.strip_elements(root, *_HIDDEN, with_tail=False)
    pieces: list[str | int] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _PARAGRAPHS:
                pieces.append(_PARAGRAPH)
            elif tag in _LINES:
                pieces.append(_LINE)
            elif tag == "br":
                pieces.append(_BR)
            if tag == "li":
                pieces.append("- ")
            _add_text(pieces, element.text)
        else:
            if tag in _PARAGRAPHS:
                pieces.append(_PARAGRAPH)
            elif tag in _LINES:
                pieces.append(_LINE)
            elif tag in _CELLS:
                pieces.append(" ")
            _add_text(pieces, element.tail)
    return _joined(pieces)


def _add_text(pieces: list[str | int], text: str | None) -> None:
    """Add a text node's text, its line breaks as breaks: a browser would join its lines, but a shop's
    description is often written with line breaks for its lines and blank lines for its paragraphs and
    a tag here and there (WooCommerce keeps what its editor wrote: the <p>s are added only on display),
    and a person's line break is theirs. Beside a tag's own break, one is no more."""
    if not text:
        return
    if "\n" not in text:
        pieces.append(text)
        return
    for number, part in enumerate(_NEWLINES.split(text)):
        if number % 2:
            pieces.append(min(part.count("\n"), _PARAGRAPH))
        elif part:
            pieces.append(part)


def _joined(pieces: list[str | int]) -> str:
    """Join text and breaks: breaks before the first text and after the last are dropped, a paragraph's
    and a line's merge, <br>s add up; then each line's spaces are tidied."""
    out: list[str] = []
    breaks = 0
    for piece in pieces:
        if type(piece) is int:
            breaks = breaks + 1 if piece == _BR else max(breaks, piece)
        elif piece.strip():
            if breaks and out:
                out.append("\n" * min(breaks, _MOST_BREAKS))
            breaks = 0
            out.append(piece)
        elif not breaks and out:  # a space between two words of a line (not at a line's start)
            out.append(" ")
    return "\n".join(" ".join(line.split()) for line in "".join(out).split("\n")).strip()
