"""Listing pages (catalogues, tag and section pages, index pages) are not article rows; articles that look like
lists stay articles.

Fixtures (own words) under tests/fixtures/generic/listing_*/: each listing case names the rule that must
decide it in ``expected.json`` (``detail``, carried by ``NotArticle.detail``); the ``listing_like_article_*``
cases are articles that a careless rule would reject. Each rule is also shown to be the thing that decides:
the same page without the evidence it reads is kept as an article.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.items import ArticleRecord
from crawler.parsed_html import parsed_html
from crawler.sites import notarticle
from crawler.sites.generic import NotArticle, parse_article

CASES_DIR = Path(__file__).parent / "fixtures" / "generic"
CRAWL_SITE = CASES_DIR / "listing_crawl_site"
CRAWL_DOMAIN = "quaycoins.example"
LISTING_CASES = sorted(p.name for p in CASES_DIR.glob("listing_*")
                       if (p / "expected.json").exists() and "detail" in json.loads((p / "expected.json").read_text()))
ARTICLE_CASES = sorted(p.name for p in CASES_DIR.glob("listing_like_article_*"))
LD_BLOCK = re.compile(r'<script type="application/ld\+json">.*?</script>', re.S)


def load(case: str) -> tuple[str, dict]:
    d = CASES_DIR / case
    return (d / "input.html").read_text(encoding="utf-8"), json.loads((d / "expected.json").read_text(encoding="utf-8"))


def test_every_rule_has_a_fixture():
    rules = {load(c)[1]["detail"] for c in LISTING_CASES}
    assert {"declared_collection", "link_region", "teaser_region", "thin_linked", "weak_region", "cms_template",
            "paginated", "dated_cards", "page_teasers", "headed_links"} <= rules
    assert len(ARTICLE_CASES) >= 3


@pytest.mark.parametrize("case", LISTING_CASES)
def test_listing_rejected_by_its_rule(case):
    html, exp = load(case)
    result = parse_article(exp["url"], html, {})
    assert isinstance(result, NotArticle), f"{case}: saved as an article"
    assert (result.reason, result.detail) == (exp["not_article"], exp["detail"])


@pytest.mark.parametrize("case", ARTICLE_CASES)
def test_listing_like_article_stays_article(case):
    html, exp = load(case)
    result = parse_article(exp["url"], html, {})
    assert isinstance(result, ArticleRecord), f"{case}: rejected as {getattr(result, 'reason', None)}"
    assert result.title == exp["title"]


def test_declared_collection_is_what_decides():
    html, exp = load("listing_declared_collection")
    without_ld = LD_BLOCK.sub("", html)
    assert isinstance(parse_article(exp["url"], without_ld, {}), ArticleRecord)
    as_web_page = html.replace('"CollectionPage"', '"WebPage"')
    assert isinstance(parse_article(exp["url"], as_web_page, {}), ArticleRecord)
    search = html.replace('"CollectionPage"', '"SearchResultsPage"')
    assert parse_article(exp["url"], search, {}).detail == "declared_collection"


def test_declared_collection_outweighs_og_type_but_not_an_ld_article():
    """Many sites put og:type article on every page; a JSON-LD article type is the page's own word."""
    html, exp = load("listing_declared_collection")
    og_article = html.replace('content="website"', 'content="article"')
    assert parse_article(exp["url"], og_article, {}).detail == "declared_collection"
    with_story = og_article.replace('"@type": "CollectionPage"', '"@type": ["CollectionPage", "NewsArticle"]')
    assert isinstance(parse_article(exp["url"], with_story, {}), ArticleRecord)


def test_a_page_calling_itself_an_article_is_not_judged_by_its_links():
    """The round-up's main region is mostly links: with og:type article it is a post, without it a list."""
    html, exp = load("listing_like_article_roundup")
    assert isinstance(parse_article(exp["url"], html, {}), ArticleRecord)
    untyped = html.replace('<meta property="og:type" content="article">', "")
    result = parse_article(exp["url"], untyped, {})
    assert isinstance(result, NotArticle) and (result.reason, result.detail) == ("listing", "link_region")
    # a JSON-LD article type says the same as og:type
    as_ld = untyped.replace("</head>", '<script type="application/ld+json">{"@context": "https://schema.org", '
                                       '"@type": "BlogPosting", "headline": "Five links worth your Sunday"}'
                                       "</script></head>")
    assert isinstance(parse_article(exp["url"], as_ld, {}), ArticleRecord)


