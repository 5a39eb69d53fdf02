"""Bad values cost a row, not an import: each bad field is a skipped, counted, located row;
a stray quote reports every row it swallowed; a huge XML row is refused before parsing; tags
in any notation come out one by one; code blocks stay verbatim."""

from __future__ import annotations

import time

import pytest

from so_assets.stackexchange.errors import DumpFormatError
from so_assets.stackexchange.html_text import html_to_text
from so_assets.stackexchange.records import SkipLog
from so_assets.stackexchange.sources import make_source

SEDE_HEADER = ("Id,PostTypeId,AcceptedAnswerId,CreationDate,Score,ViewCount,Body,OwnerUserId,"
               "Title,Tags,AnswerCount,CommentCount,ClosedDate,ContentLicense")


def sede_row(ident: int, created: str) -> str:
    return (f'{ident},1,,{created},3,10,"<p>body {ident}</p>",7,"Title {ident}",'
            f'"<python><pandas>",1,0,,CC BY-SA 4.0')


@pytest.mark.parametrize("created", ["99999999999999", "²", "20240301", "yesterday"])
def test_a_bad_creation_date_skips_its_row_only(tmp_path, created):
    path = tmp_path / "QueryResults.csv"
    path.write_text("\n".join([SEDE_HEADER, sede_row(1, "2022-03-01 10:00:00"),
                               sede_row(2, created), sede_row(3, "2022-03-02 11:00:00")]) + "\n")
    skipped = SkipLog()
    records = list(make_source("sede_csv", "", {"path": str(path)}).records(None, None, skipped))
    assert [r.question_id for r in records] == [1, 3]
    assert skipped.count == 1 and skipped.examples[0].startswith(f"{path}:3: ")
    assert "is not a date" in skipped.examples[0]


def test_a_stray_quote_reports_every_row_it_swallowed(tmp_path):
    rows = ["id,title,content,tags"]
    for i in range(1, 12):
        rows.append('4,"Broken title,<p>body 4</p>,a b' if i == 4 else
                    '11,"Quoted, title",<p>body 11</p>,a b' if i == 11 else
                    f"{i},Question {i},<p>body {i}</p>,a b")
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(rows) + "\n")
    skipped = SkipLog()
    records = list(make_source("plain_csv", "", {"path": str(path)}).records(None, None,
                                                                              skipped))
    assert [r.question_id for r in records] == [1, 2, 3]
    assert skipped.count == 8  # the broken row and the seven it swallowed, each located
    assert skipped.examples[0] == (f"{path}:5: an unclosed quote here swallows the rows of "
                                   "line(s) 6, 7, 8, 9, 10, 11, 12")


def test_a_multiline_body_with_numbered_lines_is_no_swallowed_row(tmp_path):
    path = tmp_path / "lists.csv"
    path.write_text('id,title,content,tags\n1,"Steps","<p>do:\n1, install\n2, run</p>","a"\n'
                    '2,"Other","<p>x</p>","b"\n')
    skipped = SkipLog()
    records = list(make_source("plain_csv", "", {"path": str(path)}).records(None, None,
                                                                              skipped))
    assert [r.question_id for r in records] == [1, 2] and skipped.count == 0


def test_a_huge_xml_row_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "Posts.xml"
    row = ('  <row Id="{i}" PostTypeId="1" CreationDate="2014-01-21T20:26:05.383" Score="3" '
           'Title="{title}" Body="&lt;p&gt;b&lt;/p&gt;" Tags="&lt;a&gt;" />\n')
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n<posts>\n'
                    + row.format(i=1, title="fine") + row.format(i=2, title="x" * 5 * 2**20)
                    + "</posts>\n")
    started = time.process_time()
    with pytest.raises(DumpFormatError, match=r"a row longer than 2 MB before byte \d+ \(no "
                                              r"post is\): refused before parsing"):
        make_source("dump", "", {"path": str(path)}).summarize()
    assert time.process_time() - started < 30  # quadratic parsing of 5 MB took minutes


@pytest.mark.parametrize("written", ["<css><color>", "css|color", "css,color", "css color"])
def test_plain_csv_tags_in_any_notation_come_out_one_by_one(tmp_path, written):
    path = tmp_path / "site.csv"
    path.write_text(f'id,title,content,tags\n1,"Title","<p>b</p>","{written}"\n')
    (record,) = make_source("plain_csv", "", {"path": str(path)}).records(None, None,
                                                                           SkipLog())
    assert record.tags == ("css", "color")


def test_code_blocks_keep_blank_lines_and_trailing_spaces():
    html = "<p>See:</p><pre><code>def f():  \n\n\n    return 1\n</code></pre><p>after</p>"
    assert html_to_text(html) == ("See:\n\n[code]\ndef f():  \n\n\n    return 1\n[/code]\n\n"
                                  "after")
