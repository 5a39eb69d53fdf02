"""Every file source on the real files in ../shared/data/real and on broken copies of them."""

from __future__ import annotations

import zipfile
from datetime import datetime

import pytest

from so_assets.stackexchange.errors import DumpFormatError
from so_assets.stackexchange.records import SkipLog
from so_assets.stackexchange.sources import make_source
from so_assets.stackexchange.sources.dump import iter_dump_questions
from so_assets_tests.conftest import real_path


def read(kind: str, site: str = "stackoverflow", **options):
    """Every record of a file source (no window)."""
    return list(make_source(kind, site, options).records(None, None, SkipLog()))


def posts_xml():
    return real_path("beer-stackexchange-dump", "Posts.xml")


def test_dump_gives_663_questions_with_accepted_answer_metadata():
    records = {r.question_id: r for r in iter_dump_questions(posts_xml(), "beer")}
    assert len(records) == 663
    first = records[1]  # accepted answer 4: score 13, created 20:31:18.540 vs 20:26:05.383
    assert first.title == "What is a citra hop, and how does it differ from other hops?"
    assert first.tags == ("hops",) and first.question_score == 18
    assert first.accepted_answer_id == 4 and first.accepted_answer_score == 13
    assert first.time_to_accepted_answer_hours == pytest.approx(313.157 / 3600, abs=1e-6)
    assert first.accepted_answer_length_chars > 200 and first.accepted_answer_length_tokens > 40
    assert records[5].tags == ("serving", "temperature")
    unanswered = [r for r in records.values() if not r.has_accepted_answer]
    assert unanswered and all(r.accepted_answer_score is None for r in unanswered)
    with_answer = [r for r in records.values() if r.has_accepted_answer]
    assert all(r.accepted_answer_score is not None for r in with_answer)
    assert all(r.time_to_accepted_answer_hours >= 0 for r in with_answer)


def test_dump_window_keeps_only_that_range():
    start, end = datetime(2014, 1, 21), datetime(2014, 1, 22)
    records = list(iter_dump_questions(posts_xml(), "beer", start, end))
    assert records and all(start <= r.creation_date < end for r in records)
    everything = list(iter_dump_questions(posts_xml(), "beer"))
    assert len(records) == sum(start <= r.creation_date < end for r in everything)