def test_prose_of_its_own_keeps_a_link_heavy_page():
    """A short post under a big menu has a page mostly made of links but prose of its own; cut to its first
    paragraph it is a thin index page."""
    html, exp = load("listing_like_article_short_post")
    assert isinstance(parse_article(exp["url"], html, {}), ArticleRecord)
    first_only = re.sub(r"(</p>)\s*<p>.*?</p>\s*<p>.*?</p>", r"\1", html, flags=re.S)
    assert first_only.count("<p>") == 1
    result = parse_article(exp["url"], first_only, {})
    assert isinstance(result, NotArticle) and (result.reason, result.detail) == ("listing", "thin_linked")


def test_link_region_needs_links_in_the_chosen_region():
    html, exp = load("listing_link_region")
    unlinked = re.sub(r'<li><a href="[^"]+">([^<]+)</a></li>', r"<li>\1</li>", html)
    assert "<a href=\"/glossary/" not in unlinked
    assert isinstance(parse_article(exp["url"], unlinked, {}), ArticleRecord)


def test_teaser_region_needs_a_run_of_same_shaped_teasers():
    html, exp = load("listing_teaser_region")
    n = iter(range(100))
    distinct = re.sub(r'<div class="card">', lambda m: f'<div class="card-{next(n)}">', html)
    assert isinstance(parse_article(exp["url"], distinct, {}), ArticleRecord)
    cards = html.split('<div class="card">')
    four = '<div class="card">'.join(cards[:5]) + html[html.index("  </div>\n  <div class=\"pager\">"):]
    assert four.count('<div class="card">') == 4
    assert isinstance(parse_article(exp["url"], four, {}), ArticleRecord)
    unlinked = re.sub(r'<h2><a href="[^"]+">([^<]+)</a></h2>', r"<h2>\1</h2>", html)
    assert isinstance(parse_article(exp["url"], unlinked, {}), ArticleRecord)
    # the items of a list article link to other sites: not teasers of this one
    elsewhere = re.sub(r'<h2><a href="/mining/([^"/]+)/">', r'<h2><a href="https://\1.example/">', html)
    assert elsewhere.count('.example/">') == 6
    assert isinstance(parse_article(exp["url"], elsewhere, {}), ArticleRecord)


def test_thin_linked_needs_links():
    html, exp = load("listing_thin_linked")
    unlinked = re.sub(r'<a href="/notes/\d+">([^<]+)</a>', r"\1", html)
    assert isinstance(parse_article(exp["url"], unlinked, {}), ArticleRecord)


def test_weak_region_needs_links_and_a_weak_region():
    html, exp = load("listing_weak_region")
    unlinked = re.sub(r"<a href=\"[^\"]+\">([^<]+)</a>", r"\1", html)
    assert "<a " not in unlinked
    assert isinstance(parse_article(exp["url"], unlinked, {}), ArticleRecord)
    _, sel = parsed_html(html)
    body = parse_article(exp["url"], unlinked, {}).body_text
    assert notarticle.listing_rule(sel, exp["url"], body) == "weak_region"  # fast path run by the rule itself
    # a region that stands alone is no weak region; its eighteen same-shaped rows still make it a list
    assert notarticle.listing_rule(sel, exp["url"], body, fast_enough=True) == "page_teasers"


def test_rule_reads_the_page_when_the_caller_does_not_say():
    """``listing_rule`` without ``story`` / ``ld_types`` reads og:type and JSON-LD from the page itself."""
    html, exp = load("listing_declared_collection")
    _, sel = parsed_html(html)
    assert notarticle.listing_rule(sel, exp["url"], "A short intro of a tag page.") == "declared_collection"
    html, exp = load("listing_like_article_roundup")
    _, sel = parsed_html(html)
    assert notarticle.calls_itself_article(sel)
    assert notarticle.listing_rule(sel, exp["url"], "Five links.") is None
    assert notarticle.listing_rule(sel, exp["url"], "Five links.", story=False) == "link_region"
    assert notarticle.classify(sel, html, exp["url"], "Five links.", story=False) == "listing"


