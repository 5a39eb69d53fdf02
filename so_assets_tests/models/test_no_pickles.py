"""Models hold data, never code: the linear families save arrays and JSON, reload to the same
scores, and a planted pickle anywhere in a model folder or shared part is refused, unloaded."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from so_assets.cli import main
from so_assets.models.publication.artifacts import current_dir
from so_assets.models.publication.shared_parts import referenced_part
from so_assets.models.publication.train import train_and_publish
from so_assets.models.registry import load_model, score_model, tag_model
from so_assets_tests.models.test_score_models import LABELS as SCORE_LABELS
from so_assets_tests.models.test_score_models import synthetic_split as scored_split
from so_assets_tests.models.test_tag_families import LABELS, TrainingData, synthetic_split

PACKAGE = Path(__file__).resolve().parents[2] / "so_assets"


class Payload:
    """Unpickling this runs ``touch <marker>``: what a planted model file could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def plant(folder: Path, marker: Path) -> None:
    (folder / "model.joblib").write_bytes(pickle.dumps(Payload(marker)))


@pytest.fixture(scope="module")
def data() -> TrainingData:
    return TrainingData(LABELS, synthetic_split(300, 0), synthetic_split(100, 1))


def test_nothing_in_the_package_unpickles():
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        for call in ("joblib.load", "pickle.load", "pickle.loads", "allow_pickle=True"):
            assert call not in source, f"{path} calls {call}"


def test_linear_models_save_arrays_and_json_and_reload_to_the_same_scores(data, tmp_path):
    trained = train_and_publish(tag_model("tfidf_linear"), data, tmp_path / "models")
    part = referenced_part(trained.folder)
    assert {p.suffix for p in part.iterdir()} <= {".json", ".npy", ".npz", ""}
    np.testing.assert_array_equal(load_model(trained.folder).predict_scores(data.validation).tags,
                                  trained.model.predict_scores(data.validation).tags)
    scored = TrainingData(SCORE_LABELS, scored_split(400, 0), scored_split(100, 1))
    ridge = train_and_publish(score_model("tfidf_svd_ridge"), scored, tmp_path / "models")
    assert {p.suffix for p in ridge.folder.iterdir()} <= {".json", ".npy", ".npz", ".png", ""}
    np.testing.assert_allclose(load_model(ridge.folder).predict_scores(scored.validation).score,
                               ridge.model.predict_scores(scored.validation).score, rtol=1e-6)


def test_a_planted_pickle_is_refused_by_load_predict_and_training(data, tmp_path):
    models = tmp_path / "models"
    marker = tmp_path / "ran"
    knn = train_and_publish(tag_model("knn_votes"), data, models)
    folder = current_dir(models, "tag_model_knn_votes")
    plant(folder, marker)
    with pytest.raises(ValueError, match=r"holds model.joblib: a pickle runs code when it is "
                                         r"loaded.*train this model again"):
        load_model(folder)
    with pytest.raises(SystemExit, match=r"so-assets predict: .*holds model.joblib"):
        main(["predict", "--data-dir", str(tmp_path), "--model", "knn_votes", "--title", "x"])
    part = referenced_part(knn.folder)
    (folder / "model.joblib").unlink()
    plant(part, marker)  # a shared part another training would reuse
    with pytest.raises(ValueError, match=r"holds model\.joblib"):
        train_and_publish(tag_model("knn_votes"), data, models)
    with pytest.raises(ValueError, match=r"holds model\.joblib"):
        load_model(folder)
    assert not marker.exists()
