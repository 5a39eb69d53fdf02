"""Every ordinary mistake gets one line and a non-zero exit, never a traceback: option values
out of range, missing or unreadable paths, folders for files, an unset DAGSTER_HOME."""

from __future__ import annotations

import gzip
import os
import zipfile

import pytest

from so_assets.cli import main


def exits_with(argv: list[str], capsys) -> tuple[int, str]:
    """The exit code and what the command said (one line on stderr or in the exit)."""
    with pytest.raises(SystemExit) as raised:
        main(argv)
    said = capsys.readouterr().err
    code = raised.value.code
    if isinstance(code, str):  # SystemExit("so-assets ...: ...") prints the text, exits 1
        said, code = code, 1
    assert "Traceback" not in said
    return code, said.strip().splitlines()[-1] if said.strip() else ""


@pytest.mark.parametrize(("argv", "says"), [
    (["predict", "--title", "t", "--horizon-days", "-1"], "--horizon-days: -1 is out of range"),
    (["predict", "--title", "t", "--horizon-days", "nan"], "--horizon-days: nan is out of range"),
    (["predict", "--title", "t", "--horizon-days", "1e12"], "--horizon-days: 1e12 is out of"),
    (["predict", "--title", "t", "--top", "-1"], "--top: -1 is out of range: 1 to 100"),
    (["evaluate", "--dataset", "x", "--out", "y", "--min-tag-count", "0"],
     "--min-tag-count: 0 is out of range: at least 1"),
    (["evaluate", "--dataset", "x", "--out", "y", "--min-tag-count", "-5"],
     "--min-tag-count: -5 is out of range"),
    (["evaluate", "--dataset", "x", "--out", "y", "--clusters", "0"],
     "--clusters: 0 is out of range: 2 to 1000"),
    (["evaluate", "--dataset", "x", "--out", "y", "--clusters", "1000000"],
     "--clusters: 1000000 is out of range: 2 to 1000"),
    (["generate-sample", "--questions", "-5"], "--questions: -5 is out of range"),
    (["generate-sample", "--days", "0"], "--days: 0 is out of range: 1 to 3650"),
])
def test_an_option_out_of_range_is_a_usage_error(argv, says, capsys):
    code, said = exits_with(argv, capsys)
    assert code == 2 and says in said


def test_paths_that_are_missing_folders_or_unwritable_get_one_line(tmp_path, capsys):
    assert exits_with(["evaluate", "--dataset", str(tmp_path / "absent.csv"), "--out",
                       str(tmp_path / "o")], capsys) == (
        1, f"so-assets evaluate: {tmp_path / 'absent.csv'} does not exist")
    code, said = exits_with(["predict", "--data-dir", str(tmp_path), "--title", "t",
                             "--body-file", str(tmp_path)], capsys)
    assert code == 1 and said.startswith("so-assets predict:") and "directory" in said
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, said = exits_with(["generate-sample", "--out", str(blocker / "sample"),
                             "--questions", "20", "--days", "2"], capsys)
    assert code == 1 and said.startswith("so-assets generate-sample:")


def test_recover_runs_needs_an_instance_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    code, said = exits_with(["recover-runs"], capsys)
    assert code == 1 and "DAGSTER_HOME names no folder (unset)" in said
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "nowhere"))
    code, said = exits_with(["recover-runs"], capsys)
    assert code == 1 and "DAGSTER_HOME names no folder" in said


def csv_text(n: int) -> str:
    return "id,title,content,tags\n" + "".join(
        f'{i},"Question {i}","<p>body {i}</p>","a b"\n' for i in range(n))


def test_broken_or_ambiguous_files_are_named_in_one_line(tmp_path, capsys):
    data = gzip.compress(csv_text(5000).encode())
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(data[: len(data) // 2])
    code, said = exits_with(["evaluate", "--dataset", str(truncated), "--format", "plain_csv",
                             "--out", str(tmp_path / "o1")], capsys)
    assert code == 1 and f"{truncated}: the archive is truncated or corrupt" in said
    both = tmp_path / "two.zip"
    with zipfile.ZipFile(both, "w") as archive:
        archive.writestr("robotics.csv", csv_text(5))
        archive.writestr("crypto.csv", csv_text(5))
    code, said = exits_with(["evaluate", "--dataset", str(both), "--out", str(tmp_path / "o2")],
                            capsys)
    assert code == 1 and "holds 2 export files (robotics.csv, crypto.csv)" in said
    binary = tmp_path / "photo.jpg"
    binary.write_bytes(os.urandom(3000))
    code, said = exits_with(["evaluate", "--dataset", str(binary), "--out", str(tmp_path / "o3")],
                            capsys)
    assert code == 1 and said.endswith("is a binary file, not a CSV or XML export (nor a "
                                       "sample folder)") and len(said) < 200
