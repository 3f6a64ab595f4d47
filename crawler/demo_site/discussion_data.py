"""Discussions of the demo news site on a Reddit-style and a Hacker News-style API (text in our own words).

A :class:`Discussion` is one submission (Reddit) or story (HN) with its comment tree. Where each comment is
first served is part of the data, so the APIs can exercise every path of the adapters:

- ``where="thread"``: in the thread JSON itself;
- ``where="more"``: behind a ``more`` stub of its parent (Reddit ``/api/morechildren``);
- ``where="continue"``: behind a "continue this thread" stub (Reddit permalink of the parent).

:func:`demo_discussions` builds the demo's set from a :class:`~crawler.demo_site.site.DemoSite`: one story of
the site discussed on both platforms (found by the crawl's lookup by URL), a link post to a page that is not
an article (a chart image), a self post, and an HN "Ask" story without a link.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUBREDDIT = "cryptodemo"
EPOCH = 1795500000  # 2026-11-22T ~ : demo discussion times (epoch seconds)
CHART_PATH = "/media/hashrate-chart.png"

REPLIES = [
    "The fee numbers in the piece line up with what my own node showed that evening.",
    "I read the whole thing twice and still cannot tell whether the pause was planned or forced.",
    "Somebody always claims this is the top. Two weeks later nobody remembers the thread.",
    "Good write-up, though the headline oversells it a little.",
    "Custody is the boring part everyone skips until it breaks.",
    "My exchange sent the same notice, word for word, an hour before this was published.",
    "If the regulator stays quiet for another month the market will price that in too.",
    "Interesting that the validators coordinated so quickly this time.",
    "Charts like this would be more useful with the volume underneath.",
    "The comments here are more careful than the article, which is a nice change.",
    "Does anyone have the original filing? The link in the story points at a summary.",
    "Liquidity was thin all week; this just made it visible.",
]


@dataclass
class DComment:
    id: str
    parent: str | None  # None = top level
    author: str | None
    body: str
    created: int  # epoch seconds
    score: int = 1
    where: str = "thread"  # thread | more | continue
    deleted: bool = False  # Reddit "[deleted]" / HN deleted
    removed: bool = False  # Reddit "[removed]"
    dead: bool = False  # HN dead (flagged)


@dataclass
class Discussion:
    id: str  # Reddit base-36 link id, or the HN story id (digits)
    platform: str  # reddit | hackernews
    title: str
    url: str | None  # linked page; None for a self post / Ask HN
    author: str
    created: int
    score: int
    community: str = SUBREDDIT
    selftext: str = ""
    comments: list[DComment] = field(default_factory=list)
    algolia_fails: bool = False  # HN: items/{id} answers 500 (the Firebase fallback is used)

    def kids(self, parent: str | None) -> list[DComment]:
        return [c for c in self.comments if c.parent == parent]


def _tree(prefix: str, n: int, start: int, *, more: set[int] = frozenset(), cont: set[int] = frozenset(),
          deleted: set[int] = frozenset(), removed: set[int] = frozenset(), dead: set[int] = frozenset(),
          chain: int = 0) -> list[DComment]:
    """``n`` comments: k-th replies to (k // 3)-th (a bushy tree), the first ``chain`` form a chain."""
    out: list[DComment] = []
    for k in range(n):
        if k == 0:
            parent = None
        elif k < chain:
            parent = out[k - 1].id
        else:
            parent = None if k % 4 == 0 else out[(k - 1) // 3].id
        where = "more" if k in more else "continue" if k in cont else "thread"
        out.append(DComment(id=f"{prefix}{k}", parent=parent, author=f"{prefix}user{k % 5}",
                            body=REPLIES[k % len(REPLIES)] + f" (#{k})", created=start + 60 * k, score=(k * 7) % 23 - 3,
                            where=where, deleted=k in deleted, removed=k in removed, dead=k in dead))
    return out


def demo_discussions(site, base: str) -> list[Discussion]:
    arts = [a for a in getattr(site, "articles", []) if getattr(a, "lang", "en") == "en"]
    if not arts:
        return []
    story = arts[min(3, len(arts) - 1)]
    story_url = f"{base}{story.path}"
    other = arts[min(4, len(arts) - 1)]
    # Reddit: the link is posted without its trailing slash, as people do (found by the lookup's URL variants)
    reddit_url = story_url.rstrip("/")
    reddit_link = Discussion("d3mo1", "reddit", story.title, reddit_url, "chainwatcher", EPOCH, 143,
                             comments=_tree("rk", 14, EPOCH + 100, more={6, 9, 12}, cont={13}, chain=6,
                                            deleted={2}, removed={8}))
    # the chain of six ends in a continue-thread stub (comment 13 replies to 12's parent chain, see _tree)
    reddit_link.comments[13].parent = reddit_link.comments[5].id
    chart = Discussion("d3mo2", "reddit", "Hashrate chart from the weekend, no comment needed",
                       f"{base}{CHART_PATH}", "graphpal", EPOCH + 3600, 21,
                       comments=_tree("rc", 3, EPOCH + 3700))
    self_post = Discussion("d3mo3", "reddit", "How do you all track exchange outflows?", None, "curious_node",
                           EPOCH + 7200, 9,
                           selftext="I keep a spreadsheet of wallet labels but it is always out of date. "
                                    "What do people here use to follow exchange outflows day to day?",
                           comments=_tree("rs", 4, EPOCH + 7300))
    other_link = Discussion("d3mo4", "reddit", other.title, f"{base}{other.path}", "ledgerreader", EPOCH + 9000, 35,
                            comments=_tree("ro", 2, EPOCH + 9100))
    hn_story = Discussion("4100001", "hackernews", story.title, story_url, "pgreader", EPOCH + 1800, 88,
                          community="hackernews", comments=_tree("", 9, EPOCH + 1900, deleted={3}, dead={5}))
    for c in hn_story.comments:  # HN ids are integers
        c.id = str(4100100 + int(c.id))
        c.parent = None if c.parent is None else str(4100100 + int(c.parent))
    ask = Discussion("4100002", "hackernews", "Ask HN: Are blockchain explorers worth self-hosting?", None,
                     "nodeoperator", EPOCH + 5400, 12, community="hackernews",
                     selftext="Running my own explorer costs a weekend a month. Is anyone else doing it, and why?",
                     comments=_tree("", 4, EPOCH + 5500, dead={3}), algolia_fails=True)
    for c in ask.comments:
        c.id = str(4100200 + int(c.id))
        c.parent = None if c.parent is None else str(4100200 + int(c.parent))
    return [reddit_link, chart, self_post, other_link, hn_story, ask]
