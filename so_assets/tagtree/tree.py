"""The recursive tag tree: depth-1 label clusters, split again into branches, with path codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from so_assets.tagtree.geometry import normalize_rows
from so_assets.tagtree.spherical_kmeans import SphericalKMeans


@dataclass
class TreeNode:
    """One node: its members (tag indexes), mean direction and most representative tag."""

    node_id: int
    parent_id: int | None
    depth: int
    path: tuple[int, ...]
    members: np.ndarray
    mean: np.ndarray
    representative: str
    popular: list[str]
    children: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class TagTree:
    """Nodes by id (0 is the root), every tag's path code and depth-1 cluster."""

    tags: list[str]
    counts: np.ndarray
    nodes: list[TreeNode]
    tag_path: dict[str, tuple[int, ...]]
    requested_clusters: int
    notes: list[str]

    @property
    def clusters(self) -> list[TreeNode]:
        """The depth-1 nodes: the label clusters, ordered by their path code."""
        return [self.nodes[i] for i in self.nodes[0].children]

    def cluster_of(self) -> dict[str, int]:
        """Each tag's depth-1 cluster index (the first element of its path)."""
        return {tag: path[0] for tag, path in self.tag_path.items()}

    def cluster_means(self) -> np.ndarray:
        return np.vstack([c.mean for c in self.clusters])

    def cluster_names(self) -> list[str]:
        return [c.representative for c in self.clusters]

    def to_json(self) -> dict:
        return {
            "requested_clusters": self.requested_clusters,
            "clusters": len(self.clusters),
            "notes": self.notes,
            "nodes": [{
                "node_id": n.node_id, "parent_id": n.parent_id, "depth": n.depth,
                "path": list(n.path), "size": n.size, "representative": n.representative,
                "popular": n.popular, "members": [self.tags[i] for i in n.members],
                "children": n.children,
            } for n in self.nodes],
            "tag_paths": {tag: list(path) for tag, path in self.tag_path.items()},
        }


def build_tag_tree(tags: Sequence[str], vectors: np.ndarray, counts: Sequence[int], *,
                   n_clusters: int = 100, branching: int = 6, max_leaf_size: int = 12,
                   max_depth: int = 4, n_init: int = 3, random_state: int = 0) -> TagTree:
    """Recursive spherical k-means over tag vectors.

    The root holds every tag; depth 1 has ``n_clusters`` nodes (clamped to the number of tags,
    with a note); a node larger than ``max_leaf_size`` and shallower than ``max_depth`` is split
    into ``branching`` children. A tag's path code is the child indexes from the root to its
    leaf, so its first element is its label cluster.
    """
    tags = list(tags)
    if len(tags) == 0:
        raise ValueError("no tags to build a tree from")
    unit = normalize_rows(np.asarray(vectors, dtype=np.float32))
    count_array = np.asarray(counts, dtype=np.int64)
    notes = []
    k = min(n_clusters, len(tags))
    if k < n_clusters:
        notes.append(f"asked for {n_clusters} clusters but there are only {len(tags)} kept "
                     f"tags: using {k}")
    nodes: list[TreeNode] = []

    def add(parent: int | None, depth: int, path: tuple[int, ...], members: np.ndarray) -> int:
        mean = normalize_rows(unit[members].sum(0, keepdims=True))[0]
        by_similarity = members[np.argsort(-(unit[members] @ mean), kind="stable")]
        by_count = members[np.argsort(-count_array[members], kind="stable")]
        node = TreeNode(len(nodes), parent, depth, path, members, mean,
                        tags[by_similarity[0]], [tags[i] for i in by_count[:5]])
        nodes.append(node)
        return node.node_id

    def split(node_id: int, n_children: int) -> None:
        node = nodes[node_id]
        model = SphericalKMeans(n_children, n_init=n_init, random_state=random_state)
        labels = model.fit_predict(unit[node.members])
        # Children ordered by size (largest first), so path codes are stable and readable.
        order = sorted(np.unique(labels), key=lambda c: (-(labels == c).sum(), c))
        for index, cluster in enumerate(order):
            child = add(node_id, node.depth + 1, (*node.path, index),
                        node.members[labels == cluster])
            node.children.append(child)

    root = add(None, 0, (), np.arange(len(tags)))
    split(root, k)
    frontier = list(nodes[root].children)
    while frontier:
        node_id = frontier.pop(0)
        node = nodes[node_id]
        if node.size > max_leaf_size and node.depth < max_depth:
            split(node_id, min(branching, node.size))
            frontier.extend(node.children)
    tag_path = {}
    for node in nodes:
        if not node.children and node.depth > 0:
            for member in node.members:
                tag_path[tags[member]] = node.path
    return TagTree(tags, count_array, nodes, tag_path, n_clusters, notes)
