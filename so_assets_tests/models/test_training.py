"""The trainer, stable splits, and atomic publication of models (a kill mid-training)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import pytest
import torch

from so_assets.models.core.data import LabelSpace, SplitData, TrainingData
from so_assets.models.core.thresholds import best_global_threshold
from so_assets.models.publication.artifacts import (
    current_dir,
    new_version_dir,
    publish,
    published_models,
)
from so_assets.models.training.config import TrainConfig
from so_assets.models.training.networks import MLP
from so_assets.models.training.torch_loop import seed_everything, train_network
from so_assets.stackexchange.sample import SampleTransport
from so_assets.storage.leftovers import this_host
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets.storage.splits import assign_splits
from so_assets_tests.conftest import sample_batches


def separable(n=600, dim=8, labels=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    y = np.stack([x[:, i] > 0.3 for i in range(labels)], axis=1).astype(np.float32)
    return x, y


def fit_mlp(tmp_path, epochs=30, patience=5, lr=3e-3):
    x, y = separable()
    seed_everything(0)
    model = MLP(8, 3, hidden=32, dropout=0.0)
    val = slice(500, 600)

    def batches():
        for lo in range(0, 500, 50):
            yield x[lo : lo + 50], y[lo : lo + 50]

    def loss_of_batch(m, batch, device):
        xb, yb = (torch.from_numpy(a) for a in batch)
        logits, targets = m(xb[:, :4], xb[:, 4:], targets=yb)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)

    def validation_scores(m, device):
        xv = torch.from_numpy(x[val])
        return torch.sigmoid(m(xv[:, :4], xv[:, 4:])[0]).numpy()

    def validate(m, device):
        return best_global_threshold(y[val], validation_scores(m, device))[1]

    config = TrainConfig(epochs=epochs, patience=patience, lr=lr, device="cpu")
    result = train_network(model, config, batches, 10, loss_of_batch, validate,
                           checkpoint=tmp_path / "best.pt")
    return model, result, validation_scores


def test_trainer_learns_keeps_the_best_state_and_checkpoints(tmp_path):
    model, result, _ = fit_mlp(tmp_path)
    assert result.best_score > 0.8 and result.best_score > result.history[0]["validation"]
    assert result.history[result.best_epoch - 1]["validation"] == result.best_score
    saved = torch.load(tmp_path / "best.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("fast_bf16", [True, False])
def test_training_runs_in_bf16_only_where_the_cpu_multiplies_it(fast_bf16, monkeypatch,
                                                                tmp_path):
    """With bf16 matrix units the training steps' matrix products run in bf16 (the weights
    and validation stay float32) and the network still learns; elsewhere all is float32."""
    import so_assets.models.training.torch_loop as torch_loop

    monkeypatch.setattr(torch_loop, "cpu_has_fast_bf16", lambda: fast_bf16)
    dtypes: dict[bool, set[torch.dtype]] = {True: set(), False: set()}
    hook = torch.nn.modules.module.register_module_forward_hook(
        lambda module, _, out: dtypes[module.training].add(out.dtype)
        if isinstance(module, torch.nn.Linear) else None)
    try:
        model, result, _ = fit_mlp(tmp_path, epochs=10)
    finally:
        hook.remove()
    assert dtypes[True] == ({torch.bfloat16} if fast_bf16 else {torch.float32})
    assert dtypes[False] == {torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert result.best_score > 0.8


def test_early_stopping_stops_when_validation_stalls(tmp_path):
    _, result, _ = fit_mlp(tmp_path, epochs=200, patience=2, lr=1e-7)
    assert len(result.history) < 200
    assert len(result.history) - result.best_epoch == 2


def test_gains_below_the_validation_noise_do_not_keep_training_going():
    """Figures creeping up by less than ``min_gain`` stop the training ``patience`` epochs
    after the last real gain; the best figure's state is still the one kept."""
    figures = [0.50, 0.60, 0.61, 0.615, 0.62, 0.625, 0.63, 0.635, 0.64, 0.645]

    def run(min_gain: float):
        seed_everything(0)
        model = torch.nn.Linear(2, 1)
        states = []

        def validate(m, device):
            states.append({k: v.clone() for k, v in m.state_dict().items()})
            return figures[len(states) - 1]

        def loss_of_batch(m, batch, device):
            return m(torch.ones(4, 2)).pow(2).mean()

        config = TrainConfig(epochs=len(figures), patience=3, lr=1e-2, device="cpu")
        result = train_network(model, config, lambda: iter([0]), 1, loss_of_batch, validate,
                               min_gain=min_gain)
        return model, result, states

    model, result, states = run(min_gain=0.05)
    assert len(result.history) == 5 and result.best_epoch == 5
    assert all(torch.equal(model.state_dict()[k], v) for k, v in states[4].items())
    _, every_gain_counts, _ = run(min_gain=0.0)
    assert len(every_gain_counts.history) == len(figures)


