"""Pages that must never become article rows: anti-bot challenges, client-rendered shells, listings, paywalls.

``classify(sel, raw, url, body)`` returns a reason (a short slug used in stats as
``articles/not_article/<reason>``) or None when the page may be an article:

* ``challenge``: an anti-bot interstitial or block page (Cloudflare, DDoS-Guard, Incapsula, PerimeterX ...);
* ``client_shell``: the server sent an empty application shell; the text arrives by JavaScript;
* ``listing``: a home page, section front, forum board, catalogue or index page. The rule that decided is
  :func:`listing_rule`'s answer (``NotArticle.detail``): ``headlines`` (headline links outweigh the page's
  own text), ``links_no_prose`` (no extracted text, many links, no prose paragraphs), and, on a page that does not
  carry a JSON-LD article type: ``declared_collection`` (its JSON-LD says ``CollectionPage`` /
  ``SearchResultsPage``, whatever its og:type), ``cms_template`` (its ``<body>`` class names a CMS listing
  template: WordPress ``category``/``tag``/``archive``/``blog``..., Drupal ``page-taxonomy-term``, Ghost
  ``tag-template``, Joomla ``view-category``; :func:`listing.listing_template`), ``paginated`` (a pagination
  block, not in an aside/widget/sidebar/footer, links to two or more other numbered pages of the list); on any
  page not declared one article: ``dated_cards`` (15 or more ``<article>`` cards each with a ``<time>`` and a
  headline link to another page of the site; a comment, in a comment section or nested in another
  ``<article>``, is no card, and a link back to this page is no card link) — ``paginated`` and ``dated_cards``
  never on a page whose body class names one item's page (``single``, ``single-post``, ``page`` ...:
  :func:`listing.item_template`); these three give way when the extractor's region is a story (below);
  ``headed_links`` (on a page without a JSON-LD article type: the extractor's region holds HEADED_LINKS_MIN or more
  headings that each link to another item page of the site, with less than HEADED_MAX_PROSE_PER_LINK characters
  of prose per heading: a section front or directory whose every item opens with its linked headline and an
  excerpt; a list article's sections are prose); and on a page that does not
  call itself an article at all (no
  ``og:type`` article either): ``link_region`` (the main region the extractor chose is mostly link text: a list
  of teasers), ``teaser_region`` (the region is mostly runs of same-shaped teaser blocks, each a headline link
  with a short excerpt), ``thin_linked`` (little prose of its own and a fifth or more of the page's text in links),
  ``weak_region`` (the extractor's region holds too little of the page's prose to stand alone and half the
  page's text is links: an index of snippets), ``page_teasers`` (a run of 15 or more teaser blocks anywhere on
  the page and less than 5000 characters of prose of its own: a catalogue whose region is its intro). The rules that weigh the whole page's links against its text
  (``headlines``, ``thin_linked``, ``weak_region``, ``page_teasers``) give way when the extractor's region is a story
  (:func:`is_story_region`: long prose, few links, few headline links inside it): a long guide under a site's
  mega-menu is an article;
* ``forum``: a discussion thread (forum topic, Q&A page): its structured data says so (``QAPage``,
  ``DiscussionForumPosting``), or, on a page that does not call itself an article, the text sits in four or more
  same-shaped post blocks (siblings with the same tag and class, the class naming a post, message, reply or
  answer); such a page belongs to a comment adapter (discussion entry), never to an article row;
* ``paywall``: the page says it is not free (``isAccessibleForFree: false``, a locked content tier) and
  serves nothing of the story: only the wall's own messages ("Subscribe to continue reading"). A
  not-free page that serves the opening of its story (a teaser) *is* an article row, flagged
  ``is_paywalled`` (:func:`is_paywalled`), its body the teaser without the wall's messages
  (:func:`teaser_story`).

The first three are decided before any extraction (cheap); the last two need the extracted body text.
"""
from __future__ import annotations

import json
import re

from lxml import etree
from parsel import Selector

from . import listing, maintext

