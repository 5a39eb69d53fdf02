"""The recursive tree, orphan imputation, labels and the dual-encoder matcher."""

from __future__ import annotations

import numpy as np
import pytest

from so_assets.tagtree.geometry import normalize_rows
from so_assets.tagtree.imputation import impute_orphans
from so_assets.tagtree.matcher import DualEncoderMatcher
from so_assets_tests.tagtree.test_spherical_kmeans import clustered


@pytest.fixture(scope="module")
def tags():
    x, truth = clustered(n=400, dim=24, k=8, noise=0.4, seed=5)
    names = [f"tag{i}" for i in range(len(x))]
    counts = np.random.default_rng(0).zipf(1.6, len(x)).clip(max=5000)
    return names, x, counts, truth


def test_tree_covers_every_tag_once_with_consistent_paths(tags):
    from so_assets.tagtree.tree import build_tag_tree

    names, x, counts, truth = tags
    tree = build_tag_tree(names, x, counts, n_clusters=8, branching=3, max_leaf_size=10,
                          max_depth=4)
    assert len(tree.clusters) == 8 and tree.notes == []
    members = np.concatenate([c.members for c in tree.clusters])
    assert sorted(members.tolist()) == list(range(len(names)))  # each tag exactly once
    for node in tree.nodes[1:]:
        parent = tree.nodes[node.parent_id]
        assert node.path[:-1] == parent.path and node.depth == len(node.path)
        assert set(node.members) <= set(parent.members)
        assert np.isclose(np.linalg.norm(node.mean), 1)
        if node.children:
            assert sum(tree.nodes[c].size for c in node.children) == node.size
        else:
            assert node.size <= 10 or node.depth == 4
        sims = x[node.members] @ node.mean
        assert sims[node.members.tolist().index(names.index(node.representative))] == (
            pytest.approx(sims.max(), abs=1e-5))
        assert node.popular[0] == names[node.members[np.argmax(counts[node.members])]]
    assert set(tree.tag_path) == set(names)
    for name, path in tree.tag_path.items():
        leaf = next(n for n in tree.nodes if n.path == path)
        assert names.index(name) in leaf.members
    # the planted clusters come back: each depth-1 cluster is dominated by one true group
    purity = [np.bincount(truth[c.members]).max() / c.size for c in tree.clusters]
    assert np.mean(purity) > 0.9


def test_fewer_tags_than_clusters_is_clamped_and_noted(tags):
    from so_assets.tagtree.tree import build_tag_tree

    names, x, counts, _ = tags
    tree = build_tag_tree(names[:5], x[:5], counts[:5], n_clusters=100)
    assert len(tree.clusters) == 5
    assert "only 5 kept tags" in tree.notes[0]


def test_orphans_map_to_their_most_similar_kept_tag(tags):
    names, x, counts, _ = tags
    imputation = impute_orphans(names, x, counts, min_tag_count=3)
    kept = set(imputation.kept)
    assert kept == {n for n, c in zip(names, counts, strict=True) if c >= 3}
    assert set(imputation.orphan_target) == set(names) - kept
    unit = normalize_rows(x)
    for orphan, target in list(imputation.orphan_target.items())[:20]:
        i = names.index(orphan)
        sims = {k: float(unit[i] @ unit[names.index(k)]) for k in kept}
        assert target == max(sims, key=sims.get)
        assert imputation.orphan_similarity[orphan] == pytest.approx(sims[target], abs=1e-5)


def test_question_labels_use_kept_tags_first_then_imputed_targets(tags):
    names, x, counts, _ = tags
    imputation = impute_orphans(names, x, counts, min_tag_count=3)
    kept, orphan = imputation.kept[0], next(iter(imputation.orphan_target))
    cluster_of = {t: i % 4 for i, t in enumerate(imputation.kept)}
    assert imputation.labels_for([kept, orphan], cluster_of) == ([kept], [cluster_of[kept]],
                                                                 False)
    target = imputation.orphan_target[orphan]
    assert imputation.labels_for([orphan, "never-seen"], cluster_of) == (
        [target], [cluster_of[target]], True)
    assert imputation.labels_for([], cluster_of) == ([], [], False)


def test_no_kept_tag_is_a_clear_error(tags):
    names, x, counts, _ = tags
    with pytest.raises(ValueError, match="lower min_tag_count"):
        impute_orphans(names, x, counts, min_tag_count=10**9)


def test_matcher_ranks_clusters_by_cosine_and_builds_the_top2_confusion():
    means = np.eye(4)
    matcher = DualEncoderMatcher(means, ["a", "b", "c", "d"])
    title = np.array([[0.9, 0.1, 0, 0], [0, 0, 1, 0.2]])
    body = np.array([[1, 0.3, 0, 0], [0, 0.1, 1, 0]])
    top = matcher.top_k(title, body, k=3)
    assert top[:, 0].tolist() == [0, 2] and top[0, 1] == 1
    confusion = matcher.top2_confusion([True, False], top, cluster=1)
    assert confusion.tolist() == [[1, 0], [0, 1]]


def test_matcher_ranks_real_encoded_text(minilm):
    names = ["pandas dataframe", "docker container", "react component"]
    matcher = DualEncoderMatcher(minilm.encode(names).vectors, names)
    title = minilm.encode(["Merge two DataFrames on a column"], is_query=True).vectors
    body = minilm.encode(["I have two pandas DataFrames and want to join them."],
                         is_query=True).vectors
    scores = matcher.scores(title, body)[0]
    assert names[matcher.top_k(title, body, 3)[0][0]] == "pandas dataframe"
    assert sorted(scores, reverse=True)[0] > sorted(scores, reverse=True)[1]


def test_orphans_below_the_minimum_similarity_stay_unmapped(tags):
    names, x, counts, _ = tags
    everything = impute_orphans(names, x, counts, min_tag_count=3)
    floor = float(np.median(list(everything.orphan_similarity.values())))
    strict = impute_orphans(names, x, counts, min_tag_count=3, min_similarity=floor)
    assert set(strict.orphan_target) | set(strict.unmapped) == set(everything.orphan_target)
    assert strict.unmapped and strict.orphan_target
    assert all(s < floor for s in strict.unmapped.values())
    assert all(s >= floor for s in strict.orphan_similarity.values())
    unmapped = next(iter(strict.unmapped))
    assert strict.labels_for([unmapped], {t: 0 for t in strict.kept}) == ([], [], False)
