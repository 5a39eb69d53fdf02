"""Turn a post's HTML body into plain text, keeping code blocks and marking them."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

CODE_START = "[code]"
CODE_END = "[/code]"

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "hr", "li", "ul", "ol", "blockquote", "table", "tr",
     "h1", "h2", "h3", "h4", "h5", "h6"}
)
_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_SPACES_RE = re.compile(r"[ \t\r\f\v]+")


class _PostTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pre_depth = 0
        self._code_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre":
            if self._pre_depth == 0:
                self.parts.append(f"\n{CODE_START}\n")
            self._pre_depth += 1
        elif tag == "code":
            if self._pre_depth == 0:
                self.parts.append("`")
            self._code_depth += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[image: {alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre" and self._pre_depth > 0:
            self._pre_depth -= 1
            if self._pre_depth == 0:
                while self.parts and self.parts[-1].endswith("\n") and self.parts[-1] != (
                        f"\n{CODE_START}\n"):
                    self.parts[-1] = self.parts[-1][:-1]
                self.parts.append(f"\n{CODE_END}\n")
        elif tag == "code" and self._code_depth > 0:
            self._code_depth -= 1
            if self._pre_depth == 0:
                self.parts.append("`")
        elif tag in _BLOCK_TAGS and tag != "li":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._pre_depth:
            self.parts.append(data)
        else:
            self.parts.append(_SPACES_RE.sub(" ", data.replace("\n", " ")))


def html_to_text(body_html: str | None) -> str:
    """Plain text of an HTML post body; ``<pre>`` blocks kept verbatim between [code] markers.

    Inline ``<code>`` becomes backticks, list items become "- " lines, entities are decoded.
    ``None`` or an empty body gives "".
    """
    if not body_html:
        return ""
    parser = _PostTextParser()
    parser.feed(body_html)
    parser.close()
    text = "".join(parser.parts)
    lines: list[str] = []
    in_code = False
    blank_prose = 0  # blank prose lines in a row: at most one is kept
    for line in text.split("\n"):
        if line in (CODE_START, CODE_END):
            in_code = line == CODE_START
            lines.append(line)
            blank_prose = 0
        elif in_code:  # verbatim: indentation, trailing spaces and blank lines
            lines.append(line)
        elif line.strip() or not blank_prose:
            lines.append(line.strip())  # prose loses the spaces the markup left around it
            blank_prose = 0 if line.strip() else 1
    return "\n".join(lines).strip("\n").strip()


def unescape_title(title: str) -> str:
    """Titles arrive HTML-escaped from the API (``&quot;``) and the dumps: decode once."""
    return html.unescape(title).strip()


def count_tokens(text: str) -> int:
    """Word and punctuation tokens of a plain text (the answer-length measure)."""
    return len(_TOKEN_RE.findall(text))