# Technical markers that only appear on interstitial / block pages (challenge scripts, block-page ids).
STRONG_CHALLENGE_MARKERS = (
    "cf-browser-verification", "cf_chl_opt", "__cf_chl_", "cf-error-details", "_incapsula_resource",
    "px-captcha", "captcha-delivery.com",
)
# Wording of block pages: also possible in an article about them, so they need a near-empty page too.
CHALLENGE_PHRASES = (
    "cf-challenge", "ddos-guard", "sucuri website firewall", "checking your browser before accessing",
    "enable javascript and cookies to continue", "attention required! | cloudflare", "sorry, you have been blocked",
    "verify you are human", "why have i been blocked?", "access to this page has been denied",
    "please turn javascript on and reload the page", "request unsuccessful. incapsula incident id",
)
# Markers also injected into ordinary pages (Cloudflare's passive bot script): need a near-empty page with
# no paragraphs and no application mount point.
WEAK_CHALLENGE_MARKERS = ("challenge-platform", "perimeterx", "captcha", "datadome")
CHALLENGE_TITLES = re.compile(r"^\s*(just a moment|attention required|access denied|security check|"
                              r"ddos-guard|please wait|one more step|verifying you are human|"
                              r"are you a robot|pardon our interruption)\b", re.I)
SHELL_MOUNTS = ('//div[@id="root" or @id="app" or @id="__next" or @id="__nuxt" or @id="svelte" or '
                '@data-reactroot or @ng-version]')
SEL_TITLE = "title::text"
SEL_LD = 'script[type="application/ld+json"]::text'
SEL_PARAGRAPHS = "p"
SEL_CONTENT_TIER = 'meta[property="article:content_tier"]::attr(content), meta[name="article:content_tier"]::attr(content)'
LOCKED_TIERS = frozenset({"locked", "metered"})
SEL_LINKS = "a[href]"
LD_ARTICLE = re.compile(r'"@type"\s*:\s*\[?\s*"(News|Blog|Report|Scholarly|Tech|Opinion|Analysis)?Article"'
                        r'|"@type"\s*:\s*\[?\s*"BlogPosting"')
NOT_FREE = re.compile(r'"isAccessibleForFree"\s*:\s*(false|"false"|"False")', re.I)

SHELL_MAX_TEXT = 400          # visible characters below which a page with a mount point is a shell
CHALLENGE_MAX_TEXT = 1500     # titles, phrases and weak markers only count on a page with less text than this
CHALLENGE_MIN_PARAGRAPHS = 3  # ... and strong markers on a page with less text or fewer prose paragraphs
STRONG_CHALLENGE_MAX_TEXT = 3000  # ... or, whatever its paragraphs, less text than this
LISTING_MIN_HEADLINES = 8     # headline links needed before a page can be a listing
LISTING_DECLARED_MIN_PROSE = 1000  # prose that outweighs a stray Article type somewhere in the JSON-LD
LISTING_RATIO = 5.0           # headline-link characters per character of own body text
# on a page that does not call itself an article:
COLLECTION_LD_TYPES = frozenset({"CollectionPage", "SearchResultsPage"})  # the page says it is a list
LD_COLLECTION = re.compile(r'"@type"\s*:\s*\[?\s*"(CollectionPage|SearchResultsPage)"')
LD_STORY = re.compile(r'"@type"\s*:\s*\[?\s*"(\w*Article|BlogPosting|LiveBlogPosting|Report)"')
SEL_OG_TYPE = 'meta[property="og:type"]::attr(content)'
REGION_MAX_LINK_SHARE = 0.3   # the chosen main region with more link text than this is a list of teasers
TEASER_REGION_MIN_RUN = 5     # teasers in one run of the chosen region ...
TEASER_REGION_SHARE = 0.6     # ... and the share of the region's text that runs of teasers hold
THIN_MAX_PROSE = 500          # prose characters below which a page is thin ...
THIN_MIN_LINK_SHARE = 0.2     # ... and, with this share of its visible text in links, an index page
WEAK_REGION_MIN_LINK_SHARE = 0.5  # a page whose main region holds little of its prose, half of it links
PAGINATION_MIN_PAGES = 2      # other numbered pages of the list linked from a pagination block
DATED_CARDS_MIN = 15          # <article> cards with a date and a headline link to another page of the site
HEADED_LINKS_MIN = 30         # headings in the extractor's region that each link to another item of the site
HEADED_MAX_PROSE_PER_LINK = 400  # ... with at most an excerpt of prose each (a list article has sections of it)
PAGE_TEASERS_MIN_RUN = 15     # teasers in one run anywhere on an untyped page ...
PAGE_TEASERS_MAX_PROSE = 5000  # ... with less prose of its own than this
PAGE_TEASER_MIN_UNLINKED = 10  # text of a card besides its links (excerpt, date, price): menu items have none
STORY_REGION_MIN_PROSE = 2000  # prose in the chosen region that makes it a story ...
STORY_REGION_MAX_LINK_SHARE = 0.2  # ... when at most this share of the region's text is links
LD_STORY_TYPE = re.compile(r"(Article|BlogPosting|Report)$")  # JSON-LD @type names of one story
PROSE_MIN_CHARS = 80         # a paragraph shorter than this is a label, date or button, not prose
PAYWALL_MAX_BODY = 1500       # a not-free page with less body text than this serves only a teaser
# the wall's own messages: a short paragraph of a teaser that asks the reader to pay, subscribe or log in. A
# strong phrase ("for subscribers only", "continue reading", "already a subscriber") makes one, and so does a
# weak word in a paragraph that speaks to the reader (you/your, or opening with a call: "Log in or register");
# weak words alone do not ("members will pay a monthly fee; existing subscribers get three months free" is news)
WALL_STRONG = re.compile(r"\b((for|to) (paying |premium |our )?(subscribers|members)( only)?|already an? (subscriber|member)|"
                         r"continue reading|read the (full|rest|whole)|(rest|remainder) of (this|the) (article|story)|"
                         r"free articles?|paywall)\b", re.I)
