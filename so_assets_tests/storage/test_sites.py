"""One data folder holds one site: a second site's load ends in an error before any write,
through the store, the Dagster asset and ``evaluate --out``; the first site loses no row."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from so_assets.cli import main
from so_assets.defs.ingestion import raw_questions
from so_assets.defs.resources import SourceResource, StorageResource
from so_assets.stackexchange.sources import make_source
from so_assets.steps.ingestion import load_raw_questions
from so_assets.storage.question_store import SiteMismatchError
from so_assets.storage.stores import Stores

DAY = date(2008, 7, 31)  # where plain_csv files file their questions


def site_csv(folder: Path, name: str, titles: list[str]) -> Path:
    """An ``id,title,content,tags`` file whose ids are 1, 2, ... (they collide across
    sites, as Stack Exchange ids do)."""
    rows = ["id,title,content,tags"] + [f'{i},"{t}","<p>{t} body</p>","{name}-tag common"'
                                        for i, t in enumerate(titles, start=1)]
    path = folder / f"{name}.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def rows(data_dir: Path) -> list[tuple]:
    with duckdb.connect(str(data_dir / "so_assets.duckdb"), read_only=True) as con:
        return con.execute("SELECT site, question_id, title FROM raw_questions ORDER BY 2"
                           ).fetchall()


def test_a_second_site_is_refused_before_any_write(tmp_path):
    import logging

    log = logging.getLogger("test")
    stores = Stores(tmp_path / "data")
    robotics = make_source("plain_csv", "", {"path": str(site_csv(tmp_path, "robotics",
                                                                    ["arm", "servo"]))})
    crypto = make_source("plain_csv", "", {"path": str(site_csv(tmp_path, "crypto",
                                                                  ["aes", "rsa", "ecc"]))})
    assert (robotics.site, crypto.site) == ("robotics", "crypto")  # the file's name
    load_raw_questions(stores, robotics, [DAY], log)
    before = rows(tmp_path / "data")
    with pytest.raises(SiteMismatchError, match=r"holds the site 'robotics'; this load is of "
                                                r"'crypto'.*SO_ASSETS_DATA_DIR"):
        load_raw_questions(stores, crypto, [DAY], log)
    assert rows(tmp_path / "data") == before == [("robotics", 1, "arm"), ("robotics", 2, "servo")]
    load_raw_questions(stores, robotics, [DAY], log)  # the same site reloads as before
    assert rows(tmp_path / "data") == before


def test_the_asset_refuses_another_site_and_keeps_the_first(tmp_path):
    data = tmp_path / "data"
    day = DAY.isoformat()

    def load(name: str, titles: list[str]) -> dg.ExecuteInProcessResult:
        path = site_csv(tmp_path, name, titles)
        return dg.materialize([raw_questions], partition_key=day, raise_on_error=False,
                              resources={"storage": StorageResource(data_dir=str(data)),
                                         "source": SourceResource(kind="plain_csv",
                                                                  options={"path": str(path)})})

    assert load("robotics", ["arm", "servo"]).success
    failed = load("crypto", ["aes"])
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.is_step_failure]
    assert "holds the site 'robotics'; this load is of 'crypto'" in str(
        failure.step_failure_data.error)
    assert [r[0] for r in rows(data)] == ["robotics", "robotics"]


def test_evaluate_never_mixes_into_a_used_folder(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "models").mkdir(parents=True)
    (out / "evaluation_summary.json").write_text(json.dumps({"dataset": "robotics.csv.zip"}))
    dataset = site_csv(tmp_path, "crypto", ["aes", "rsa"])
    with pytest.raises(SystemExit, match=r"--out .* already holds an earlier evaluate of "
                                         r"'robotics.csv.zip': choose a new folder, or pass "
                                         r"--force"):
        main(["evaluate", "--dataset", str(dataset), "--out", str(out)])
    assert (out / "evaluation_summary.json").exists()
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match=r"is no evaluate output.*not clearing it, even with "
                                         r"--force"):
        main(["evaluate", "--dataset", str(dataset), "--out", str(elsewhere), "--force"])
    assert (elsewhere / "notes.txt").read_text() == "mine"
    with pytest.raises(SystemExit, match=r"--out .* is a file, not a folder"):
        main(["evaluate", "--dataset", str(dataset), "--out", str(elsewhere / "notes.txt")])
