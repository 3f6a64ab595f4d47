"""The faster forms of extraction tests give the answers of the plain forms they replaced (no timing here:
speed is measured by benchmarks/extraction_quality.py)."""
from __future__ import annotations

import random

from lxml import etree

from crawler.htmltext import _BLANKS, _SPACES, normalise_whitespace
from crawler.parsed_html import html_root
from crawler.sites import maintext, notarticle
from crawler.sites.generic import ORIGINALLY_WORD, _may_say_originally

NAME_PARTS = ["comment", "comments", "Comment", "related", "ad", "ads", "adx", "share", "shareit", "xshare", "side",
              "sidebar", "side-bar", "widget", "footer", "nav", "post", "main", "", " ", "-", "_", "  ", "\u00a0",
              "\t", "İ", "author", "entry-content", "article__body", "x"]


def _names(rng: random.Random, n: int) -> list[str]:
    return ["".join(rng.choice(NAME_PARTS) + rng.choice(["", " ", "-", "_"]) for _ in range(rng.randint(0, 5)))
            for _ in range(n)]


def _split_words(names: str) -> list[str]:
    return maintext.CLASS_SPLIT.split(names)


def test_any_word_search_says_what_the_token_split_says():
    rng = random.Random(13)
    for names in _names(rng, 2000):
        low = names.lower()
        words = _split_words(low)
        assert bool(maintext.OUTSIDE_NAME.search(low)) == any(w in maintext.OUTSIDE_WORDS for w in words), names
        assert bool(maintext.COMMENT_NAME.search(low)) == any(w in maintext.COMMENT_WORDS for w in words), names
        assert bool(maintext.BOILERPLATE_NAME.search(low)) == any(
            w in maintext.BOILERPLATE_WORDS or maintext.BOILERPLATE_STEMS.match(w) for w in words), names


def test_names_outside_and_boilerplate_on_elements():
    root = html_root('<html><body><div class="post-comments" id="c">x</div><div class="xcomments">y</div>'
                     '<div id="Related_Posts">z</div><article class="post author-jane">a</article>'
                     '<article class="post comment-7">b</article><div class="shareholders">c</div>'
                     '<div class="widget"><p>' + "prose " * 30 + '</p></div><div class="widget">d</div></body></html>')
    divs = {el.text: el for el in root.iter("div", "article")}
    assert maintext.names_outside(divs["x"]) and not maintext.names_outside(divs["y"])
    assert maintext.names_outside(divs["z"])
    assert not maintext.is_boilerplate(divs["a"]) and maintext.is_boilerplate(divs["b"])
    assert maintext.is_boilerplate(divs["c"])  # (the stem "share")
    assert not maintext.is_boilerplate(root.find(".//div[p]")) and maintext.is_boilerplate(divs["d"])


def test_document_elements_are_what_xpath_selects_including_after_html():
    html = ('<html><body><div class="entry-content"><p>one</p></div></body></html>'
            '<div class="post-body reply">after the page</div><!-- c --><p>more</p>')
    root = html_root(html)
    want = etree.XPath("//*")(root)
    assert [id(e) for e in maintext.document_elements(root)] == [id(e) for e in want]
    inner = root.find(".//p")
    assert [id(e) for e in maintext.document_elements(inner)] == [id(e) for e in want]


def test_chosen_containers_are_remembered_and_handed_out_as_copies():
    body = "<p>" + "A sentence of the story, with commas, and more words. " * 8 + "</p>"
    root = html_root(f"<html><body><nav>menu</nav><div class='story'>{body}{body}</div></body></html>")
    first = maintext.choose(root)
    first.append("not an element")
    again = maintext.choose(root)
    assert again == first[:-1] and again is not first
    assert again == maintext.with_lead(maintext.choose_containers(root))


def test_repeated_posts_counts_the_biggest_group_with_text():
    long = "x" * 200
    posts = "".join(f'<div class="post">{long}</div>' for _ in range(5))
    short = "".join('<li class="message">hi</li>' for _ in range(9))
    root = html_root(f"<html><body><section>{posts}</section><ul>{short}</ul><div class='Post'>{long}</div>"
                     f"</body></html>")
    assert notarticle.repeated_posts(root) == 5


def test_originally_prefilter_agrees_with_the_case_insensitive_search():
    cases = ["originally", "ORIGINALLY published", "OrIgInAlLy", "orİginally", "orıginally", "origİnally",
             "original ly", "originaly", "", "unoriginally", "ORIGINAL", "\u0130", "finally"]
    for text in cases:
        assert _may_say_originally(text) == (ORIGINALLY_WORD.search(text) is not None), text


def _normalise_by_lines(text: str) -> str:
    lines = [_SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def test_one_line_whitespace_normalising_is_the_line_by_line_result():
    rng = random.Random(17)
    alphabet = " \t\r\f\v\u00a0\u2003\u3000\x85\u2028ab"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalise_whitespace(text) == _normalise_by_lines(text), repr(text)