WALL_WEAK = re.compile(r"\b(subscri(be|bers?|ption)|sign(ed)?[ -]?(in|up)|log(ged)?[ -]?in|register|members?(hip)?|"
                       r"premium|unlock|free trial|access)\b", re.I)
WALL_ADDRESS = re.compile(r"\b(you|your)\b|^\W*(subscribe|sign|log|register|join|become|unlock|start|get|try)\b", re.I)
WALL_MESSAGE_MAX = 300       # ... that short (a longer paragraph naming a subscription is the story's)
TEASER_MIN_CHARS = 200       # story text a teaser needs besides the wall's messages (as an article body)


FORUM_LD_TYPES = frozenset({"DiscussionForumPosting", "QAPage"})
# class words of one post in a thread (phpBB "post", XenForo "message", vBulletin "postbit", Q&A "answer" ...)
POST_WORDS = frozenset({"post", "posts", "message", "reply", "replies", "answer", "postbit", "postcontainer",
                        "posting"})
# (case-sensitive) parts of the class attribute of an element that may be a post: the cheap test before the words
POSTISH_CLASS_PARTS = ("post", "message", "repl", "answer")
CLASS_SPLIT = re.compile(r"[\s_\-]+")
FORUM_MIN_POSTS = 4       # same-shaped post blocks with text of their own ...
POST_MIN_CHARS = 150      # ... of at least this many characters each


NOT_VISIBLE = frozenset({"script", "style", "template", "noscript"})
NOT_SERVED = frozenset({"script", "style", "template"})


def visible_text_len(sel: Selector, skip: frozenset = NOT_VISIBLE, enough: int | None = None) -> int:
    """Characters of text in <body> outside the ``skip`` elements; stops counting at ``enough``."""
    body = sel.root.find(".//body") if isinstance(sel.root.tag, str) else None
    if body is None:
        return 0
    total = 0
    stack = [body]
    while stack:
        el = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if el is not body and el.tail:
            total += len(el.tail.strip())
        if tag in skip or not tag:
            continue
        if el.text:
            total += len(el.text.strip())
        if enough is not None and total >= enough:
            return total
        stack.extend(el)
    return total


def prose_paragraphs(sel: Selector, enough: int) -> int:
    """Paragraphs of prose length on the page (counting stops at ``enough``)."""
    n = 0
    root = sel.root
    if not isinstance(getattr(root, "tag", None), str):
        return 0
    for p in root.iter("p"):
        if len(p.text_content().strip()) >= PROSE_MIN_CHARS:
            n += 1
            if n >= enough:
                break
    return n


