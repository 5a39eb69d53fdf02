"""Where everything lives under one data folder (DESIGN.md's storage layout)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from so_assets.storage.question_store import QuestionStore

if TYPE_CHECKING:  # h5py loads only when a step opens the HDF5 files
    from so_assets.storage.embedding_store import EmbeddingStore
    from so_assets.storage.tag_vector_store import TagVectorStore


@dataclass(frozen=True)
class Stores:
    """The DuckDB file, the HDF5 partitions of one encoder (by its slug), models and reports.

    Every step takes one of these; nothing else builds a path under the data folder.
    """

    root: Path
    encoder_slug: str = ""
    duckdb_path: Path | None = None
    """The DuckDB file on this machine's local disk, when the data folder is shared: writes go
    there and are copied to the folder's ``so_assets.duckdb`` for the other machines to read."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).absolute())
        if self.duckdb_path is not None:
            object.__setattr__(self, "duckdb_path", Path(self.duckdb_path).absolute())

    @cached_property
    def questions(self) -> QuestionStore:
        shared = self.root / "so_assets.duckdb"
        if self.duckdb_path is None or self.duckdb_path == shared:
            return QuestionStore(shared)
        return QuestionStore(self.duckdb_path, snapshot=shared)

    @property
    def embeddings_root(self) -> Path:
        return self.root / "embeddings"

    @cached_property
    def embeddings(self) -> EmbeddingStore:
        from so_assets.storage.embedding_store import EmbeddingStore

        return EmbeddingStore(self.embeddings_root, self._slug())

    @cached_property
    def tag_vectors(self) -> TagVectorStore:
        from so_assets.storage.tag_vector_store import TagVectorStore

        return TagVectorStore(self.embeddings_root / self._slug() / "tags.h5")

    @cached_property
    def tag_tree_vectors(self) -> TagVectorStore:
        """Every tag's vector as the tree used it (name blended with usage) and its count of
        training questions: written by ``tag_tree``, read by the imputation and the report."""
        from so_assets.storage.tag_vector_store import TagVectorStore

        return TagVectorStore(self.root / "tag_tree" / f"tag_vectors_{self._slug()}.h5")

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def tag_tree_export(self) -> Path:
        return self.root / "tag_tree" / "tag_tree.json"

    def _slug(self) -> str:
        if not self.encoder_slug:
            raise ValueError("these stores were opened without an encoder: embeddings are "
                             "kept per encoder slug")
        return self.encoder_slug
