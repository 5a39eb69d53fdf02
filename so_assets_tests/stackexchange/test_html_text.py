from so_assets.stackexchange.html_text import count_tokens, html_to_text, unescape_title
from so_assets.stackexchange.tags import parse_tags


def test_code_blocks_are_kept_verbatim_and_marked():
    body = ("<p>My loop &amp; list:</p>\n\n<pre><code>for x in xs:\n    if x &lt; 3:\n"
            "        print(x)\n</code></pre>\n\n<p>Why <code>print</code>?</p>")
    assert html_to_text(body) == (
        "My loop & list:\n\n[code]\nfor x in xs:\n    if x < 3:\n        print(x)\n[/code]\n\n"
        "Why `print`?")


def test_lists_links_and_images_become_text():
    body = ('<ul><li>first</li><li>second <a href="http://x">link</a></li></ul>'
            '<p><img src="a.png" alt="diagram"></p>')
    assert html_to_text(body) == "- first\n- second link\n\n[image: diagram]"


def test_empty_and_missing_bodies_give_empty_text():
    assert html_to_text(None) == "" and html_to_text("") == "" and html_to_text("<p> </p>") == ""


def test_title_entities_are_decoded_once():
    assert unescape_title("Use &quot;&amp;lt;&quot; in XML ") == 'Use "&lt;" in XML'


def test_count_tokens_counts_words_and_punctuation():
    assert count_tokens("Use df.merge(x), then 2 rows.") == 12


def test_tag_notations():
    assert parse_tags("<python><pandas><python>") == ("python", "pandas")
    assert parse_tags("|c#|.net|") == ("c#", ".net")
    assert parse_tags("android|android-layout") == ("android", "android-layout")
    assert parse_tags("soccer control") == ("soccer", "control")
    assert parse_tags(["Python ", "", "numpy"]) == ("python", "numpy")
    assert parse_tags(None) == () and parse_tags("") == ()
