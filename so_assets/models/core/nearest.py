"""The k nearest rows of a unit-vector index by cosine: exact (faiss's brute-force search, a
block of queries and rows at a time) while the index is small; past ``exact_up_to`` rows a
faiss HNSW graph, whose build costs about n log n and each query about log n, where exact
search costs every query every row (the quadratic step of ``knn_votes`` at 100,000
questions)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

EXACT_UP_TO = 50_000
"""Index rows up to which search stays exact (benchmarks/neighbours.py, k = 25, a fifth of
the questions as queries, CPU s): on 100,000 synthetic vectors exact 28.9, the graph 54.2 to
build and 8.9 to search; on 30,000 generated questions the graph found 99.7 % of the exact
neighbours. Past this the graph's build, paid once, wins on the later batches of queries:
the daily predictions score every question (five times a fifth), the service one at a time."""
GRAPH_LINKS = 32  # HNSW's M: links per node
BUILD_BREADTH = 80  # efConstruction
SEARCH_BREADTH = 64  # efSearch, raised to 2k when k is larger


class NeighbourIndex:
    """Unit float32 rows to search by inner product (cosine)."""

    def __init__(self, vectors: np.ndarray, exact_up_to: int | None = None,
                 log: logging.Logger | None = None) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.graph = None
        if len(self.vectors) > (EXACT_UP_TO if exact_up_to is None else exact_up_to):
            self.graph = _build_graph(self.vectors, log)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def exact(self) -> bool:
        return self.graph is None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest index rows of each query (``min(k, len(self))`` when the index is
        smaller): [queries, k] similarities and row numbers, in no particular order."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, len(self))
        if self.graph is not None:
            self.graph.hnsw.efSearch = max(SEARCH_BREADTH, 2 * k)
            similarity, rows = self.graph.search(queries, k)
            return similarity, rows.astype(np.int64)
        if not k or not len(queries):
            return np.empty((len(queries), k), np.float32), np.empty((len(queries), k), np.int64)
        # a BLAS product of 4,096 queries x 1,024 rows at a time, then a heap of k per query:
        # about half the CPU of numpy's product and argpartition (benchmarks/neighbours.py)
        faiss = _faiss()
        similarity, rows = faiss.knn(queries, self.vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
        if (rows < 0).any():  # faiss leaves a query whose similarities are NaN without rows
            bad = np.flatnonzero((rows < 0).any(1))
            raise ValueError(f"{len(bad)} query vectors have no neighbour (NaN values?), e.g. "
                             f"query {bad[0]}")
        return similarity, rows.astype(np.int64)

    def save_graph(self, path: Path) -> None:
        """Write the graph (nothing when search is exact) so loading need not rebuild it."""
        if self.graph is not None:
            _faiss().write_index(self.graph, str(path))

    @classmethod
    def load(cls, vectors: np.ndarray, graph_path: Path) -> NeighbourIndex:
        """The index of ``vectors`` with the graph saved beside them (exact search when none
        was saved)."""
        if not graph_path.exists():
            return cls(vectors, exact_up_to=len(vectors))
        index = cls(vectors, exact_up_to=len(vectors))
        index.graph = _faiss().read_index(str(graph_path))
        if index.graph.ntotal != len(vectors):
            raise ValueError(f"{graph_path} holds {index.graph.ntotal} rows, the vectors "
                             f"{len(vectors)}")
        return index


def _faiss():
    """faiss, its loader's lines about which CPU builds it tried kept out of the run's log."""
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    import faiss

    return faiss


def _build_graph(vectors: np.ndarray, log: logging.Logger | None):
    import time

    faiss = _faiss()
    started = time.perf_counter()
    graph = faiss.IndexHNSWFlat(vectors.shape[1], GRAPH_LINKS, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = BUILD_BREADTH
    graph.add(vectors)
    if log is not None:
        log.info("neighbour graph over %d rows built in %.1f s", len(vectors),
                 time.perf_counter() - started)
    return graph
