"""Open export files as text, transparently from .zip and .gz archives."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from so_assets.stackexchange.errors import DumpFormatError

MAX_FIELD_CHARS = 8 * 2**20
"""The longest CSV field read (8 M characters; a real body is at most tens of thousands): a
longer one is an error naming its line. Set for the reading only, never for the process."""

STREAM_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile)
"""What a truncated or corrupt .gz or .zip raises while it is read."""


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """A binary stream of ``path``; a .zip gives its one .csv/.xml member, a .gz its content.
    A truncated or corrupt archive is a :class:`DumpFormatError` naming the file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.is_dir():
        raise DumpFormatError(f"{path} is a folder, not an export file")
    try:
        if path.suffix == ".zip":
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile as exc:
                raise DumpFormatError(f"{path}: not a readable zip archive ({exc})") from exc
            with archive:
                members = [n for n in archive.namelist() if n.endswith((".csv", ".xml"))]
                if not members:
                    raise DumpFormatError(
                        f"{path}: no .csv or .xml member in {archive.namelist()}")
                if len(members) > 1:
                    raise DumpFormatError(
                        f"{path} holds {len(members)} export files ({', '.join(members[:5])}): "
                        "unpack the one to read and name it, so none is left out unsaid")
                with archive.open(members[0]) as stream:
                    yield stream
        elif path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                yield stream
        else:
            with path.open("rb") as stream:
                yield stream
    except STREAM_ERRORS as exc:
        raise DumpFormatError(f"{path}: the archive is truncated or corrupt "
                              f"({type(exc).__name__}: {exc})") from None


@contextmanager
def _field_size_limit(limit: int) -> Iterator[None]:
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


@contextmanager
def csv_rows(path: Path, required: set[str], encoding: str = "utf-8"
             ) -> Iterator[Iterator[tuple[int, dict[str, str]]]]:
    """Stream a CSV's rows as (line number, row) after checking its header has the
    ``required`` columns. A UTF-8 byte-order mark is dropped; fields a short row lacks are
    None."""
    if encoding.replace("-", "").lower() == "utf8":
        encoding = "utf-8-sig"
    with open_binary(path) as raw, _field_size_limit(MAX_FIELD_CHARS):
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
