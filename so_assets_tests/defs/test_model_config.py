"""Each model asset takes its model's parameters as run config, with their types, defaults and
docs in the launchpad; `dagster job execute -c` refuses an unknown or ill-typed key, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from so_assets.definitions import defs
from so_assets.models.registry import MODELS
from so_assets_tests.conftest import instance_home

REPO = Path(__file__).resolve().parents[2]


def config_fields(asset_name: str) -> dict:
    node = defs.resolve_asset_graph().get(
        next(k for k in defs.resolve_asset_graph().get_all_asset_keys()
             if k.to_user_string() == asset_name))
    return node.assets_def.node_def.config_schema.config_type.fields


def test_every_model_asset_shows_its_parameters_with_defaults_and_docs():
    for spec in MODELS:
        fields = config_fields(spec.asset_name)
        assert set(fields) == set(spec.params.to_dict()), spec.asset_name
        for name, field in fields.items():
            assert field.description, (spec.asset_name, name)
    knn = config_fields("tag_model_knn_votes")
    assert knn["k"].default_value == 25 and "Nearest training questions" in knn["k"].description
    train = config_fields("tag_model_dsf_mhsa")["train"].config_type.fields
    assert train["lr"].default_value == 5e-4 and "learning rate" in train["lr"].description


@pytest.mark.parametrize(("config", "says"), [
    ({"tag_model_tfidf_linear": {"config": {"Cc": 2.0}}},
     'Received unexpected config entry "Cc" at path root:ops:tag_model_tfidf_linear:config'),
    ({"tag_model_knn_votes": {"config": {"k": "many"}}},
     'root:ops:tag_model_knn_votes:config:k. Value "many" of type "<class \'str\'>" is '
     'not valid for expected type "Int"'),
])
def test_dagster_job_execute_refuses_a_bad_parameter_naming_it(tmp_path, config, says):
    home = instance_home(tmp_path / "home")
    run_config = tmp_path / "bad.yaml"
    run_config.write_text(yaml.safe_dump({"ops": config}))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m",
         "so_assets.definitions", "-j", "stackoverflow_pipeline", "-c", str(run_config)],
        cwd=REPO, env={**os.environ, "DAGSTER_HOME": str(home),
                       "SO_ASSETS_DATA_DIR": str(tmp_path / "data")},
        capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert says in done.stderr + done.stdout
    assert not (tmp_path / "data" / "so_assets.duckdb").exists()  # refused before any step