def is_challenge(sel: Selector, raw_lower: str, visible: int | None = None) -> bool:
    """``visible``: the page's visible characters counted up to STRONG_CHALLENGE_MAX_TEXT, when the caller
    has them already."""
    if visible is None:
        visible = visible_text_len(sel, enough=STRONG_CHALLENGE_MAX_TEXT)
    if any(m in raw_lower for m in STRONG_CHALLENGE_MARKERS):
        # the scripts of a bot-protection service also ride along on the ordinary pages it protects (a
        # passive check script, a captcha modal's style): a page with much text, or text in paragraphs, is no
        # block page
        if visible >= STRONG_CHALLENGE_MAX_TEXT:
            return False
        return not (visible >= CHALLENGE_MAX_TEXT
                    and prose_paragraphs(sel, CHALLENGE_MIN_PARAGRAPHS) >= CHALLENGE_MIN_PARAGRAPHS)
    if visible >= CHALLENGE_MAX_TEXT:
        return False  # a page with this much to read is not an interstitial, whatever it mentions
    title = (sel.css(SEL_TITLE).get() or "").strip()
    if CHALLENGE_TITLES.match(title) or any(m in raw_lower for m in CHALLENGE_PHRASES):
        return True
    return any(m in raw_lower for m in WEAK_CHALLENGE_MARKERS) and len(sel.css(SEL_PARAGRAPHS)) < 3 \
        and not sel.xpath(SHELL_MOUNTS)


def is_client_shell(sel: Selector, visible: int | None = None) -> bool:
    """A page whose content is rendered by JavaScript: almost no text outside scripts. ``visible``: the
    page's visible characters (outside <noscript> too) when the caller has counted them."""
    if visible is not None and visible >= SHELL_MAX_TEXT:
        return False  # <noscript> text only adds to it
    if visible_text_len(sel, NOT_SERVED, enough=SHELL_MAX_TEXT) >= SHELL_MAX_TEXT:
        return False
    return bool(sel.xpath(SHELL_MOUNTS)) or len(sel.css("script")) >= 3


def declares_article(sel: Selector) -> bool:
    return any(LD_ARTICLE.search(block) for block in sel.css(SEL_LD).getall())


def is_listing(sel: Selector, url: str, body: str | None, declared: bool | None = None,
               story: bool | None = None, ld_types: frozenset | None = None,
               fast_enough: bool | None = None) -> bool:
    return listing_rule(sel, url, body, declared, story, ld_types, fast_enough) is not None


