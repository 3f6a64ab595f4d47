"""The tree-free reading of simple fragments (crawler.htmltext.simple_text) gives exactly lxml's text."""
from __future__ import annotations

import random

from crawler.demo_site.site import DemoSite
from crawler.htmltext import element_text, html_to_text, parse_fragment, simple_text, split_quotes

TAGS = ["p", "br", "a", "em", "strong", "b", "i", "span", "code", "sub", "sup", "del", "mark", "P", "BR", "A"]
ATTRS = ["", ' href="https://example.org/a?b=1&amp;c=2"', " class='x y'", ' title="a > b"', " rel=nofollow",
         ' data-x="it\'s"', " /"]
TEXT = ["Bitcoin", "ETH", "dropped", "3%", "today", "über", "niño", "Ã©", "🚀", "—", "  ", "\n", "\t", " \n ",
        "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#x1F680;", "&nbsp;", "&#160;", "&#0;", "&#128;", "&#xD800;",
        "&copy", "AT&T", "a < b", "x>y", "&bogus;", "\u00a0", "<!-- c -->", "</br>", "<br/>", "<p/>", "\r\n",
        "<div>", "</div>", "<blockquote>", "</blockquote>", "<script>x</script>"]


def structured_fragment(rng: random.Random, depth: int = 0) -> str:
    """Well-formed markup as comment systems write it: paragraphs of text and nested inline elements."""
    out = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.5 or depth > 2:
            out.append(rng.choice(TEXT[:22]) + rng.choice(["", " ", "  ", "\n"]))
        elif r < 0.65:
            out.append(f"<br{rng.choice(['', '/', ' /'])}>")
        else:
            tag = rng.choice([t for t in TAGS if t.lower() not in ("p", "br")])
            out.append(f"<{tag}{rng.choice(ATTRS[:-1])}>{structured_fragment(rng, depth + 1)}</{tag}>")
    body = "".join(out)
    if depth == 0 and rng.random() < 0.6:
        close = rng.choice(["</p>", "</P>", ""])
        body = f"<p{rng.choice(ATTRS[:-1])}>{body}{close}" + rng.choice(["", "\n", " "])
    return body


def random_fragment(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return "".join(structured_fragment(rng) for _ in range(rng.randint(1, 4)))
    out = []
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.45:
            out.append(rng.choice(TEXT))
        elif r < 0.75:
            out.append(f"<{rng.choice(TAGS)}{rng.choice(ATTRS)}>")
        else:
            out.append(f"</{rng.choice(TAGS)}>")
        if rng.random() < 0.5:
            out.append(" ")
    return "".join(out)


def lxml_text(html: str) -> str:
    return element_text(parse_fragment(html))


def test_simple_fragments_read_like_lxml():
    rng = random.Random(7)
    taken = 0
    for _ in range(20_000):
        html = random_fragment(rng)
        fast = simple_text(html)
        if fast is not None:
            taken += 1
            assert fast == lxml_text(html), html
    assert taken > 3_000  # the fast reading is actually exercised


def test_demo_comments_read_like_lxml():
    site = DemoSite(n_articles=40, comments_per_article=12)
    bodies = [c.html for a in site.articles for c in a.comments]
    fast = [simple_text(b) for b in bodies]
    assert sum(f is not None for f in fast) > len(bodies) // 2
    for body, f in zip(bodies, fast):
        assert (f if f is not None else lxml_text(body)) == lxml_text(body)
        assert html_to_text(body) == lxml_text(body)


def test_quotes_still_split():
    own, quoted = split_quotes("<blockquote><p>They said so.</p></blockquote><p>I disagree &amp; here is why.</p>")
    assert (own, quoted) == ("I disagree & here is why.", "They said so.")
    assert split_quotes("<p>Plain <em>words</em> only.</p>") == ("Plain words only.", None)


def _html_strings(node, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and key in ("rendered", "cooked", "body_html", "message", "raw_message"):
                out.append(value)
            else:
                _html_strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _html_strings(value, out)


def test_real_comment_bodies_read_like_lxml(realpages):
    import json

    bodies: list[str] = []
    for path in sorted((realpages / "comments").glob("*.json")):
        try:
            _html_strings(json.loads(path.read_text(encoding="utf-8")), bodies)
        except ValueError:
            continue
    if not bodies:
        import pytest

        pytest.skip("no comment bodies in the real pages")
    fast = 0
    for body in bodies:
        f = simple_text(body)
        if f is not None:
            fast += 1
            assert f == lxml_text(body), body[:200]
    print(f"{fast} of {len(bodies)} real comment bodies read without a tree")