def test_measures():
    html, _ = load("listing_link_region")
    _, sel = parsed_html(html)
    assert notarticle.main_region_link_share(sel.root) > notarticle.REGION_MAX_LINK_SHARE
    assert 0 < notarticle.page_link_share(sel) <= 1
    _, empty = parsed_html("<html><body></body></html>")
    assert notarticle.main_region_link_share(empty.root) == 0.0
    assert notarticle.page_link_share(empty) == 0.0


def test_a_story_region_outweighs_the_site_menus():
    """A long untyped guide under a mega-menu of 360 same-site headline links: the links outweigh its prose
    five times over, but the region the extractor chose is a story (long prose, few links, none of the
    headlines); cut to its first paragraph the same page is a headline listing."""
    html, exp = load("listing_like_article_story_under_menu")
    result = parse_article(exp["url"], html, {})
    assert isinstance(result, ArticleRecord) and result.body_text.startswith(exp["body_first_words"])
    assert "without losing sleep" not in result.body_text
    _, sel = parsed_html(html)
    heads = notarticle.listing.headline_links(sel.root, exp["url"])
    assert sum(map(len, heads.values())) >= notarticle.LISTING_RATIO * notarticle.prose_len(result.body_text)
    cut = re.sub(r"(</p>)(\s*<p>.*?</p>){5}\s*</div>", r"\1\n  </div>", html, count=1, flags=re.S)
    assert cut.count("<p>") == 2  # the first paragraph and the footer's
    result = parse_article(exp["url"], cut, {})
    assert isinstance(result, NotArticle) and (result.reason, result.detail) == ("listing", "headlines")


def test_story_region_needs_few_headlines_inside_it():
    html, exp = load("listing_like_article_story_under_menu")
    _, sel = parsed_html(html)
    story = sel.root.xpath('//div[@class="guide-body"]')
    assert notarticle.is_story_region(story, exp["url"])
    assert not notarticle.is_story_region([], exp["url"])
    links = "".join(f'<p>Read next: <a href="/guides/story-number-{n}-of-this-week">Story number {n} of this '
                    f"week</a>, with a line of our own about why it matters to anyone who keeps coins at home "
                    f"and wants the whole picture.</p>" for n in range(8))
    crowded = html.replace('<div class="guide-body">', '<div class="guide-body">' + links)
    _, sel = parsed_html(crowded)
    region = sel.root.xpath('//div[@class="guide-body"]')
    assert notarticle.region_link_share(region) <= notarticle.STORY_REGION_MAX_LINK_SHARE
    assert not notarticle.is_story_region(region, exp["url"])


def test_crawl_counts_each_listing_rule(tmp_path):
    """`scrapy crawl news` over a local site whose feed lists one article and two listing pages: one article
    row, and each listing counted under its reason and under the rule that decided it."""
    from tests.conftest import crawl_fixture_site

    result = crawl_fixture_site(tmp_path, CRAWL_SITE, "quaycoins", "Quay Coins", CRAWL_DOMAIN)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stats
    assert stats["articles/not_article/listing"] == 2
    assert stats["articles/not_article/listing/teaser_region"] == 1
    assert stats["articles/not_article/listing/thin_linked"] == 1
    assert not [k for k in stats if k.startswith("articles/not_article/listing/")
                and k.rsplit("/", 1)[1] not in ("teaser_region", "thin_linked")]
    titles = [r["title"] for r in result.table("articles").to_pylist()]
    assert titles == ["Exchange adds a proof-of-reserves page"]
    # the summary line counts each page once (the rule is a breakdown of its reason)
    assert "dropped/skipped:" in result.stderr and "not_article/listing=2" in result.stderr
    assert "not_article/listing/" not in result.stderr.split(
        "dropped/skipped:")[-1]