@pytest.fixture
def question_store(tmp_path):
    store = QuestionStore(tmp_path / "q.duckdb")
    days = SampleTransport().days()
    store.replace_partitions(sample_batches(days[:10]), "sample",
                             "stackoverflow")
    refresh_questions(store)
    return store, days


def splits_of(store):
    with duckdb.connect(str(store.path), read_only=True) as con:
        return dict(con.execute("SELECT question_id, split FROM dataset_splits").fetchall())


def test_splits_are_stable_as_partitions_arrive(question_store):
    store, days = question_store
    counts = assign_splits(store)
    assert counts["train"] > 5 * counts["test"] > 0 and counts["validation"] > 0
    before = splits_of(store)
    store.replace_partitions(sample_batches(days[10:]), "sample",
                             "stackoverflow")
    refresh_questions(store)
    assign_splits(store)
    after = splits_of(store)
    assert len(after) > len(before)
    assert {q: after[q] for q in before} == before


def test_duplicates_never_straddle_splits(question_store):
    store, _ = question_store
    with store.connect() as con:
        con.execute("INSERT INTO questions SELECT question_id + 10000000, * EXCLUDE (question_id)"
                    " FROM questions LIMIT 300")  # the same texts again under new ids
    assign_splits(store)
    with duckdb.connect(str(store.path), read_only=True) as con:
        straddling = con.execute(
            "SELECT count(*) FROM dataset_splits a JOIN dataset_splits b "
            "ON a.question_id + 10000000 = b.question_id WHERE a.split <> b.split").fetchall()
    assert straddling == [(0,)]


def test_an_unpublished_version_is_never_served(tmp_path):
    first = new_version_dir(tmp_path, "m")
    (first / "weights").write_text("complete")
    publish(first)
    half = new_version_dir(tmp_path, "m")
    (half / "weights").write_text("half")  # killed before publish
    assert current_dir(tmp_path, "m") == first.resolve()
    assert published_models(tmp_path) == ["m"]
    with pytest.raises(FileNotFoundError, match="materialize the asset other"):
        current_dir(tmp_path, "other")


def test_killing_training_mid_way_keeps_the_previous_model(tmp_path):
    script = textwrap.dedent(f"""
        import logging, os, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from so_assets_tests.models.test_training import fit_publish

        class KillAtEpoch3(logging.Handler):
            def emit(self, record):
                if "epoch 3/" in record.getMessage():
                    os.kill(os.getpid(), signal.SIGKILL)

        kill = sys.argv[1] == "kill"
        log = logging.getLogger("training")
        log.setLevel(logging.INFO)
        if kill:
            log.addHandler(KillAtEpoch3())
        fit_publish(Path({str(tmp_path)!r}), log, seed=1 if kill else 0)
    """)
    ok = subprocess.run([sys.executable, "-c", script, "run"], capture_output=True)
    assert ok.returncode == 0, ok.stderr.decode()[-2000:]
    served = current_dir(tmp_path, "tag_model_mlp")
    killed = subprocess.run([sys.executable, "-c", script, "kill"], capture_output=True)
    assert killed.returncode == -9
    assert current_dir(tmp_path, "tag_model_mlp") == served
    versions = [p for p in (tmp_path / "tag_model_mlp").iterdir() if p.name.startswith("v")]
    assert len(versions) == 2  # the half-trained one exists, unpublished
    from so_assets.models.registry import load_model

    model = load_model(served)
    assert model.network is not None and (served / "metrics.json").exists()


