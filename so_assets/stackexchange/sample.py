"""The bundled sample, served through the same client code path as the live API."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from so_assets.stackexchange.transport import Response

DEFAULT_SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"
_ANSWERS_RE = re.compile(r"/answers/([\d;]+)$")


class SampleTransport:
    """Answers ``/questions`` and ``/answers/{ids}`` from the sample's JSON files.

    Paging (``page``, ``pagesize``, ``has_more``), creation-time windows and the quota fields
    behave as the API documents, so :class:`StackExchangeClient` cannot tell the difference.
    """

    def __init__(self, sample_dir: Path = DEFAULT_SAMPLE_DIR, quota_max: int = 10_000) -> None:
        self.sample_dir = Path(sample_dir)
        if not (self.sample_dir / "questions").is_dir():
            raise FileNotFoundError(f"{self.sample_dir} holds no sample (no questions/ folder)")
        self.quota_max = quota_max
        self.quota_remaining = quota_max
        self._day_file: tuple[Path, int, list[dict[str, Any]]] | None = None

    def get(self, url: str, params: dict[str, str], timeout: float) -> Response:
        self.quota_remaining = max(0, self.quota_remaining - 1)
        if url.endswith("/questions"):
            items = self._questions(int(params["fromdate"]), int(params["todate"]))
        elif match := _ANSWERS_RE.search(url):
            wanted = [int(i) for i in match.group(1).split(";")]
            index = _answer_index(self.sample_dir)
            items = [index[i] for i in wanted if i in index]
        else:
            return _json(400, {"error_id": 404, "error_name": "no_method",
                               "error_message": "no method found with this name"})
        if "body" not in params.get("filter", ""):
            items = [{k: v for k, v in item.items() if k != "body"} for item in items]
        page, size = int(params.get("page", 1)), int(params.get("pagesize", 30))
        chunk = items[(page - 1) * size : page * size]
        return _json(200, {"items": chunk, "has_more": page * size < len(items),
                           "quota_max": self.quota_max, "quota_remaining": self.quota_remaining})

    def days(self) -> list[date]:
        """The days the sample covers."""
        return sorted(date.fromisoformat(p.stem) for p in (self.sample_dir / "questions").glob(
            "*.json"))

    def _questions(self, lo: int, hi: int) -> list[dict[str, Any]]:
        first = datetime.fromtimestamp(lo, UTC).date()
        last = datetime.fromtimestamp(hi, UTC).date()
        found = []
        for day in self.days():
            if first <= day <= last:
                items = self._day_items(self.sample_dir / "questions" / f"{day.isoformat()}.json")
                found.extend(i for i in items if lo <= i["creation_date"] <= hi)
        return found

    def _day_items(self, path: Path) -> list[dict[str, Any]]:
        """A day's questions, read once while the client pages through them (a generated
        100,000-question sample holds about 48 pages a day: read for each page, the day's file
        was decoded 48 times); read again when the file changes."""
        changed = path.stat().st_mtime_ns
        if self._day_file is None or self._day_file[:2] != (path, changed):
            self._day_file = (path, changed, _load(path))
        return self._day_file[2]


@cache
def _answer_index(sample_dir: Path) -> dict[int, dict[str, Any]]:
    return {item["answer_id"]: item for path in sorted((sample_dir / "answers").glob("*.json"))
            for item in _load(path)}


def _load(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["items"]


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(status=status, body=json.dumps(payload).encode("utf-8"))


def sample_manifest(sample_dir: Path = DEFAULT_SAMPLE_DIR) -> dict[str, Any]:
    """The sample's manifest (days, counts, generator seed)."""
    return json.loads((Path(sample_dir) / "manifest.json").read_text())