def _cut_to_first_paragraph(html: str) -> str:
    cut = re.sub(r"(</p>)(\s*<p>.*?</p>){6}", r"\1", html, count=1, flags=re.S)
    assert cut.count("<p>") < html.count("<p>") - 5
    return cut


def test_cms_template_is_what_decides():
    """A WordPress category archive calls itself og:type article; its body class names the template."""
    html, exp = load("listing_cms_template")
    _, sel = parsed_html(html)
    assert notarticle.listing.listing_template(sel.root) == "category"
    plain = html.replace("archive category category-wallets category-12 ", "")
    assert isinstance(parse_article(exp["url"], plain, {}), ArticleRecord)
    # WordPress's words count only on a WordPress page; an item's class (single, wp-singular, page) wins
    not_wp = html.replace(" wp-embed-responsive wp-theme-keyring", "").replace("archive category", "category")
    assert isinstance(parse_article(exp["url"], not_wp, {}), ArticleRecord)
    single = html.replace('<body class="archive', '<body class="single archive')
    assert isinstance(parse_article(exp["url"], single, {}), ArticleRecord)
    for other in ("page-taxonomy-term", "tag-template", "view-category"):  # Drupal, Ghost, Joomla
        swapped = html.replace("archive category category-wallets category-12 wp-embed-responsive wp-theme-keyring",
                               other)
        assert parse_article(exp["url"], swapped, {}).detail == "cms_template", other
    # a JSON-LD article type is the page's own word
    with_ld = html.replace("</head>", '<script type="application/ld+json">{"@context": "https://schema.org", '
                                      '"@type": "BlogPosting", "headline": "Wallets"}</script></head>')
    assert isinstance(parse_article(exp["url"], with_ld, {}), ArticleRecord)


def test_paginated_needs_numbered_pages_in_a_pagination_block():
    html, exp = load("listing_paginated")
    _, sel = parsed_html(html)
    assert notarticle.listing.pagination_pages(sel.root, exp["url"]) == 2  # ?page=2 linked twice, ?page=3
    without = re.sub(r'<nav class="pagination">.*?</nav>', "", html, flags=re.S)
    assert isinstance(parse_article(exp["url"], without, {}), ArticleRecord)
    one_page = html.replace('<a href="/notices?page=3">3</a>', "")
    assert isinstance(parse_article(exp["url"], one_page, {}), ArticleRecord)
    not_a_pager = html.replace('<nav class="pagination">', '<div class="related">').replace("</nav>", "</div>")
    assert isinstance(parse_article(exp["url"], not_a_pager, {}), ArticleRecord)


def test_dated_cards_need_dates_and_links_to_the_site():
    html, exp = load("listing_dated_cards")
    undated = re.sub(r"<time[^>]*>[^<]*</time>", "", html)
    assert isinstance(parse_article(exp["url"], undated, {}), ArticleRecord)
    elsewhere = re.sub(r'<a href="/briefs/', '<a href="https://wire.example/briefs/', html)
    assert isinstance(parse_article(exp["url"], elsewhere, {}), ArticleRecord)
    cards = html.split('  <article class="card">')
    fewer = '  <article class="card">'.join(cards[:notarticle.DATED_CARDS_MIN]) + "</section></body></html>"
    assert fewer.count('<article class="card">') == notarticle.DATED_CARDS_MIN - 1
    assert isinstance(parse_article(exp["url"], fewer, {}), ArticleRecord)


def test_a_story_region_outweighs_pagination():
    """Page one of a multi-page guide links to its pages 2 and 3: an article because the region is a story; cut
    to one paragraph it is a list."""
    html, exp = load("listing_like_article_paged_story")
    result = parse_article(exp["url"], html, {})
    assert isinstance(result, ArticleRecord) and result.body_text.startswith(exp["body_first_words"])
    result = parse_article(exp["url"], _cut_to_first_paragraph(html), {})
    assert isinstance(result, NotArticle) and result.detail == "paginated"


def _variants(url: str, html: str):
    untyped = html.replace('<meta property="og:type" content="article">\n', "")
    assert untyped != html
    for u in (url, url.replace("https://", "https://www."), url.replace("https://", "http://"),
              url + "?utm_source=rss", url + "?amp=1"):
        yield u, html
        yield u, untyped