def synthetic_data(x: np.ndarray, clusters: np.ndarray, train: slice, validation: slice):
    """TrainingData over hand-made vectors (4 + 4 dimensions) and cluster labels."""

    def split(rows):
        n = len(range(len(x))[rows])
        return SplitData(question_ids=np.arange(n), titles=["t"] * n, bodies=["b"] * n,
                         title_vectors=x[rows, :4], body_vectors=x[rows, 4:],
                         clusters=clusters[rows], tags=np.zeros((n, 1), np.float32))

    return TrainingData(LabelSpace(["a", "b", "c"], ["tag"], [0]), split(train),
                        split(validation))


def fit_publish(models_dir: Path, log, seed: int = 0) -> None:
    """Train the registered MLP on synthetic data and publish it (used by the kill test; a
    new ``seed`` makes new inputs, which are trained on rather than found trained)."""
    from so_assets.models.publication.train import train_and_publish
    from so_assets.models.registry import tag_model

    x, y = separable(n=400, seed=seed)
    train_and_publish(tag_model("mlp"), synthetic_data(x, y, slice(0, 300), slice(300, 400)),
                      models_dir, {}, log)


def test_xgboost_with_one_majority_cluster_predicts_it(tmp_path):
    """Real case: in the Android BigQuery slice every question's majority cluster is the same."""
    from so_assets.models.registry import load_model, tag_model

    x, _ = separable(n=60)
    clusters = np.zeros((60, 3), np.float32)
    clusters[:, 0] = 1
    clusters[::2, 2] = 1
    data = synthetic_data(x, clusters, slice(0, 40), slice(40, 60))
    model = tag_model("xgboost").build(data.labels)
    model.fit(data)
    model.save(tmp_path)
    restored = load_model(tmp_path)
    assert restored.predict_scores(data.validation).clusters[0].tolist() == [1.0, 0.0, 0.0]


def test_a_killed_trainings_folder_is_never_kept_as_a_fallback(tmp_path):
    good = new_version_dir(tmp_path, "m")
    (good / "weights").write_text("good")
    publish(good)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)
    killed = tmp_path / "m" / f"v20990101T000000000000Z-{this_host()}~{int(dead.stdout)}"
    killed.mkdir()
    (killed / "weights").write_text("half")  # a training killed before it published
    newer = new_version_dir(tmp_path, "m")
    (newer / "weights").write_text("new")
    publish(newer)
    versions = sorted(p.name for p in (tmp_path / "m").iterdir() if p.name.startswith("v"))
    assert versions == sorted([good.name, newer.name])  # the good one is the fallback
    assert current_dir(tmp_path, "m") == newer.resolve()


def test_loading_never_leaves_the_models_folder(tmp_path):
    from so_assets.cli import main

    outside = tmp_path / "elsewhere" / "m" / "v1"
    outside.mkdir(parents=True)
    models = tmp_path / "data" / "models"
    (models / "tag_model_mlp").mkdir(parents=True)
    (models / "tag_model_mlp" / "current").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        current_dir(models, "tag_model_mlp")
    with pytest.raises(SystemExit, match=r"no tag model '../../../elsewhere/m'; registered"):
        main(["predict", "--data-dir", str(tmp_path / "data"), "--model",
              "../../../elsewhere/m", "--title", "t"])


@pytest.mark.parametrize("name", ["mlp", "dsf_cross_attention"])
def test_two_trainings_on_the_same_inputs_give_the_same_model(name, tmp_path):
    """Seeding happens before the network is built; dropout, mixup and batch order are
    seeded; torch runs deterministic kernels on the CPU."""

    from so_assets.models.publication.train import train_and_publish
    from so_assets.models.registry import tag_model

    x, y = separable(n=400)
    data = synthetic_data(x, y, slice(0, 300), slice(300, 400))
    spec = tag_model(name)
    spec = spec.with_params({"train": {"epochs": 6}})
    first = train_and_publish(spec, data, tmp_path / "a")
    second = train_and_publish(spec, data, tmp_path / "b")
    assert np.array_equal(first.model.predict_scores(data.validation).clusters,
                          second.model.predict_scores(data.validation).clusters)
    assert first.metrics["validation"] == second.metrics["validation"]
    assert first.metrics["history"][-1]["train_loss"] == second.metrics["history"][-1][
        "train_loss"]


