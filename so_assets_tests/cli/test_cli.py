import json

from so_assets.cli import main


def test_generate_sample_writes_a_manifest_and_day_files(tmp_path, capsys):
    assert main(["generate-sample", "--out", str(tmp_path), "--questions", "200",
                 "--days", "4", "--seed", "3"]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["questions"] == 200 and manifest["days"] == 4
    assert len(list((tmp_path / "questions").glob("*.json"))) == 4
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
