"""Score predictors: posting-time features only, every registered regressor trained for real on
small data with a learnable signal, intervals, metrics, and no leakage from later columns."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

import numpy as np
import pytest

from so_assets.evaluation.score_metrics import bucket_errors, regression_metrics
from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
from so_assets.models.core.target import signed_expm1, signed_log1p
from so_assets.models.registry import SCORE_MODELS, baseline_for, is_baseline, load_model
from so_assets.models.scores.features import tabular_features, tabular_names

LABELS = LabelSpace(["a", "b", "c"], ["x", "y", "z"], [0, 1, 2])


def synthetic_split(n: int, seed: int) -> SplitData:
    """Questions whose score follows their body vector, code blocks and the asker's
    reputation (heavy-tailed through the signed-log link), with noise."""
    rng = np.random.default_rng(seed)
    title, body = rng.normal(size=(n, 6)).astype(np.float32), rng.normal(size=(n, 6)).astype(
        np.float32)
    code = rng.integers(0, 3, n).astype(float)
    reputation = np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(5, 2, n))
    latent = (0.8 * body[:, 0] + 0.4 * title[:, 1] + 0.5 * code
              + 0.3 * np.nan_to_num(np.log10(reputation)) + rng.normal(0, 0.3, n))
    clusters = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    created = np.datetime64("2024-03-01T00:00:00") + rng.integers(0, 86_400 * 30, n).astype(
        "timedelta64[s]")
    return SplitData(
        question_ids=np.arange(n), titles=["title " * int(k) for k in rng.integers(2, 9, n)],
        bodies=["body text " * int(k) for k in rng.integers(5, 50, n)], title_vectors=title,
        body_vectors=body, clusters=clusters, tags=clusters.copy(),
        columns={"creation_date": created, "code_block_count": code,
                 "num_tags": rng.integers(1, 6, n).astype(float), "owner_reputation": reputation},
        scores=np.round(signed_expm1(latent)), score_age_days=np.full(n, 400.0))


@pytest.fixture(scope="module")
def data() -> tuple[TrainingData, SplitData]:
    return (TrainingData(LABELS, synthetic_split(600, 0), synthetic_split(150, 1)),
            synthetic_split(200, 2))


def test_posting_time_features_have_names_and_meanings():
    split = synthetic_split(5, 3)
    split.columns["creation_date"][0] = np.datetime64("2024-03-04T18:00:00")  # a Monday
    split.columns["owner_reputation"][1] = np.nan
    features = tabular_features(split, LABELS.n_clusters)
    names = tabular_names(LABELS.n_clusters)
    assert features.shape == (5, len(names)) and features.dtype == np.float32
    row = dict(zip(names, features[0], strict=True))
    assert row["weekday_0"] == 1 and sum(row[f"weekday_{d}"] for d in range(7)) == 1
    assert row["hour_sin"] == pytest.approx(np.sin(2 * np.pi * 18 / 24), abs=1e-6)
    assert row["log_horizon_days"] == pytest.approx(np.log1p(400), abs=1e-5)
    missing = dict(zip(names, features[1], strict=True))
    assert missing["owner_reputation_unknown"] == 1 and missing["log_owner_reputation"] == 0
    split.columns["num_tags"][:] = 40
    assert np.all(tabular_features(split, 3)[:, names.index("tag_count_clipped")] == 5)
    split.columns["view_count"] = np.ones(5)
    with pytest.raises(ValueError, match=r"\['view_count'\] are not known at posting time"):
        tabular_features(split, 3)


@pytest.mark.parametrize("spec", SCORE_MODELS, ids=lambda s: s.name)
def test_every_score_model_learns_saves_and_loads(spec, data, tmp_path):
    training, test = data
    model = spec.build(LABELS)
    model.fit(training, checkpoint=tmp_path / "best.pt", log=logging.getLogger("test"))
    model.calibrate(training.validation)
    validation = model.evaluate(training.validation)
    baseline = baseline_for(spec.model, LABELS, spec.params)
    baseline.fit(training)
    reference = baseline.evaluate(training.validation)["rmse_target"]
    if is_baseline(spec):
        assert validation["rmse_target"] == pytest.approx(reference)
    else:
        assert spec.model.beats(validation["rmse_target"], reference), (validation, reference)
        assert validation["spearman"] > 0.5
    model.save(tmp_path / "saved")
    restored = load_model(tmp_path / "saved")
    before, after = model.predict_scores(test), restored.predict_scores(test)
    assert np.allclose(before.score, after.score, rtol=1e-5, atol=1e-5)
    if before.score_low is not None:
        assert np.all(before.score_low <= before.score) and np.all(
            before.score <= before.score_high)
        def coverage(split, scores) -> float:
            return float(np.mean((split.scores >= scores.score_low)
                                 & (split.scores <= scores.score_high)))

        # split-conformal on validation: 80 % there by construction, and on unseen questions
        assert 0.78 <= coverage(training.validation,
                                model.predict_scores(training.validation)) <= 0.85
        assert 0.72 <= coverage(test, before) <= 0.88


def test_recalibration_shrinks_noise_toward_the_mean_and_keeps_signal(data):
    training, test = data
    spec = next(s for s in SCORE_MODELS if s.name == "xgboost")
    signal = spec.build(LABELS)
    signal.fit(training)
    signal.calibrate(training.validation)
    assert 0.6 < signal.recalibration[1] <= 1.0

    rng = np.random.default_rng(7)
    shuffled = [dataclasses.replace(split, scores=rng.permutation(split.scores))
                for split in (training.train, training.validation, test)]
    noise = spec.build(LABELS)
    noise.fit(TrainingData(LABELS, shuffled[0], shuffled[1]))
    raw_rmse = noise.evaluate(shuffled[2])["rmse_log"]
    noise.calibrate(shuffled[1])
    assert noise.recalibration[1] < 0.3  # scores unrelated to the text: little slope is left
    assert noise.evaluate(shuffled[2])["rmse_log"] < raw_rmse
    mean = baseline_for(spec.model, LABELS, spec.params)
    mean.fit(TrainingData(LABELS, shuffled[0], shuffled[1]))
    mean.calibrate(shuffled[1])  # the baseline stays the training mean
    assert mean.evaluate(shuffled[2])["rmse_log"] == pytest.approx(
        float(np.sqrt(np.mean((signed_log1p(shuffled[2].scores)
                               - signed_log1p(shuffled[0].scores).mean()) ** 2))), rel=1e-6)


def test_questions_without_scores_are_left_out_or_refused():
    unscored = synthetic_split(50, 4)
    unscored.scores = np.full(50, np.nan)
    model = SCORE_MODELS[0].build(LABELS)
    with pytest.raises(ValueError, match="no question here has a score"):
        model.fit(TrainingData(LABELS, unscored, unscored))
    mixed = synthetic_split(50, 5)
    mixed.scores[:10] = np.nan
    model.fit(TrainingData(LABELS, mixed, mixed))
    assert np.isfinite(model.evaluate(mixed)["rmse"])


def test_regression_metrics_on_a_hand_example():
    truth = np.array([0.0, 1.0, 3.0, 100.0])
    predicted = np.array([0.0, 2.0, 3.0, 50.0])
    m = regression_metrics(truth, predicted)
    assert m["rmse"] == pytest.approx(np.sqrt((1 + 2500) / 4))
    assert m["mae"] == pytest.approx(51 / 4) and m["spearman"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(1 - 2501 / np.sum((truth - truth.mean()) ** 2))
    assert m["rmse_log"] == pytest.approx(np.sqrt(np.mean(
        (signed_log1p(predicted) - signed_log1p(truth)) ** 2)))
    assert signed_expm1(signed_log1p(np.array([-5.0, 0.0, 7.0]))).tolist() == pytest.approx(
        [-5.0, 0.0, 7.0])
    rows = bucket_errors(truth, predicted, truth, ((0, 1, "0"), (1, 10, "1-9"),
                                                    (10, np.inf, "10+")))
    assert [(r["bucket"], r["questions"]) for r in rows] == [("0", 1), ("1-9", 2), ("10+", 1)]
    assert rows[2]["mean_error"] == -50


def test_post_hoc_columns_never_reach_a_score_model(tmp_path):
    """Views, answers, comments and anything about accepted answers change after posting:
    scrambling them in the database must leave every model input exactly as it was."""
    from so_assets.models.prediction.assemble import label_space, load_split
    from so_assets.steps.models import SplitParams, assign_dataset_splits
    from so_assets.storage.embedding_store import VECTORS
    from so_assets.storage.questions_refresh import refresh_questions
    from so_assets.storage.stores import Stores
    from so_assets.storage.tag_tables import StoredTree
    from so_assets_tests.conftest import sample_batches

    stores = Stores(tmp_path, "slug")
    days = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
    stores.questions.replace_partitions(sample_batches(days), "sample", "stackoverflow")
    refresh_questions(stores.questions)
    assign_dataset_splits(stores, SplitParams())
    with stores.questions.connect() as con:
        con.execute("INSERT INTO tag_labels SELECT question_id, tags[1:1], [0], false "
                    "FROM questions")
    for day in days:
        ids, _, _ = stores.questions.question_texts(day)
        rng = np.random.default_rng(int(ids[0]))
        stores.embeddings.write(VECTORS, day, {
            "question_id": ids, "title": rng.normal(size=(len(ids), 4)).astype(np.float32),
            "body": rng.normal(size=(len(ids), 4)).astype(np.float32)}, {})
    tree = StoredTree({}, 1, 0.0, {"python": (0,)}, {"python": 1}, ["python"], np.eye(1, 4))
    labels = label_space(tree)

    def model_inputs():
        split = load_split(stores, labels, "train")
        return split, tabular_features(split, labels.n_clusters)

    before, features_before = model_inputs()
    with stores.questions.connect() as con:
        con.execute("""UPDATE questions SET view_count = 999999, answer_count = 77,
                       has_accepted_answer = NOT has_accepted_answer, accepted_answer_id = 1,
                       accepted_answer_score = 500, time_to_accepted_answer_hours = 0.1,
                       accepted_answer_length_chars = 3, accepted_answer_length_tokens = 1""")
    after, features_after = model_inputs()
    assert len(before) > 50
    assert np.array_equal(features_before, features_after)
    for name in ("titles", "bodies", "clusters"):
        assert np.array_equal(np.asarray(getattr(before, name)),
                              np.asarray(getattr(after, name))), name
    assert before.columns.keys() == after.columns.keys() == {
        "creation_date", "code_block_count", "num_tags", "owner_reputation"}
    for name, values in before.columns.items():
        assert np.array_equal(values, after.columns[name], equal_nan=name != "creation_date")
