"""Losses, thresholds, metrics and networks on small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse

from so_assets.evaluation.tag_metrics import (
    best_labels,
    frequency_buckets,
    multilabel_metrics,
    per_label_table,
    ranking_metrics,
)
from so_assets.models.core.thresholds import (
    apply_thresholds,
    best_global_threshold,
    best_label_thresholds,
    choose_thresholds,
)
from so_assets.models.training.losses import (
    AsymmetricLoss,
    FocalLoss,
    WeightedBCE,
    positive_weights,
)
from so_assets.models.training.networks import (
    DualStreamFusion,
    HierarchicalHeads,
    SequenceDSF,
    mixup,
)
from so_assets.models.training.torch_model import make_loss


def test_asl_without_focusing_or_clipping_is_bce():
    logits = torch.tensor([[2.0, -1.0, 0.3]])
    targets = torch.tensor([[1.0, 0.0, 1.0]])
    asl = AsymmetricLoss(gamma_neg=0, gamma_pos=0, clip=0)(logits, targets)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="sum")
    assert asl.item() == pytest.approx(bce.item(), rel=1e-5)


def test_asl_down_weights_easy_negatives():
    targets = torch.zeros(1, 1)
    easy, hard = torch.tensor([[-3.0]]), torch.tensor([[3.0]])
    loss = AsymmetricLoss()
    assert loss(easy, targets).item() < 1e-4 < loss(hard, targets).item()


def test_focal_loss_smooths_targets_and_focuses():
    loss = FocalLoss(gamma=2.0, smoothing=0.1)
    confident_right = loss(torch.tensor([[6.0]]), torch.tensor([[1.0]]))
    confident_wrong = loss(torch.tensor([[-6.0]]), torch.tensor([[1.0]]))
    assert confident_wrong > 10 * confident_right > 0  # smoothing keeps a small loss


def test_positive_weights_are_negative_to_positive_ratios():
    labels = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert positive_weights(labels.sum(0), 4, cap=50).tolist() == [1.0, 50.0]
    assert WeightedBCE(positive_weights(labels.sum(0), 4))(torch.zeros(4, 2), labels).item() > 0
    # a bool label matrix weighs the same whether dense or sparse (the tag labels are sparse)
    dense = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0], [0, 0, 0]], bool)
    weights = make_loss("bce", dense).pos_weight.tolist()
    assert weights == [1.0, 50.0, 1.0]
    assert make_loss("bce", sparse.csr_array(dense)).pos_weight.tolist() == weights


def test_threshold_search_finds_the_separating_value():
    truth = np.array([[1, 0], [1, 1], [0, 1], [1, 0]])
    scores = np.array([[0.9, 0.1], [0.7, 0.35], [0.2, 0.4], [0.6, 0.05]])
    threshold, f1 = best_global_threshold(truth, scores)
    assert f1 == 1.0 and 0.2 < threshold <= 0.35
    per_label = best_label_thresholds(truth, scores, 0.5, min_positives=2)
    assert 0.2 < per_label[0] <= 0.6 and 0.1 < per_label[1] <= 0.35
    thresholds, rule = choose_thresholds(truth, scores)
    assert "tuned on validation" in rule and thresholds.shape == (2,)
    assert apply_thresholds(np.array([[0.1, 0.2]]), 0.9).tolist() == [[False, True]]


@pytest.mark.parametrize("seed", range(6))
def test_threshold_searches_give_what_a_scan_of_the_grid_gives(seed, monkeypatch):
    """The one-pass searches (a ranking of each row's five best labels; a histogram of each
    label's scores) choose what scoring every grid value with the decision rule chooses."""
    from so_assets.evaluation.tag_metrics import micro_f1
    from so_assets.models.core import thresholds

    monkeypatch.setattr(thresholds, "LABEL_COLUMNS", 7)  # several blocks of labels
    rng = np.random.default_rng(seed)
    n, width = int(rng.integers(20, 300)), int(rng.integers(2, 60))
    truth = rng.random((n, width)) < rng.uniform(0.01, 0.3)
    scores = np.clip(rng.random((n, width)) ** rng.uniform(1, 6) + 0.3 * truth, 0, 1
                     ).astype(np.float32)
    scanned = max((micro_f1(truth, apply_thresholds(scores, t)), t) for t in thresholds.GRID)
    assert best_global_threshold(truth, scores) == pytest.approx((scanned[1], scanned[0]))

    own = best_label_thresholds(truth, scores, 0.5, min_positives=2)
    for label in range(width):
        y = truth[:, label]
        if y.sum() < 2:
            assert own[label] == 0.5
            continue
        f1s = [2 * (y & (scores[:, label] >= t)).sum() / ((scores[:, label] >= t).sum() + y.sum())
               for t in thresholds.GRID]
        assert own[label] == pytest.approx(thresholds.GRID[int(np.argmax(f1s))])


def test_decisions_name_one_to_five_labels_like_a_stackoverflow_question():
    scores = np.array([[0.9, 0.8, 0.7, 0.95, 0.6, 0.85, 0.1, 0.75],  # 7 above 0.5
                       [0.1, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],     # none above 0.5
                       [0.6, 0.7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    chosen = apply_thresholds(scores, 0.5)
    assert chosen.sum(1).tolist() == [5, 1, 2]
    assert np.flatnonzero(chosen[0]).tolist() == [0, 1, 3, 5, 7]  # the five best of the seven
    assert chosen[1].tolist() == [False, True, *[False] * 6]
    assert apply_thresholds(scores, 0.5, at_most=None)[0].sum() == 7



def test_crowded_rows_cut_a_chunk_at_a_time_keep_each_rows_five_best(monkeypatch):
    """Rows over five labels are cut in chunks (the whole copy took GBs at 15,000 tag labels):
    every chunk boundary must leave each row its own five best-scored labels."""
    from so_assets.models.core import thresholds

    rng = np.random.default_rng(3)
    scores = rng.random((50, 20)).astype(np.float32)
    monkeypatch.setattr(thresholds, "CROWDED_ROWS", 7)
    chosen = apply_thresholds(scores, 0.3)
    for row, picked in zip(scores, chosen, strict=True):
        best = set(np.argsort(-row, kind="stable")[:5].tolist())
        assert set(np.flatnonzero(picked).tolist()) == (
            best if (row >= 0.3).sum() > 5 else set(np.flatnonzero(row >= 0.3).tolist()))

def test_ranking_metrics_on_a_hand_example():
    truth = np.array([[1, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0]])
    scores = np.array([[0.9, 0.8, 0.7, 0.1, 0.0, 0.0], [0.9, 0.1, 0.0, 0.0, 0.0, 0.0]])
    m = ranking_metrics(truth, scores)
    assert m["P@1"] == 0.5 and m["P@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert m["R@5"] == 1.0
    first = (1 + 1 / np.log2(4)) / (1 + 1 / np.log2(3))
    second = (1 / np.log2(3)) / 1
    assert m["nDCG@5"] == pytest.approx((first + second) / 2)



@pytest.mark.parametrize("with_torch", [True, False], ids=["torch topk", "numpy argpartition"])
def test_best_labels_are_a_full_sorts_first_k_chunk_by_chunk(monkeypatch, with_torch):
    from so_assets.evaluation import tag_metrics

    rng = np.random.default_rng(8)
    scores = rng.permutation(40 * 30).reshape(40, 30).astype(np.float32)  # no ties
    monkeypatch.setattr(tag_metrics, "RANK_ROWS", 6)
    monkeypatch.setattr(tag_metrics, "torch_pays", lambda _: with_torch)
    assert best_labels(scores, 10).tolist() == np.argsort(-scores, axis=1)[:, :10].tolist()
    assert best_labels(scores[:, :3], 10).shape == (40, 3)  # fewer labels than asked

def test_both_ways_of_taking_each_row_s_top_columns_take_the_same_ones():
    from so_assets.evaluation.tag_metrics import top_columns, torch_pays

    rng = np.random.default_rng(3)
    scores = rng.permutation(300 * 500).reshape(300, 500).astype(np.float32) / 1e5  # no ties
    for k in (1, 5, 30):
        by_torch = np.sort(top_columns(scores, k, with_torch=True), axis=1)
        np.testing.assert_array_equal(by_torch,
                                      np.sort(top_columns(scores, k, with_torch=False), axis=1))
        np.testing.assert_array_equal(by_torch, np.sort(np.argsort(-scores, 1)[:, :k], axis=1))
    assert torch_pays(scores)  # torch is loaded in this process: no import to pay for
    assert not torch_pays(scores > 0.5)  # only float scores


def test_decisions_capped_at_five_are_the_same_either_way(monkeypatch):
    from so_assets.models.core import thresholds

    rng = np.random.default_rng(4)
    scores = rng.random((200, 40)).astype(np.float32)
    decided = {}
    for with_torch in (True, False):
        monkeypatch.setattr(thresholds, "torch_pays", lambda _, w=with_torch: w)
        decided[with_torch] = apply_thresholds(scores, 0.3)
    assert (decided[True].sum(1) == 5).all()  # every row was crowded: the cap decided
    np.testing.assert_array_equal(decided[True], decided[False])


def test_frequency_buckets_split_label_mass_in_thirds():
    train = np.zeros((100, 6))
    for label, n in enumerate((50, 20, 15, 10, 4, 1)):
        train[:n, label] = 1
    buckets = frequency_buckets(train)
    # label mass before each label: 0, .50, .70, .85, .95, .99
    assert buckets["head"].tolist() == [0] and buckets["torso"].tolist() == [1]
    assert buckets["tail"].tolist() == [2, 3, 4, 5]
    assert sorted(np.concatenate(list(buckets.values())).tolist()) == list(range(6))
    truth = train[:10]
    metrics = multilabel_metrics(truth, truth.astype(float), truth.astype(bool), buckets)
    assert metrics["micro_f1"] == 1.0 and metrics["recall_head"] == 1.0
    rows = per_label_table(truth, truth.astype(bool), list("abcdef"))
    assert rows[0] == {"label": "a", "support": 10, "precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_stream_tokens_make_cross_attention_weigh_several_keys():
    torch.manual_seed(0)
    model = DualStreamFusion(16, 5, fusion="cross", hidden=32, n_tokens=4, heads=4).eval()
    title, body = torch.randn(3, 16), torch.randn(3, 16)
    t, b = model.title(title), model.body(body)
    _, weights = model.block.attention(t, b, b, need_weights=True)
    assert weights.shape == (3, 4, 4)  # 4 title tokens over 4 body keys, not one key
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4)) and weights.max() < 1
    other = model.block.attention(model.title(torch.randn(3, 16)), b, b)[1]
    assert not torch.allclose(weights, other)  # ... depending on the title
    logits, _ = model(title, body)
    assert logits.shape == (3, 5)


def test_networks_produce_one_score_per_label():
    torch.manual_seed(0)
    assert DualStreamFusion(16, 7, fusion="self")(torch.randn(2, 16), torch.randn(2, 16))[
        0].shape == (2, 7)
    sequence = SequenceDSF(16, 7, hidden=32)
    mask = torch.ones(2, 32, dtype=torch.bool)
    mask[1, 3:] = False
    out = sequence(torch.randn(2, 4, 16), torch.ones(2, 4, dtype=torch.bool),
                   torch.randn(2, 32, 16), mask)
    assert out.shape == (2, 7) and torch.isfinite(out).all()
    heads = HierarchicalHeads(16, 3, [0, 0, 1, 2], hidden=32)
    clusters, tags = heads(torch.randn(2, 16), torch.randn(2, 16))
    scores = heads.tag_scores(clusters, tags)
    assert scores.shape == (2, 4)
    assert torch.all(scores <= torch.sigmoid(clusters)[:, [0, 0, 1, 2]] + 1e-6)


def test_mixup_blends_pairs():
    torch.manual_seed(0)
    hidden, targets = torch.eye(4), torch.eye(4)
    mixed, mixed_targets = mixup(hidden, targets, alpha=0.4)
    assert torch.allclose(mixed, mixed_targets) and torch.allclose(mixed.sum(1), torch.ones(4))
    assert mixup(hidden, targets, alpha=0)[0] is hidden


def test_a_label_on_every_training_question_scores_one_and_does_not_stop_the_fit():
    """An Android-only export tags every question ``android``: there is nothing to separate,
    so the label scores 1 (and a label never seen scores 0) while the others are fitted."""
    from scipy.sparse import csr_matrix

    from so_assets.models.tags.linear import LabelwiseLogistic

    rng = np.random.default_rng(0)
    x = csr_matrix(rng.random((40, 6)).astype(np.float32))
    y = np.zeros((40, 3), np.float32)
    y[:, 0] = 1  # every question
    y[:, 1] = (x[:, 2].toarray()[:, 0] > 0.5)  # learnable
    model = LabelwiseLogistic.fit(x, y, c=4.0)
    scores = model.scores(x)
    assert (scores[:, 0] == 1).all() and (scores[:, 2] == 0).all()
    assert scores[y[:, 1] > 0, 1].mean() > scores[y[:, 1] == 0, 1].mean()


def test_a_label_group_learns_from_its_own_rows_only():
    """With groups, a label's regression sees only its group's rows: a label positive on every
    row of its group scores 1 (nothing to separate there), the same label learned over every
    row separates; two threads fit the same weights as one."""
    from scipy.sparse import csr_matrix

    from so_assets.models.tags.linear import LabelGroup, LabelwiseLogistic

    rng = np.random.default_rng(0)
    x = csr_matrix(rng.random((60, 6)).astype(np.float32))
    y = np.zeros((60, 2), np.float32)
    y[:30, 0] = 1  # every row of the first group
    y[x[:, 3].toarray()[:, 0] > 0.5, 1] = 1
    groups = [LabelGroup(np.array([0]), np.arange(30)), LabelGroup(np.array([1]))]
    grouped = LabelwiseLogistic.fit(x, y, c=4.0, groups=groups)
    assert (grouped.scores(x)[:, 0] == 1).all()
    every = LabelwiseLogistic.fit(x, y, c=4.0, n_jobs=1)
    assert every.scores(x)[:30, 0].mean() > every.scores(x)[30:, 0].mean()
    np.testing.assert_allclose(grouped.scores(x)[:, 1], every.scores(x)[:, 1], atol=1e-6)


def test_the_stopping_tolerance_reaches_the_solver_and_a_loose_one_keeps_the_ranking():
    """``tol`` stops liblinear early: a tolerance near 1 leaves the weights far from the
    converged ones, the default 1e-2 keeps every score within a few hundredths of them and
    ranks the questions alike."""
    from scipy.sparse import random as sparse_random
    from scipy.stats import spearmanr

    from so_assets.models.tags.linear import LabelwiseLogistic, TfidfLinearParams

    rng = np.random.default_rng(0)
    x = sparse_random(400, 300, density=0.05, format="csr", random_state=rng, dtype=np.float32)
    y = (x @ rng.normal(size=(300, 1)) + rng.normal(scale=0.1, size=(400, 1)) > 0.2)
    converged = LabelwiseLogistic.fit(x, y.astype(np.float32), c=4.0, tol=1e-8).scores(x)[:, 0]
    default = LabelwiseLogistic.fit(x, y.astype(np.float32), c=4.0,
                                    tol=TfidfLinearParams().tol).scores(x)[:, 0]
    barely = LabelwiseLogistic.fit(x, y.astype(np.float32), c=4.0, tol=0.9).scores(x)[:, 0]
    assert np.abs(default - converged).max() < 0.05
    assert spearmanr(default, converged).statistic > 0.99
    assert np.abs(barely - converged).max() > 0.1


def test_a_label_learns_from_a_weighted_draw_of_its_negatives():
    """Over the budget, a label keeps every positive and draws that many negatives, weighted so
    each class carries half the total as under balanced class weights over every row: its
    scores stay close to the full fit's, where the same draw unweighted shifts them."""
    from scipy.sparse import csr_matrix

    from so_assets.models.tags import linear
    from so_assets.models.tags.linear import LabelwiseLogistic, _sampled_rows

    rng = np.random.default_rng(0)
    x = csr_matrix(rng.random((3000, 8)).astype(np.float32))
    noisy = x[:, :2].toarray().sum(1) + rng.normal(0, 0.3, 3000)
    y = (noisy > np.quantile(noisy, 0.9)).astype(np.float32)[:, None]
    assert _sampled_rows(y[:, 0], 2700, 0, seed=0) == (None, None)
    rows, weights = _sampled_rows(y[:, 0], 500, 0, seed=0)
    assert len(rows) == 800 and (y[rows, 0] > 0).sum() == 300
    assert weights[y[rows, 0] > 0].sum() == pytest.approx(1500)
    assert weights[y[rows, 0] == 0].sum() == pytest.approx(1500)
    # per positive: 300 positives x 3 = 900 negatives drawn, more than the 500
    more, more_weights = _sampled_rows(y[:, 0], 500, 3, seed=0)
    assert len(more) == 1200 and more_weights[y[more, 0] == 0].sum() == pytest.approx(1500)
    assert _sampled_rows(y[:, 0], 500, 9, seed=0) == (None, None)  # 2,700 is every negative

    full = LabelwiseLogistic.fit(x, y, c=4.0).scores(x)[:, 0]
    drawn = LabelwiseLogistic.fit(x, y, c=4.0, negatives=500).scores(x)[:, 0]
    assert np.abs(drawn - full).mean() < 0.02
    unweighted = linear._fit_label(linear._canonical(x)[rows], y[rows, 0], 4.0, 0.0, 0,
                                   1e-4, np.ones(len(rows)))
    logits = x @ unweighted[1].toarray()[0] + unweighted[2]
    assert np.abs(1 / (1 + np.exp(-logits)) - full).mean() > 0.04


def test_fitting_leaves_the_callers_matrix_as_it_was():
    """TF-IDF rows come with unsorted indices; the fit sorts its own float64 copy (sorting
    arrays shared with the float32 matrix scrambled it, and the tag fits after the cluster fits
    then learned from the scrambled rows)."""
    from scipy.sparse import csr_matrix

    from so_assets.models.tags.linear import LabelwiseLogistic

    x = csr_matrix((np.array([0.6, 0.8, 1.0, 0.5, 0.5], np.float32), np.array([2, 0, 1, 3, 1]),
                    np.array([0, 2, 3, 5])), shape=(3, 4))
    assert not x.has_sorted_indices
    before = x.toarray()
    LabelwiseLogistic.fit(x, np.array([[1, 0], [0, 1], [1, 1]], np.float32), c=1.0)
    np.testing.assert_array_equal(x.toarray(), before)


def test_xgboost_learns_when_training_holds_exactly_two_majority_clusters():
    """Two classes make XGBClassifier binary; on the Data Explorer export (clusters 0 and 5 of
    20 in training) its multiclass metric stopped the whole evaluate."""
    from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
    from so_assets.models.registry import tag_model

    rng = np.random.default_rng(0)

    def split(n: int) -> SplitData:
        y = rng.integers(0, 2, n)
        x = rng.normal(size=(n, 8)).astype(np.float32) + y[:, None] * 2.0
        clusters = np.zeros((n, 4), np.float32)
        clusters[np.arange(n), np.where(y == 1, 3, 0)] = 1  # clusters 0 and 3 only
        return SplitData(question_ids=np.arange(n), titles=["t"] * n, bodies=["b"] * n,
                         title_vectors=x, body_vectors=x, clusters=clusters,
                         tags=clusters.copy())

    labels = LabelSpace(["a", "b", "c", "d"], ["a", "b", "c", "d"], [0, 1, 2, 3])
    model = tag_model("xgboost").build(labels)
    model.fit(TrainingData(labels, split(200), split(60)))
    test = split(100)
    scores = model.predict_scores(test).clusters
    assert scores.shape == (100, 4) and np.all(scores[:, [1, 2]] == 0)
    assert (scores.argmax(1) == test.clusters.argmax(1)).mean() > 0.9


def test_tag_labels_are_held_sparse_and_read_dense_alike():
    """A split's tag labels are a sparse bool matrix (at 100,000 questions x 15,000 tag labels
    the dense one took 1.5 GB of every model step); models read rows or the whole as dense."""
    from so_assets.models.core.data import SplitData, sparse_multi_hot
    from so_assets.models.training.torch_model import FloatRows

    expected = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [0, 1, 0, 1]], bool)
    held = sparse_multi_hot([[2, 0], [], [1, 3, 1]], 4)
    assert sparse.issparse(held) and held.dtype == bool and held.nnz == 4
    np.testing.assert_array_equal(held.toarray(), expected)
    x = np.zeros((3, 2), np.float32)
    split = SplitData(question_ids=np.arange(3), titles=["t"] * 3, bodies=["b"] * 3,
                      title_vectors=x, body_vectors=x, clusters=np.zeros((3, 1), np.float32),
                      tags=expected)  # a dense matrix given is stored sparse
    assert sparse.issparse(split.tags) and split.tags.dtype == bool
    np.testing.assert_array_equal(split.tag_matrix(), expected)
    np.testing.assert_array_equal(split.subset(np.array([2, 0])).tag_matrix(), expected[[2, 0]])
    rows = FloatRows(split.tags)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[np.array([2, 2])], expected[[2, 2]].astype(np.float32))