def test_published_validation_scores_are_reused_only_for_the_same_questions(tmp_path,
                                                                            monkeypatch):
    """The report reads a model's stored validation scores instead of scoring validation
    again: they equal what the published model gives, and another split gets none."""
    from so_assets.models.publication import held_out
    from so_assets.models.publication.train import train_and_publish
    from so_assets.models.registry import load_model, tag_model

    x, y = separable(n=400)
    data = synthetic_data(x, y, slice(0, 300), slice(300, 400))
    trained = train_and_publish(tag_model("mlp"), data, tmp_path / "models")
    ids = data.validation.question_ids
    stored = held_out.read_held_out_scores(trained.folder, ids)
    fresh = load_model(trained.folder).held_out_scores(data.validation)
    np.testing.assert_allclose(stored.clusters, fresh.clusters, atol=1e-6)
    assert (stored.tags is None) == (fresh.tags is None)
    assert held_out.read_held_out_scores(trained.folder, ids[::-1]) is None
    assert held_out.read_held_out_scores(trained.folder, ids[:-1]) is None

    monkeypatch.setattr(held_out, "MAX_STORED_MB", 0)
    too_big = train_and_publish(tag_model("mlp"), data, tmp_path / "other")
    assert not (too_big.folder / held_out.FILE).exists()
    assert held_out.read_held_out_scores(too_big.folder, ids) is None


def _worded_split(n: int, seed: int, n_tags: int = 24, words: int = 400) -> SplitData:
    """Questions whose words come from their tags' topic words and a common pool."""
    rng = np.random.default_rng(seed)
    topic_words = np.random.default_rng(99).integers(0, words, size=(n_tags, 12))
    tags = np.zeros((n, n_tags), bool)
    titles, bodies = [], []
    for i in range(n):
        chosen = rng.choice(n_tags, rng.integers(1, 3), replace=False)
        tags[i, chosen] = True
        pool = np.concatenate([topic_words[chosen].ravel(), rng.integers(0, words, 20)])
        titles.append(" ".join(f"w{w}" for w in rng.choice(pool, 6)))
        bodies.append(" ".join(f"w{w}" for w in rng.choice(pool, 30)))
    clusters = np.zeros((n, 6), np.float32)
    for t in range(n_tags):
        clusters[tags[:, t], t % 6] = 1
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return SplitData(question_ids=np.arange(n) + 10_000 * seed, titles=titles, bodies=bodies,
                     title_vectors=x, body_vectors=x, clusters=clusters, tags=tags)


def test_tfidf_linear_fits_the_same_model_on_two_processes_as_in_one(monkeypatch):
    """liblinear's random generator is one per process: on threads, fits side by side took
    each other's draws and two trainings differed (here by up to 5e-4)."""
    from so_assets.models.registry import tag_model
    from so_assets.models.tags import linear

    labels = LabelSpace([f"c{i}" for i in range(6)], [f"t{i}" for i in range(24)],
                        [i % 6 for i in range(24)])
    data = TrainingData(labels, _worded_split(3000, 0), _worded_split(300, 1))
    monkeypatch.setattr(linear, "PROCESSES_FROM", 0)  # these few fits go to processes too
    scores = []
    for threads in (2, 2, 1):
        model = tag_model("tfidf_linear").with_params({"threads": threads}).build(labels)
        model.fit(data)
        scores.append(model.predict_scores(data.validation))
    for other in scores[1:]:
        np.testing.assert_array_equal(other.clusters, scores[0].clusters)
        np.testing.assert_array_equal(other.tags, scores[0].tags)