def listing_rule(sel: Selector, url: str, body: str | None, declared: bool | None = None,
                 story: bool | None = None, ld_types: frozenset | None = None,
                 fast_enough: bool | None = None) -> str | None:
    """The listing rule the page meets (see the module doc), or None when it may be an article.

    ``declared``: the page's own structured data says it is one article (top-level JSON-LD Article, not one
    inside an ItemList); such a page with some prose of its own is never a listing. None: look for any
    Article type in the JSON-LD (weaker: home pages list NewsArticle items), and ask for more prose.
    ``story``: the page calls itself an article (og:type article or a JSON-LD article type); None: read
    it from the page. ``ld_types``: the page's JSON-LD @types; None: read them from the page.
    ``fast_enough``: the fast main-text path found enough of the page's prose on its own
    (:class:`maintext.FastText`); None: run it."""
    own = prose_len(body)
    if declared and own >= PROSE_MIN_CHARS:
        return None  # the page says it is one article and has prose of its own (whatever it links to)
    region = None  # the extractor's main region, chosen once when a rule needs it
    heads = listing.headline_links(sel.root, url) if url else {}
    if len(heads) >= LISTING_MIN_HEADLINES and sum(len(t) for t in heads.values()) >= LISTING_RATIO * max(own, 1):
        if declared:
            hit = own < PROSE_MIN_CHARS
        else:
            hit = not (declared is None and declares_article(sel) and own >= LISTING_DECLARED_MIN_PROSE)
        if hit:
            region = maintext.choose(sel.root) if isinstance(getattr(sel.root, "tag", None), str) else []
            if not is_story_region(region, url):
                return "headlines"  # (a story region: the headline links are the site's menus, not the page)
    if body is None and not (declared or declares_article(sel)):
        paragraphs = [p for p in sel.css(SEL_PARAGRAPHS) if len(" ".join(p.css("::text").getall())) > 150]
        if len(paragraphs) < 3 and len(sel.css(SEL_LINKS)) > 30:
            return "links_no_prose"
    if not isinstance(getattr(sel.root, "tag", None), str):
        return None
    ld_story = ld_declares_story(sel, ld_types)
    if not ld_story and declares_collection(sel, ld_types):
        # typed a collection in its JSON-LD: an og:type article (which many sites put on every page) does not
        # outweigh that; a JSON-LD article type does
        return "declared_collection"
    # the page's template says it is a list (og:type article does not outweigh that), unless the extractor's
    # region reads as one story (a category page with a long guide of its own)
    # (a body class of one item's page, WordPress ``single`` or Drupal ``node-type-article``, rules out the
    # pager and card rules: a single post's widgets page and date their own lists)
    template = None
    item_page = listing.item_template(sel.root)
    if not ld_story and listing.listing_template(sel.root):
        template = "cms_template"
    elif not ld_story and not item_page and listing.pagination_pages(sel.root, url) >= PAGINATION_MIN_PAGES:
        template = "paginated"
    elif not item_page and listing.dated_cards(sel.root, url) >= DATED_CARDS_MIN:
        template = "dated_cards"
    if template:
        if region is None:
            region = maintext.choose(sel.root)
        if not is_story_region(region, url):
            return template
    if not ld_story and len(heads) >= HEADED_LINKS_MIN:  # (the region's headline links are some of the page's)
        if region is None:
            region = maintext.choose(sel.root)
        headed = listing.headed_links(region, url)
        if headed >= HEADED_LINKS_MIN and own < HEADED_MAX_PROSE_PER_LINK * headed:
            # (a region with this many headline links is never a story region; a list article whose every
            # section heading links to the site's own review has sections of prose, not excerpts)
            return "headed_links"
    if ld_story or (story if story is not None else calls_itself_article(sel)):
        return None  # an article page may be link-heavy (a round-up, a short post under a big menu)
    if region is None:
        region = maintext.choose(sel.root)
    if region_link_share(region) > REGION_MAX_LINK_SHARE:
        return "link_region"
    if is_teaser_region(region, url):
        return "teaser_region"
    share = page_link_share(sel)
    if own < THIN_MAX_PROSE and share >= THIN_MIN_LINK_SHARE and not is_story_region(region, url):
        return "thin_linked"
    if share >= WEAK_REGION_MIN_LINK_SHARE and not (
            fast_enough if fast_enough is not None else maintext.extract_fast(sel).enough) \
            and not is_story_region(region, url):
        return "weak_region"
    if own < PAGE_TEASERS_MAX_PROSE and page_teasers(sel, url) >= PAGE_TEASERS_MIN_RUN \
            and not is_story_region(region, url):
        return "page_teasers"
    return None


def page_teasers(sel: Selector, url: str = "") -> int:
    """The longest run of same-shaped teaser blocks anywhere in <body> (:func:`listing.teaser_runs`), each with
    some text besides its links: the cards of a catalogue or category page whose main region the extractor
    placed on its intro text (a menu's items are links only)."""
    body = sel.root.find(".//body")
    if body is None:
        return 0
    return max((n for n, _ in listing.teaser_runs(body, url, PAGE_TEASER_MIN_UNLINKED)), default=0)


def is_story_region(containers: list, url: str = "") -> bool:
    """The region the extractor chose reads as one story: STORY_REGION_MIN_PROSE characters or more in prose
    paragraphs, at most STORY_REGION_MAX_LINK_SHARE of its text in links and fewer than LISTING_MIN_HEADLINES
    headline links inside it. The rules that weigh the whole page's links against its text (headline links,
    a thin page, a weak region) give way to it: a long story under a site's big menus is still a story, and
    the fast path's own text may have missed it."""
    if not containers:
        return False
    prose = sum(len(t) for c in containers for p in c.iter("p")
                if len(t := " ".join(p.text_content().split())) >= PROSE_MIN_CHARS)
    if prose < STORY_REGION_MIN_PROSE or region_link_share(containers) > STORY_REGION_MAX_LINK_SHARE:
        return False
    heads: set = set()
    for c in containers:
        heads.update(listing.headline_links(c, url) if url else ())
    return len(heads) < LISTING_MIN_HEADLINES


def ld_declares_story(sel: Selector, ld_types: frozenset | None = None) -> bool:
    """A JSON-LD article type (NewsArticle, BlogPosting, Report ...; not a forum post) on the page."""
    if ld_types is not None:
        return any(LD_STORY_TYPE.search(t) for t in ld_types - FORUM_LD_TYPES)
    return any(LD_STORY.search(block) for block in sel.css(SEL_LD).getall())