def test_comments_are_not_cards():
    """Dated comments (``<article>`` in a comment section, each linking its author and its own permalink) are not
    dated cards nor teasers, however short the post, typed or not, under any spelling of its URL."""
    for case in ("listing_like_article_with_comments", "listing_like_article_short_with_comments"):
        html, exp = load(case)
        first_only = re.sub(r"(</p>)(\s*<p>.*?</p>){4}", r"\1", html, count=1, flags=re.S)
        assert first_only.count("<p>") == html.count("<p>") - 4
        for text in (html, first_only):
            _, sel = parsed_html(text)
            assert notarticle.listing.dated_cards(sel.root, exp["url"]) == 0, case
        for url, text in _variants(exp["url"], html):
            result = parse_article(url, text, {})
            assert isinstance(result, ArticleRecord), (case, url, getattr(result, "detail", None))
            assert result.body_text.startswith(exp["body_first_words"])
    # the same blocks outside a comment section are cards again (the comment section is what decides) ...
    html, exp = load("listing_like_article_short_with_comments")
    bare = html.replace('id="comments" class="comments-area"', 'class="stream"').replace(
        '<ol class="comment-list">', '<ol class="stream-list">').replace('class="comment-body"', 'class="card"')
    bare = re.sub(r' id="(div-)?comment-\d+"', "", bare)
    _, sel = parsed_html(bare)
    assert notarticle.listing.dated_cards(sel.root, exp["url"]) == 20
    # ... but their permalinks back to this page never are: only the author links count
    no_authors = re.sub(r'<a href="/members/[^"]*" class="url">[^<]*</a>', "", bare)
    for url in (exp["url"], exp["url"].replace("https://", "https://www."), exp["url"] + "?utm_source=rss"):
        _, sel = parsed_html(no_authors)
        assert notarticle.listing.dated_cards(sel.root, url) == 0, url
    # an <article> nested in another <article> is a reply or an embed, not a card
    nested = bare.replace('<main>', '<main><article class="post">').replace('</main>', '</article></main>')
    _, sel = parsed_html(nested)
    assert notarticle.listing.dated_cards(sel.root, exp["url"]) == 0


def test_single_post_with_a_paged_widget_stays_article():
    """A short WordPress single post whose sidebar widget pages its own list (/page/2/, /page/3/)."""
    html, exp = load("listing_like_article_single_post_paged_widget")
    _, sel = parsed_html(html)
    assert notarticle.listing.item_template(sel.root)
    assert notarticle.listing.pagination_pages(sel.root, exp["url"]) == 0  # the pager sits in an <aside> widget
    for url, text in _variants(exp["url"], html):
        assert isinstance(parse_article(url, text, {}), ArticleRecord), url
    # the pager in the page itself counts; the single-post body class still keeps the page an article ...
    in_page = html.replace('<aside class="widget latest">', '<div class="latest">').replace("</aside>", "</div>")
    _, sel = parsed_html(in_page)
    assert notarticle.listing.pagination_pages(sel.root, exp["url"]) == 2
    assert isinstance(parse_article(exp["url"], in_page, {}), ArticleRecord)
    # ... and without that class it is a paged list
    plain = re.sub(r'<body class="[^"]*">', "<body>", in_page)
    result = parse_article(exp["url"], plain, {})
    assert isinstance(result, NotArticle) and result.detail == "paginated"


