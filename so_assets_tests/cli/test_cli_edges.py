"""The command line on hostile or tiny input: a clear message each, never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from so_assets.cli import main
from so_assets.cli.predict import clean_text


def tiny_csv(tmp_path, rows: list[tuple[str, str]]):
    path = tmp_path / "tiny.csv"
    lines = ["id,title,content,tags"] + [f'{i},"Question {i} {title}","<p>body {i}</p>",'
                                         f'"{tags}"' for i, (title, tags) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_evaluate_on_three_questions_names_the_option_to_change_and_it_works(tmp_path,
                                                                              capsys):
    """The advice is one that planning accepts: following it never repeats it."""
    path = tiny_csv(tmp_path, [("a", "x y"), ("b", "x"), ("c", "y z")])
    with pytest.raises(SystemExit, match=r"pass --min-tag-count 1 or lower"):
        main(["evaluate", "--dataset", str(path), "--out", str(tmp_path / "out")])
    code = main(["evaluate", "--dataset", str(path), "--out", str(tmp_path / "out2"),
                 "--min-tag-count", "1", "--models", "tfidf_linear"])
    assert code == 1 and "pass --min-tag-count" not in capsys.readouterr().out  # too few


def test_evaluate_on_a_one_tag_file_says_a_second_tag_is_needed(tmp_path):
    path = tiny_csv(tmp_path, [(str(i), "only") for i in range(40)])
    with pytest.raises(SystemExit, match=r"use 1 distinct tag.*at least two tags"):
        main(["evaluate", "--dataset", str(path), "--out", str(tmp_path / "out")])


def test_evaluate_on_too_few_questions_for_the_splits_says_so(tmp_path, capsys):
    path = tiny_csv(tmp_path, [(str(i), "x y" if i % 2 else "y z") for i in range(6)])
    assert main(["evaluate", "--dataset", str(path), "--out", str(tmp_path / "out"),
                 "--min-tag-count", "1", "--models", "tfidf_linear"]) == 1
    assert re.search(r"FAILED tag_model_tfidf_linear: ValueError: the \w+ split has no "
                     r"labelled questions .*more questions are needed", capsys.readouterr().out)


def test_predict_refuses_an_empty_title(tmp_path):
    with pytest.raises(SystemExit, match="the title is empty"):
        main(["predict", "--data-dir", str(tmp_path), "--title", "   "])


def test_text_that_is_not_utf8_is_cleaned_with_a_warning(capsys):
    undecodable = b"caf\xe9 \xff".decode("utf-8", "surrogateescape")
    assert clean_text(undecodable, "title") == "caf\ufffd \ufffd"
    assert "not valid UTF-8" in capsys.readouterr().err
    assert clean_text("fine ✓", "title") == "fine ✓"


def test_a_long_body_comes_from_a_file_or_standard_input(tmp_path, monkeypatch):
    import argparse
    import io

    from so_assets.cli.predict import read_body

    body = tmp_path / "body.html"
    body.write_bytes("<p>a long body ✓</p>".encode() + b"\xff")
    args = argparse.Namespace(body="ignored", body_file=body)
    assert read_body(args) == "<p>a long body ✓</p>\ufffd"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"<p>from stdin</p>")))
    assert read_body(argparse.Namespace(body="", body_file=Path("-"))) == "<p>from stdin</p>"


def test_evaluate_refuses_an_unknown_model_name_before_reading_the_file(tmp_path):
    with pytest.raises(SystemExit, match=r"no model named nonesuch; registered: .*tfidf_linear"):
        main(["evaluate", "--dataset", str(tmp_path / "absent.csv"), "--format", "plain_csv",
              "--out", str(tmp_path / "out"), "--models", "tfidf_linear,nonesuch"])
