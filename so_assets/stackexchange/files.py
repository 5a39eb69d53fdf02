"""Open export files as text, transparently from .zip and .gz archives."""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from so_assets.stackexchange.errors import DumpFormatError

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream of ``path``; a .zip gives its first .csv/.xml member, a .gz its content."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise DumpFormatError(f"{path}: not a readable zip archive ({exc})") from exc
        with archive:
            members = [n for n in archive.namelist() if n.endswith((".csv", ".xml"))]
            if not members:
                raise DumpFormatError(f"{path}: no .csv or .xml member in {archive.namelist()}")
            with archive.open(members[0]) as stream:
                yield stream
    elif path.suffix == ".gz":
        with gzip.open(path, "rb") as stream:
            yield stream
    else:
        with path.open("rb") as stream:
            yield stream


@contextmanager
def csv_rows(path: Path, required: set[str], encoding: str = "utf-8"
             ) -> Iterator[Iterator[dict[str, str]]]:
    """Stream a CSV's rows as dicts after checking its header has the ``required`` columns."""
    with open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        reader = csv.DictReader(text)
        try:
            header = set(reader.fieldnames or [])
        except (csv.Error, UnicodeDecodeError) as exc:
            raise DumpFormatError(f"{path}: unreadable CSV header ({exc})") from exc
        if missing := required - header:
            raise DumpFormatError(
                f"{path}: missing column(s) {sorted(missing)}; found {sorted(header)}")

        def rows() -> Iterator[dict[str, str]]:
            try:
                yield from reader
            except (csv.Error, UnicodeDecodeError) as exc:
                raise DumpFormatError(f"{path}: bad CSV near line {reader.line_num}: {exc}"
                                      ) from exc

        yield rows()
