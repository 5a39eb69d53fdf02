"""Parse the tag notations the sources use into a tuple of tags."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ANGLE_RE = re.compile(r"<([^<>]+)>")


def parse_tags(raw: str | Iterable[str] | None) -> tuple[str, ...]:
    """Tags from ``<a><b>`` (data dump), ``|a|b|`` / ``a|b`` (dump, BigQuery), ``a,b``,
    ``a b`` or a list. No Stack Exchange tag holds ``<``, ``>``, ``|``, ``,`` or a space, so
    whichever notation a column uses, its tags come out one by one.

    Tags are lower-cased and stripped; order is kept and duplicates are dropped.
    """
    if raw is None:
        return ()
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("<"):
            items: Iterable[str] = _ANGLE_RE.findall(text)
        elif "|" in text:
            items = text.split("|")
        else:
            items = text.replace(",", " ").split()
    else:
        items = raw
    seen: dict[str, None] = {}
    for item in items:
        tag = item.strip().lower()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)
