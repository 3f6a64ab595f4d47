"""The demo site's model: which pages exist on which host, and what each one says.

Two "sites" are served by one local server and told apart by the Host header:
``127.0.0.1:PORT`` (Block Ledger Daily, the original publisher) and ``localhost:PORT``
(Chain Wire Partners, which republishes one story with tracking links and its own footer).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from . import content as C
from .content import DemoArticle, DemoComment

CHALLENGE_PATH = "/2026/11/verify-you-are-human/"
MISSING_PATH = "/2026/11/story-that-was-removed/"
PRIVATE_PATH = "/private/insider-memo/"
PARTNER_PATH = "/partner/{slug}/"
# Comments per page of /wp-json/wp/v2/comments: WordPress core honours ?per_page= up to 100 (its maximum; the crawler's
# WordPress adapter asks for 100). The long thread's site caps it lower (a host's REST filter), so the demo keeps
# exercising REST paging (X-WP-TotalPages > 1) at every size.
REST_PER_PAGE = 100
LONG_THREAD_PER_PAGE = 10


@dataclass
class DemoSite:
    n_articles: int = 12
    comments_per_article: int = 6
    seed: int = 20261125
    articles: list[DemoArticle] = field(default_factory=list)
    partner_article: DemoArticle | None = None
    _by_path: dict[str, DemoArticle] | None = field(default=None, repr=False)  # lookups, rebuilt on change
    _by_post_id: dict[int, DemoArticle] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        next_id = [1000]
        self.articles = [C.generate_article(i, rng, self.comments_per_article, next_id)
                         for i in range(self.n_articles)]
        if not self.articles:
            return
        self._add_awkward_comments(self.articles[0], next_id)
        if len(self.articles) > 1:
            self._make_long_thread(self.articles[1], rng, next_id)
        if len(self.articles) > 2:
            self.articles[2].rest_enabled = False  # REST refused: comments come from the HTML
        spanish = C.DemoArticle(**{k: getattr(C.SPANISH, k) for k in C.SPANISH.__dataclass_fields__})
        spanish.comments = []
        for parent_idx, author, text in C.SPANISH_COMMENTS:
            cid = next_id[0]
            next_id[0] += 1
            parent = spanish.comments[parent_idx - 1].native_id if parent_idx else 0
            spanish.comments.append(DemoComment(cid, parent, author, f"<p>{text}</p>",
                                                spanish.published + timedelta(hours=1 + cid % 5)))
        self.articles.append(spanish)
        self.partner_article = self.articles[0]

    # -- awkward comment cases on the first story -------------------------------------------------
    def _add_awkward_comments(self, art: DemoArticle, next_id: list[int]) -> None:
        if not art.comments:
            return
        base = art.published + timedelta(hours=5)
        comments = art.own_comments()

        def add(parent: int, author: str, html: str, minutes: int, deleted: bool = False) -> DemoComment:
            c = DemoComment(next_id[0], parent, author, html, base + timedelta(minutes=minutes), deleted)
            next_id[0] += 1
            comments.append(c)
            return c

        first = comments[0]
        parent_text = first.html.removeprefix("<p>").removesuffix("</p>")
        add(first.native_id, "quoter", f"<blockquote><p>{parent_text}</p></blockquote><p>{C.QUOTE_REPLY}</p>", 1)
        add(0, "cafe_fan", f"<p>{C.MOJIBAKE_COMMENT}</p>", 2)
        gone = add(0, "vanished_user", "<p>Buy my course, link in bio.</p>", 3, deleted=True)
        add(gone.native_id, "replier", "<p>Whatever was said above, the moderators were right to act on it.</p>", 4)

    def _make_long_thread(self, art: DemoArticle, rng: random.Random, next_id: list[int]) -> None:
        """A thread long enough that the REST API pages it (X-WP-TotalPages > 1) and nests deeply."""
        ctx = {"coin": "Solana", "place": "Seoul", "event": "fee spike"}
        art.rest_per_page = LONG_THREAD_PER_PAGE
        more = C.generate_comments(art, rng, 2 * LONG_THREAD_PER_PAGE + 3, ctx, next_id)
        comments = art.own_comments()
        chain_parent = comments[-1].native_id
        for k, c in enumerate(more[:5]):  # a reply chain five deep
            c.parent = chain_parent
            chain_parent = c.native_id
        comments.extend(more)

    # -- changes between runs (tests of incremental crawls) ---------------------------------------
    def apply_changes(self, changes: dict) -> None:
        """Mutate the site as a later visit would find it. Keys (all optional):
        ``add_comments`` {post_id: n} new comments (the first replies to the first comment),
        ``edit_articles`` [post_id] append a correction paragraph, ``delete_articles`` [post_id] the page
        404s and leaves the feed and sitemap, ``delete_comments`` [native_id] the comment disappears,
        ``rest_down`` [post_id] the story's comments API fails with 500, ``edit_comments`` {native_id: text}
        the comment now reads ``text`` (its author edited it)."""
        next_id = [max((c.native_id for a in self.articles for c in a.comments), default=1000) + 1]
        for post_id, n in (changes.get("add_comments") or {}).items():
            art = self.by_post_id(int(post_id))
            comments = art.own_comments()
            base = max((c.date for c in comments), default=art.published) + timedelta(hours=1)
            for k in range(int(n)):
                parent = comments[0].native_id if (k == 0 and comments) else 0
                text = C.LATE_COMMENTS[k % len(C.LATE_COMMENTS)]
                comments.append(DemoComment(next_id[0], parent, f"latecomer{k}", f"<p>{text}</p>",
                                                base + timedelta(minutes=10 * k)))
                next_id[0] += 1
        for post_id in changes.get("edit_articles") or []:
            art = self.by_post_id(int(post_id))
            art.paragraphs = art.paragraphs + [C.CORRECTION]
            art.modified = art.published + timedelta(days=1)
        edits = {int(k): v for k, v in (changes.get("edit_comments") or {}).items()}
        for art in self.articles:
            for c in art.comments:
                if c.native_id in edits:
                    c.html = f"<p>{edits[c.native_id]}</p>"
        for post_id in changes.get("rest_down") or []:  # the comments API of these stories answers 500
            self.by_post_id(int(post_id)).rest_status = 500
        gone = {int(p) for p in changes.get("delete_articles") or []}
        self.articles = [a for a in self.articles if a.post_id not in gone]
        self._by_path = self._by_post_id = None
        dead = {int(c) for c in changes.get("delete_comments") or []}
        for art in self.articles if dead else []:
            kept = [c for c in art.comments if c.native_id not in dead]
            if len(kept) != len(art.comments):
                art.comments = kept

    # -- lookups -----------------------------------------------------------------------------------
    def by_path(self, path: str) -> DemoArticle | None:
        if self._by_path is None:  # a dict, not a scan: 20,000 stories are looked up 100,000 times
            self._by_path = {}
            for a in self.articles:
                self._by_path.setdefault(a.path, a)
        return self._by_path.get(path)

    def by_post_id(self, post_id: int) -> DemoArticle | None:
        if self._by_post_id is None:
            self._by_post_id = {}
            for a in self.articles:
                self._by_post_id.setdefault(a.post_id, a)
        return self._by_post_id.get(post_id)

    def partner_path(self) -> str:
        return PARTNER_PATH.format(slug=self.partner_article.slug) if self.partner_article else ""

    def visible_comments(self, art: DemoArticle) -> list[DemoComment]:
        """What the REST API lists: approved comments only (a deleted one is absent, its replies stay)."""
        return [c for c in art.comments if not c.deleted]