def test_truncated_dump_names_file_and_position(tmp_path):
    text = posts_xml().read_text(encoding="utf-8-sig")
    broken = tmp_path / "Posts.xml"
    broken.write_text(text[: len(text) // 2] + '<row Id="x" Title="unterminated', encoding="utf-8")
    with pytest.raises(DumpFormatError, match=r"Posts.xml: XML error at line \d+, column \d+"):
        list(iter_dump_questions(broken, "beer"))


def test_other_xml_is_refused(tmp_path):
    other = tmp_path / "Users.xml"
    other.write_text('<?xml version="1.0"?><users><row Id="1"/></users>')
    with pytest.raises(DumpFormatError, match="expected <posts>"):
        list(iter_dump_questions(other, "beer"))


def test_bigquery_csv_gives_1206_unique_questions():
    records = read("bigquery_csv",
                   path=str(real_path("stackoverflow-android-bigquery", "posts_questions.csv")))
    assert len(records) == 1300  # duplicates on purpose: listed under several tags
    assert len({r.question_id for r in records}) == 1206
    first = next(r for r in records if r.question_id == 12128331)
    assert first.tags == ("android", "android-layout", "textview", "typeface")
    assert first.question_score == 789 and first.accepted_answer_id == 13329907
    assert first.creation_date == datetime(2012, 8, 26, 7, 19, 17, 997000)


def test_bigquery_answers_export_fills_the_answer_columns(tmp_path):
    questions = tmp_path / "q.csv"
    questions.write_text(
        "id,title,body,accepted_answer_id,creation_date,score,tags\n"
        "1,T,<p>b</p>,11,2020-01-01 10:00:00 UTC,5,a|b\n"
        "2,U,<p>c</p>,,2020-01-01 11:00:00 UTC,1,a\n")
    answers = tmp_path / "a.csv"
    answers.write_text("id,parent_id,creation_date,score,body\n"
                       "11,1,2020-01-01 13:30:00 UTC,4,<p>yes indeed</p>\n"
                       "12,1,2020-01-01 12:00:00 UTC,9,<p>no</p>\n")
    records = {r.question_id: r for r in read("bigquery_csv", path=str(questions),
                                              answers_path=str(answers))}
    assert records[1].accepted_answer_score == 4
    assert records[1].time_to_accepted_answer_hours == pytest.approx(3.5)
    assert records[1].accepted_answer_length_chars == len("yes indeed")
    assert not records[2].has_accepted_answer


def test_bigquery_missing_columns_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,title\n1,x\n")
    with pytest.raises(DumpFormatError, match=r"missing column\(s\) \['body', 'creation_date'"):
        read("bigquery_csv", path=str(path))


@pytest.mark.parametrize("site, rows", [("robotics", 2771), ("crypto", 10432),
                                        ("biology", 13196)])
def test_plain_kaggle_csvs_read_from_their_zip(site, rows):
    path = real_path("stackexchange-tags-kaggle", f"{site}.csv.zip")
    records = read("plain_csv", site, path=str(path), day="2018-06-02")
    assert len(records) == rows
    assert all(r.tags for r in records)
    assert sum(len(r.tags) for r in records) / rows == pytest.approx(2.4, abs=0.4)
    assert records[0].question_text.startswith("<p>")


def test_corrupt_zip_is_a_format_error(tmp_path):
    path = tmp_path / "robotics.csv.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DumpFormatError, match="not a readable zip"):
        read("plain_csv", path=str(path))


def test_stacksample_questions_join_tags(tmp_path):
    (tmp_path / "Questions.csv").write_bytes(
        "Id,OwnerUserId,CreationDate,ClosedDate,Score,Title,Body\n"
        "80,26,2008-08-01T13:57:07Z,NA,26,SQLStatement.execute() caf\xe9,<p>body</p>\n"
        "90,58,2008-08-01T14:41:24Z,2012-12-26T03:45:49Z,144,Good branching,<p>x</p>\n"
        .encode("latin-1"))
    with zipfile.ZipFile(tmp_path / "Tags.csv.zip", "w") as archive:
        archive.writestr("Tags.csv", "Id,Tag\n80,flex\n80,actionscript-3\n90,svn\n")
    records = {r.question_id: r for r in read("stacksample_csv",
                                              path=str(tmp_path / "Questions.csv"),
                                              tags_path=str(tmp_path / "Tags.csv.zip"))}
    assert records[80].tags == ("flex", "actionscript-3")
    assert records[80].title == "SQLStatement.execute() caf\xe9"
    assert records[90].question_score == 144 and records[90].tags == ("svn",)
    assert records[80].creation_date == datetime(2008, 8, 1, 13, 57, 7)


def sede_csv():
    return real_path("sede-datascience-2022", "QueryResults.csv")


def test_data_explorer_export_gives_its_1475_questions_of_2022():
    records = {r.question_id: r for r in read("sede_csv", path=str(sede_csv()))}
    assert len(records) == 1475
    first = records[71911980]
    assert first.title == "ValueError on KNN in Python"
    assert first.tags == ("python", "data-science", "knn")
    assert first.creation_date == datetime(2022, 4, 18, 12, 44, 51)
    assert first.view_count == 368 and first.question_score == 0
    assert first.owner_user_id == 6542807 and first.owner_reputation is None
    assert {r.creation_date.year for r in records.values()} == {2022}
    scores = [r.question_score for r in records.values()]
    assert min(scores) == -4 and max(scores) == 9
    # answers' rows are not in this export: the accepted answer's id only
    assert sum(r.accepted_answer_id is not None for r in records.values()) == 536
    assert all(r.accepted_answer_score is None for r in records.values())


def test_data_explorer_answers_rows_fill_the_answer_columns(tmp_path):
    path = tmp_path / "QueryResults.csv"
    path.write_text(
        "Id,PostTypeId,AcceptedAnswerId,ParentId,CreationDate,Score,ViewCount,Body,"
        "OwnerUserId,Title,Tags,AnswerCount,OwnerReputation\n"
        '1,1,3,,2022-01-01 10:00:00,5,10,<p>q</p>,7,"A title",<a><b>,1,1234\n'
        '3,2,,1,2022-01-01 12:30:00,2,,<p>the answer</p>,8,,,,\n')
    (record,) = read("sede_csv", path=str(path))
    assert record.tags == ("a", "b") and record.owner_reputation == 1234
    assert record.accepted_answer_score == 2
    assert record.time_to_accepted_answer_hours == pytest.approx(2.5)


def test_every_file_format_is_sniffed_from_its_header(tmp_path):
    from so_assets.stackexchange.sources import sniff_source

    plain = tmp_path / "a.csv"
    plain.write_text('"id","title","content","tags"\n"1","t","<p>b</p>","x y"\n')
    bigquery = tmp_path / "b.csv"
    bigquery.write_text("id,title,body,accepted_answer_id,creation_date,score,tags\n")
    stacksample = tmp_path / "Questions.csv"
    stacksample.write_text("Id,OwnerUserId,CreationDate,ClosedDate,Score,Title,Body\n")
    dump = tmp_path / "Posts.xml"
    dump.write_text('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<posts>\n</posts>\n')
    bom = tmp_path / "bom.csv"
    bom.write_text('\ufeffid,title,content,tags\n1,t,<p>b</p>,x\n', encoding="utf-8")
    sample = tmp_path / "sample"
    (sample / "questions").mkdir(parents=True)
    found = [sniff_source(p).kind for p in (plain, bigquery, stacksample, dump, sample, bom)]
    assert found == ["plain_csv", "bigquery_csv", "stacksample_csv", "dump", "sample",
                     "plain_csv"]
    assert sniff_source(sede_csv()).kind == "sede_csv"
    assert [r.title for r in read("plain_csv", path=str(bom))] == ["t"]  # the BOM is dropped
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="cannot tell its format"):
        sniff_source(odd)


def test_sources_say_which_options_they_take():
    with pytest.raises(ValueError, match=r"unknown source kind 'ftp'"):
        make_source("ftp")
    with pytest.raises(ValueError, match=r"needs option\(s\) \['path'\]"):
        make_source("dump")
    with pytest.raises(ValueError, match=r"has no option\(s\) \['tags_path'\].*users_path"):
        make_source("dump", options={"path": "Posts.xml", "tags_path": "x"})
    assert make_source("dump", "beer", {"path": "P.xml"}).location() == "P.xml"


def test_a_dumps_users_xml_fills_the_askers_reputation(tmp_path):
    users = tmp_path / "Users.xml"
    users.write_text('<?xml version="1.0" encoding="utf-8"?>\n<users>\n'
                     '  <row Id="7" Reputation="4521" DisplayName="a" />\n'
                     '  <row Id="8" Reputation="12" DisplayName="b" />\n</users>\n')
    records = {r.question_id: r for r in read("dump", "beer", path=str(posts_xml()),
                                              users_path=str(users))}
    assert records[1].owner_user_id == 7 and records[1].owner_reputation == 4521
    assert all(r.owner_reputation is None for r in records.values()
               if r.owner_user_id not in (7, 8))
    without = {r.question_id: r for r in read("dump", "beer", path=str(posts_xml()))}
    assert without[1].owner_reputation is None


def test_the_api_gives_the_askers_reputation():
    from so_assets.stackexchange.normalize import record_from_api

    item = {"question_id": 5, "creation_date": 1709596800, "title": "T", "tags": ["a"],
            "score": 2, "owner": {"user_id": 9, "reputation": 1234}}
    assert record_from_api(item, "stackoverflow", "api", None).owner_reputation == 1234
    del item["owner"]
    assert record_from_api(item, "stackoverflow", "api", None).owner_reputation is None


def test_bad_rows_are_skipped_counted_and_located(tmp_path):
    text = posts_xml().read_text(encoding="utf-8-sig")
    text = text.replace('<row Id="1" PostTypeId="1" AcceptedAnswerId="4"',
                        '<row Id="1" PostTypeId="1" AcceptedAnswerId="zz"', 1)
    text = text.replace('<row Id="4" PostTypeId="2"', '<row PostTypeId="2"', 1)
    broken = tmp_path / "Posts.xml"
    broken.write_text(text, encoding="utf-8")
    skipped = SkipLog()
    records = {r.question_id: r for r in iter_dump_questions(broken, "beer", skipped=skipped)}
    assert 1 not in records and len(records) == 662
    assert skipped.count == 2
    assert any("Id='1'" in e and "AcceptedAnswerId is not an integer: 'zz'" in e
               for e in skipped.examples)
    assert any("an answer row has no Id" in e for e in skipped.examples)

    csv = tmp_path / "q.csv"
    csv.write_text("id,title,body,creation_date,score,tags\n"
                   "1,T,<p>b</p>,2020-01-01 10:00:00 UTC,5,a|b\n"
                   "2,U,<p>c</p>,2020-01-01 11:00:00 UTC,many,a\n"
                   "3,V,<p>d</p>\n"
                   "1.9,W,<p>e</p>,2020-01-01 12:00:00 UTC,1,a\n")
    source = make_source("bigquery_csv", options={"path": str(csv)})
    skipped = SkipLog()
    assert [r.question_id for r in source.records(None, None, skipped)] == [1]
    assert skipped.count == 3
    assert skipped.examples[0].endswith("q.csv:4: the row ends before column(s) "
                                        "['creation_date', 'score', 'tags']")
    assert "q.csv:3: question 2: score is not an integer: 'many'" in skipped.examples[1]
    assert "q.csv:5: question id is not an integer: '1.9'" in skipped.examples[2]


def test_skipped_items_reach_the_load_result(tmp_path):
    import logging
    from datetime import date

    from so_assets.steps.ingestion import load_raw_questions
    from so_assets.storage.stores import Stores

    csv = tmp_path / "q.csv"
    csv.write_text("id,title,content,tags\n1,T,<p>b</p>,a b\n2,U\n")
    stores = Stores(tmp_path / "data")
    result = load_raw_questions(stores, make_source("plain_csv", "x", {"path": str(csv)}),
                                [date(2008, 7, 31)], logging.getLogger("test"))
    assert result.stored == {date(2008, 7, 31): 1} and result.skipped_items == 1
    assert "q.csv:3" in result.skipped_examples[0]
    assert stores.questions.partition_loads()[0].skipped_count == 1
