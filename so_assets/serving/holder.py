"""The models a service answers with, loaded once and swapped whole when a new production
version is recorded: a request keeps the snapshot it started with, so none fails mid-swap."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from so_assets.models.publication.production import RECORD, read_production

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    """One consistent set: the tag model, the score model (if any), the encoder."""

    tag_name: str
    tag_version: str
    tag_model: object
    score_name: str
    score_version: str
    score_model: object | None
    encoder: object
    validation: dict
    """Task -> the serving model's validation figure (what /v1/models shows)."""


def load(models_dir: Path, tag_name: str | None = None) -> Loaded:
    """The production models (or the tag model ``tag_name``) and their encoder."""
    from so_assets.embedding.encoder import load_encoder
    from so_assets.models.prediction.predict import load_score_model, load_tag_model

    name, model, encoder_config = load_tag_model(models_dir, tag_name)
    serving = read_production(models_dir)
    score = load_score_model(models_dir, None)
    tag_version = serving["tag"].version if "tag" in serving and tag_name is None else "current"
    return Loaded(name, tag_version, model,
                  score[0] if score else "", serving["score"].version if "score" in serving
                  else ("current" if score else ""), score[1] if score else None,
                  load_encoder(encoder_config),
                  {task: p.validation for task, p in serving.items()})


class ModelHolder:
    """The current :class:`Loaded`, reloaded in the background when ``_production.json``
    changes (checked at most every ``poll_seconds``). Loading goes through ``run`` (the
    service's compute thread) so that torch's work stays on one thread."""

    def __init__(self, models_dir: Path, poll_seconds: float = 1.0,
                 run: Callable[[Callable[[], Loaded]], Loaded] = lambda load_it: load_it()
                 ) -> None:
        self.models_dir = models_dir
        self.poll_seconds = poll_seconds
        self._run = run
        self._lock = threading.Lock()
        self._stamp = self._record_stamp()
        self._current = run(lambda: load(models_dir))
        self._checked = time.monotonic()
        self._loading = False
        self._by_name: dict[str, Loaded] = {}

    def _record_stamp(self) -> tuple[float, int] | None:
        try:
            stat = (self.models_dir / RECORD).stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime, stat.st_size

    @property
    def current(self) -> Loaded:
        """The serving set; starts a reload when the production record changed."""
        now = time.monotonic()
        if now - self._checked >= self.poll_seconds:
            self._checked = now
            stamp = self._record_stamp()
            if stamp != self._stamp and not self._loading:
                self._loading = True
                threading.Thread(target=self._reload, args=(stamp,), daemon=True).start()
        return self._current

    def _reload(self, stamp) -> None:
        try:
            fresh = self._run(lambda: load(self.models_dir))
            with self._lock:
                self._current, self._stamp, self._by_name = fresh, stamp, {}
            log.info("now serving %s %s", fresh.tag_name, fresh.tag_version)
        except Exception:  # keep serving what works; the next change tries again
            log.exception("reloading the production models failed; still serving %s %s",
                          self._current.tag_name, self._current.tag_version)
            with self._lock:
                self._stamp = stamp
        finally:
            self._loading = False

    def named(self, name: str) -> Loaded:
        """The set with tag model ``name`` (a registered model's current version), cached."""
        with self._lock:
            if name not in self._by_name:
                self._by_name[name] = self._run(lambda: load(self.models_dir, name))
            return self._by_name[name]