def test_page_teasers_need_a_long_run_of_same_site_cards():
    """A shop category: the extractor's region is the intro, the sixteen product cards sit beside it."""
    html, exp = load("listing_page_teasers")
    _, sel = parsed_html(html)
    assert notarticle.page_teasers(sel, exp["url"]) == 16
    cards = html.split('      <li class="product-card">')
    fewer = '      <li class="product-card">'.join(cards[:notarticle.PAGE_TEASERS_MIN_RUN]) + "</ul></div></body></html>"
    assert fewer.count('<li class="product-card">') == notarticle.PAGE_TEASERS_MIN_RUN - 1
    assert isinstance(parse_article(exp["url"], fewer, {}), ArticleRecord)
    elsewhere = html.replace('<a href="/shop/', '<a href="https://maker.example/shop/')
    assert isinstance(parse_article(exp["url"], elsewhere, {}), ArticleRecord)
    typed = html.replace("</head>", '<meta property="og:type" content="article"></head>')
    assert isinstance(parse_article(exp["url"], typed, {}), ArticleRecord)
    # a long guide of its own above the grid: its region is a story
    story, _ = load("listing_like_article_story_under_menu")
    guide = "\n".join(re.findall(r"<p>.*?</p>", story)[:7])
    with_guide = html.replace("</div>\n<div class=\"product-grid\">", guide + "</div>\n<div class=\"product-grid\">")
    assert with_guide != html
    assert isinstance(parse_article(exp["url"], with_guide, {}), ArticleRecord)


HEADED_ENTRY = re.compile(r'<h2><a href="([^"]+)">([^<]+)</a></h2><p>(.*?)</p>')


def test_headed_links_need_headings_that_link_to_the_site():
    """A section front whose every item opens with a heading linking to the item's page: the headings are what
    decide (the same items with plain headings and a "Read more" link, headings linking to another site, one
    item fewer than the threshold, or a JSON-LD NewsArticle: an article)."""
    html, exp = load("listing_headed_links")
    _, sel = parsed_html(html)
    from crawler.sites import maintext
    assert notarticle.listing.headed_links(maintext.choose(sel.root), exp["url"]) == 32
    plain = HEADED_ENTRY.sub(r'<h2>\2</h2><p>\3 <a href="\1">Read more</a></p>', html)
    assert plain.count("Read more") == 32
    assert isinstance(parse_article(exp["url"], plain, {}), ArticleRecord)
    elsewhere = html.replace('<h2><a href="/markets/', '<h2><a href="https://wire.example/markets/')
    assert isinstance(parse_article(exp["url"], elsewhere, {}), ArticleRecord)
    entries = html.split('<div class="entry">')
    fewer = '<div class="entry">'.join(entries[:notarticle.HEADED_LINKS_MIN]) + "</div></main></body></html>"
    assert fewer.count('<div class="entry">') == notarticle.HEADED_LINKS_MIN - 1
    assert isinstance(parse_article(exp["url"], fewer, {}), ArticleRecord)
    typed = html.replace("</head>", '<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>')
    assert isinstance(parse_article(exp["url"], typed, {}), ArticleRecord)


def test_a_list_article_with_linked_section_headings_stays_article():
    """A review round-up whose section headings link to the site's full reviews. Grown to three times as many
    sections (36, past HEADED_LINKS_MIN) it is still an article: each section is prose, not an excerpt; cut to
    one short line per section, it reads as a section front."""
    html, exp = load("listing_like_article_linked_headings")
    head, _, rest = html.partition("<h2>")
    sections, _, tail = ("<h2>" + rest).rpartition("</p>\n<p>None of these")
    tail = "</p>\n<p>None of these" + tail
    grown = sections
    for n in (2, 3):
        grown += "</p>\n" + re.sub(r'href="/reviews/([^"]+)"', rf'href="/reviews/\1-part-{n}"',
                                    sections.replace("hardware wallet review", f"hardware wallet review, mark {n}")
                                    .replace("</p>", f" The mark {n} model behaves the same way.</p>"))
    grown_html = head + grown + tail
    _, sel = parsed_html(grown_html)
    from crawler.sites import maintext
    assert notarticle.listing.headed_links(maintext.choose(sel.root), exp["url"]) == 36
    result = parse_article(exp["url"], grown_html, {})
    assert isinstance(result, ArticleRecord), getattr(result, "detail", None)
    assert result.body_text.startswith(exp["body_first_words"])
    lines = iter(range(1, 100))
    short = re.sub(r"(</h2>)(\s*<p>[^<]*</p>)+", lambda m: m.group(1) + f"<p>Summary {next(lines)}: one line on how "
                   "this wallet did in our tests, with the full review a click away.</p>", grown_html)
    assert short.count("one line on how") == 36
    assert parse_article(exp["url"], short, {}).detail == "headed_links"
