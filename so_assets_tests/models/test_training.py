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

from so_assets.models.artifacts import current_dir, new_version_dir, publish, published_models
from so_assets.models.networks import MLP
from so_assets.models.trainer import TrainConfig, train_network
from so_assets.stackexchange.sample import SampleTransport
from so_assets.stackexchange.sources import SourceSpec, iter_day_batches
from so_assets.storage.question_store import QuestionStore
from so_assets.storage.questions_refresh import refresh_questions
from so_assets.storage.splits import assign_splits


def separable(n=600, dim=8, labels=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    y = np.stack([x[:, i] > 0.3 for i in range(labels)], axis=1).astype(np.float32)
    return x, y


def fit_mlp(tmp_path, epochs=30, patience=5, lr=3e-3):
    x, y = separable()
    model = MLP(4, 3, hidden=32, dropout=0.0)
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

    config = TrainConfig(epochs=epochs, patience=patience, lr=lr, device="cpu")
    result = train_network(model, config, batches, 10, loss_of_batch, validation_scores,
                           y[val], checkpoint=tmp_path / "best.pt")
    return model, result, validation_scores


def test_trainer_learns_keeps_the_best_state_and_checkpoints(tmp_path):
    model, result, _ = fit_mlp(tmp_path)
    assert result.best_score > 0.8 and result.best_score > result.history[0]["val_micro_f1"]
    assert result.history[result.best_epoch - 1]["val_micro_f1"] == result.best_score
    saved = torch.load(tmp_path / "best.pt", weights_only=True)
    assert all(torch.equal(saved[k], v) for k, v in model.state_dict().items())


def test_early_stopping_stops_when_validation_stalls(tmp_path):
    _, result, _ = fit_mlp(tmp_path, epochs=200, patience=2, lr=1e-7)
    assert len(result.history) < 200
    assert len(result.history) - result.best_epoch == 2


@pytest.fixture
def question_store(tmp_path):
    store = QuestionStore(tmp_path / "q.duckdb")
    days = SampleTransport().days()
    store.replace_partitions(list(iter_day_batches(SourceSpec("sample"), days[:10])), "sample",
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
    store.replace_partitions(list(iter_day_batches(SourceSpec("sample"), days[10:])), "sample",
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
    with pytest.raises(FileNotFoundError, match="materialize tag_model_other"):
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
        fit_publish(Path({str(tmp_path)!r}), log)
    """)
    ok = subprocess.run([sys.executable, "-c", script, "run"], capture_output=True, timeout=300)
    assert ok.returncode == 0, ok.stderr.decode()[-2000:]
    served = current_dir(tmp_path, "mlp")
    killed = subprocess.run([sys.executable, "-c", script, "kill"], capture_output=True,
                            timeout=300)
    assert killed.returncode == -9
    assert current_dir(tmp_path, "mlp") == served
    versions = [p for p in (tmp_path / "mlp").iterdir() if p.name.startswith("v")]
    assert len(versions) == 2  # the half-trained one exists, unpublished
    from so_assets.models.registry import load_predictor

    predictor = load_predictor(served)
    assert predictor.network is not None and (served / "metrics.json").exists()


def fit_publish(models_dir: Path, log) -> None:
    """Train the registered MLP on synthetic data and publish it (used by the kill test)."""
    from so_assets.models.base import TrainingData
    from so_assets.models.data import LabelSpace, SplitData
    from so_assets.models.registry import SPECS_BY_NAME
    from so_assets.models.training import train_and_publish

    x, y = separable(n=400)

    def split(rows):
        n = len(range(400)[rows])
        return SplitData(np.arange(n), ["t"] * n, ["b"] * n, y[rows], np.zeros((n, 1),
                         np.float32), x[rows, :4], x[rows, 4:])

    labels = LabelSpace(["a", "b", "c"], ["tag"], [0])
    data = TrainingData(labels, split(slice(0, 300)), split(slice(300, 400)), None,
                        np.eye(3, 4, dtype=np.float32), np.zeros((1, 4), np.float32))
    train_and_publish(SPECS_BY_NAME["mlp"], data, models_dir, {}, log)


def test_xgboost_with_one_majority_cluster_predicts_it(tmp_path):
    """Real case: in the Android BigQuery slice every question's majority cluster is the same."""
    from so_assets.models.base import Inputs, TrainingData
    from so_assets.models.data import LabelSpace, SplitData
    from so_assets.models.registry import SPECS_BY_NAME, load_predictor

    x, _ = separable(n=60)
    clusters = np.zeros((60, 3), np.float32)
    clusters[:, 0] = 1
    clusters[::2, 2] = 1

    def split(rows):
        n = len(range(60)[rows])
        return SplitData(np.arange(n), ["t"] * n, ["b"] * n, clusters[rows],
                         np.zeros((n, 1), np.float32), x[rows, :4], x[rows, 4:])

    data = TrainingData(LabelSpace(["a", "b", "c"], ["tag"], [0]), split(slice(0, 40)),
                        split(slice(40, 60)), None, np.eye(3, 4, dtype=np.float32),
                        np.zeros((1, 4), np.float32))
    predictor = SPECS_BY_NAME["xgboost"].build(data.labels)
    predictor.fit(data)
    predictor.save(tmp_path)
    restored = load_predictor(tmp_path)
    scores = restored.cluster_scores(Inputs(["t"], ["b"], x[:1, :4], x[:1, 4:]))
    assert scores.tolist() == [[1.0, 0.0, 0.0]]
