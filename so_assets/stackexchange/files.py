"""Open export files as text, transparently from .zip and .gz archives."""

from __future__ import annotations

import csv
import gzip
import io
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
             ) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
    """Stream a CSV's rows as (line number, row) after checking its header has the
    ``required`` columns. A UTF-8 byte-order mark is dropped; fields a short row lacks are
    None."""
    if encoding.replace("-", "").lower() == "utf8":
        encoding = "utf-8-sig"
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

        def rows() -> Iterator[tuple[int, dict[str, str]]]:
            try:
                for row in reader:
                    yield reader.line_num, row
            except (csv.Error, UnicodeDecodeError) as exc:
                raise DumpFormatError(f"{path}: bad CSV near line {reader.line_num}: {exc}"
                                      ) from exc

        yield rows()

@dataclass(frozen=True)
class FileHead:
    """The start of a file (or a folder), enough to recognise its format."""

    path: Path
    is_dir: bool
    text: str

    @property
    def columns(self) -> set[str]:
        """The lower-cased names of a CSV header line (empty for other text)."""
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        return {c.strip().strip('"').lower() for c in first.split(",")} if "," in first else set()


def read_head(path: Path, size: int = 4096) -> FileHead:
    """The first ``size`` bytes of ``path`` as text (byte-order mark removed), or a folder."""
    path = Path(path)
    if path.is_dir():
        return FileHead(path, True, "")
    with open_binary(path) as stream:
        text = stream.read(size).decode("utf-8-sig", "replace")
    return FileHead(path, False, text)