def calls_itself_article(sel: Selector) -> bool:
    """og:type article, or a JSON-LD article type anywhere in the page's structured data."""
    if (sel.css(SEL_OG_TYPE).get() or "").strip().lower() == "article":
        return True
    return any(LD_STORY.search(block) for block in sel.css(SEL_LD).getall())


def declares_collection(sel: Selector, ld_types: frozenset | None = None) -> bool:
    """The page's JSON-LD types it as a collection (CollectionPage, SearchResultsPage)."""
    if ld_types is not None:
        return not COLLECTION_LD_TYPES.isdisjoint(ld_types)
    return any(LD_COLLECTION.search(block) for block in sel.css(SEL_LD).getall())


def main_region_link_share(root) -> float:
    """Share of link text in the region the main-text extractor chose (0 when it chose none)."""
    return region_link_share(maintext.choose(root))


def region_link_share(containers: list) -> float:
    total = sum(len(c.text_content()) for c in containers)
    if not total:
        return 0.0
    return sum(len(a.text_content()) for c in containers for a in c.iter("a")) / total


def is_teaser_region(containers: list, url: str = "") -> bool:
    """The region the extractor chose is mostly runs of same-shaped teaser blocks linking to other pages of
    the site (a category page whose cards carry long excerpts): TEASER_REGION_MIN_RUN teasers in one run,
    TEASER_REGION_SHARE of its text."""
    total = sum(len(" ".join(c.text_content().split())) for c in containers)
    if not total:
        return False
    runs = [run for c in containers for run in listing.teaser_runs(c, url)]
    return (max((n for n, _ in runs), default=0) >= TEASER_REGION_MIN_RUN
            and sum(chars for _, chars in runs) >= TEASER_REGION_SHARE * total)


def page_link_share(sel: Selector) -> float:
    """Share of the page's visible text (in <body>) that is link text."""
    body = sel.root.find(".//body")
    if body is None:
        return 0.0
    links = sum(len(a.text_content().strip()) for a in body.iter("a"))
    return links / max(visible_text_len(sel), 1)


def prose_len(text: str | None) -> int:
    """Characters in paragraphs long enough to be prose (dates, labels and button text do not count)."""
    return sum(len(p) for p in re.split(r"\n\s*\n", text or "") if len(p.strip()) >= PROSE_MIN_CHARS)


def declares_not_free(sel: Selector, raw: str) -> bool:
    """The page says it is not free: JSON-LD ``isAccessibleForFree`` false, or a locked/metered content tier."""
    tier = (sel.css(SEL_CONTENT_TIER).get() or "").strip().lower()
    if tier in LOCKED_TIERS:
        return True
    return bool(NOT_FREE.search(raw)) and any(_not_free(block) for block in sel.css(SEL_LD).getall())


def is_paywalled(sel: Selector, raw: str, body: str | None) -> bool:
    """The page says it is not free and serves only a teaser (less body text than PAYWALL_MAX_BODY): the row
    it makes holds the story's opening, not the story (``is_paywalled``)."""
    return len(body or "") < PAYWALL_MAX_BODY and declares_not_free(sel, raw)


def is_wall_message(paragraph: str) -> bool:
    """A short paragraph that asks the reader to subscribe, pay or log in (the wall, not the story): a strong
    phrase, or a weak word in a paragraph that speaks to the reader."""
    if len(paragraph) > WALL_MESSAGE_MAX:
        return False
    if WALL_STRONG.search(paragraph):
        return True
    return bool(WALL_WEAK.search(paragraph)) and bool(WALL_ADDRESS.search(paragraph))


def teaser_story(body: str | None) -> str:
    """A teaser's story text: its paragraphs without the wall's own messages. The wall sits around the story
    (a banner above it, the subscribe/log-in box below), so messages before the story's first prose paragraph
    and after its last one are cut: a short line of the story that speaks to the reader ("You can now access
    your rewards from the app.") between two prose paragraphs stays. With no prose, every wall message goes."""
    paragraphs = [p for p in (p.strip() for p in re.split(r"\n\s*\n", body or "")) if p]
    prose = [i for i, p in enumerate(paragraphs) if len(p) >= PROSE_MIN_CHARS and not is_wall_message(p)]
    first_prose, last_prose = (prose[0], prose[-1]) if prose else (-1, -1)
    return "\n\n".join(p for i, p in enumerate(paragraphs)
                        if first_prose < i < last_prose or not is_wall_message(p))


def is_wall_only(sel: Selector, raw: str, body: str | None) -> bool:
    """A not-free page that serves nothing of its story: besides the wall's messages (those :func:`teaser_story`
    cuts, above and below the story), no prose paragraph or less than TEASER_MIN_CHARS of text. Such a page is no article (``paywall``); a teaser is one."""
    if not is_paywalled(sel, raw, body):
        return False
    story = teaser_story(body)
    return len(story) < TEASER_MIN_CHARS or prose_len(story) == 0


def _not_free(block: str) -> bool:
    try:
        data = json.loads(block)
    except ValueError:
        return bool(NOT_FREE.search(block))  # malformed JSON-LD: trust the literal
    stack = [data]
    while stack:
        obj = stack.pop()
        if isinstance(obj, list):
            stack.extend(obj)
        elif isinstance(obj, dict):
            flag = obj.get("isAccessibleForFree")
            if flag is False or (isinstance(flag, str) and flag.strip().lower() == "false"):
                return True
            stack.extend(v for v in obj.values() if isinstance(v, (dict, list)))
    return False


def repeated_posts(root) -> int:
    """The largest number of sibling elements of one shape (tag + class) whose class names a post and which
    hold text of their own."""
    groups: dict = {}
    for el in maintext.document_elements(root):  # (a Python loop: faster than an XPath of contains())
        cls = el.get("class")
        if not cls or not any(w in cls for w in POSTISH_CLASS_PARTS) \
                or POST_WORDS.isdisjoint(CLASS_SPLIT.split(cls.lower())):
            continue
        groups.setdefault((el.getparent(), el.tag, cls), []).append(el)
    # the text of a group's blocks is read only while the group can still beat the best count so far
    best = 0
    for blocks in sorted(groups.values(), key=len, reverse=True):
        if len(blocks) <= best:
            break
        best = max(best, sum(1 for el in blocks if len(el.text_content().strip()) >= POST_MIN_CHARS))
    return best


def is_forum(sel: Selector, ld_types: frozenset = frozenset(), declares_story: bool = False) -> bool:
    """A discussion thread: declared as one in JSON-LD, or (on a page not declared an article) its text in
    FORUM_MIN_POSTS or more same-shaped post blocks."""
    if ld_types & FORUM_LD_TYPES:
        return True
    if declares_story or not isinstance(getattr(sel.root, "tag", None), str):
        return False
    return repeated_posts(sel.root) >= FORUM_MIN_POSTS


def classify_before_extraction(sel: Selector, raw: str) -> str | None:
    visible = visible_text_len(sel, enough=STRONG_CHALLENGE_MAX_TEXT)  # counted once for both checks
    if visible >= STRONG_CHALLENGE_MAX_TEXT:
        return None  # this much to read: neither an interstitial (whatever its scripts) nor an empty shell
    lower = raw[:200_000].lower()
    if is_challenge(sel, lower, visible):
        return "challenge"
    if is_client_shell(sel, visible):
        return "client_shell"
    return None


def classify_after_extraction(sel: Selector, raw: str, url: str, body: str | None,
                              declared: bool | None = None, story: bool | None = None,
                              ld_types: frozenset | None = None, fast_enough: bool | None = None) -> str | None:
    return explain_after_extraction(sel, raw, url, body, declared, story, ld_types, fast_enough)[0]


def explain_after_extraction(sel: Selector, raw: str, url: str, body: str | None,
                             declared: bool | None = None, story: bool | None = None,
                             ld_types: frozenset | None = None,
                             fast_enough: bool | None = None) -> tuple[str | None, str | None]:
    """(reason, the rule that decided it) after extraction; (None, None) when the page may be an article."""
    rule = listing_rule(sel, url, body, declared, story, ld_types, fast_enough)
    if rule:
        return "listing", rule
    if is_wall_only(sel, raw, body):
        return "paywall", None
    return None, None


def classify(sel: Selector, raw: str, url: str = "", body: str | None = None,
             declared: bool | None = None, story: bool | None = None) -> str | None:
    return classify_before_extraction(sel, raw) or classify_after_extraction(sel, raw, url, body, declared, story)
