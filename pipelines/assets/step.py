"""Step 4b — asset tags: the ``assets`` column (sorted tickers) of articles, comments and threads.

Articles are tagged from title, summary and body; comments from their own text (not the text they quote);
in a thread, what one comment names for sure, or what the thread's own title names, lets the ambiguous
spellings of that asset count in the others; a thread gets the tags of its title and the union of its
comments' tags (the thread and its comments travel as one :class:`~crawler.items.RecordBatch`, so this
covers every comment collected in this version, and a comment's tags depend only on its thread's version,
never on what else a run fetched). The article a thread discusses is not used: it is a separate item that a
revisit may not fetch again, so using it would make a comment's tags depend on the run.
Tombstones keep ``assets`` null. The matching rules and their language awareness live in
:mod:`pipelines.assets.matching`; the registry in ``pipelines/assets/registry.json`` (``ASSETS_REGISTRY``
names another file; ``ASSETS_ENABLED = False`` switches the step off and leaves the column null).
Counters: ``assets/tagged/<table>`` and ``assets/untagged/<table>``.
"""
from __future__ import annotations

from scrapy.exceptions import NotConfigured

from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from ..batch import records_of
from .matching import AssetMatcher
from .registry import load_registry


def article_text(rec: ArticleRecord) -> str:
    return "\n\n".join(t for t in (rec.title, rec.summary, rec.body_text) if t)


def tag_records(records: list, matcher: AssetMatcher) -> None:
    """Set ``assets`` on every record in place. The comments of a thread are the document for one another:
    what one names for sure lets the others' ambiguous spellings of it count (a second pass). Threads get the
    union of their comments."""
    per_thread: dict[str, set[str]] = {}
    titles: dict[str, set[str]] = {}
    for rec in records:
        if isinstance(rec, ThreadRecord) and not rec.is_tombstone and rec.title:
            titles[rec.thread_id] = set(matcher.tag(rec.title, None))
    comments = []
    for rec in records:
        if getattr(rec, "is_tombstone", False):
            rec.assets = None
        elif isinstance(rec, ArticleRecord):
            rec.assets = matcher.tag(article_text(rec), rec.language)
        elif isinstance(rec, CommentRecord):
            rec.assets = matcher.tag(rec.body_text, rec.language)
            per_thread.setdefault(rec.thread_id, set()).update(rec.assets)
            comments.append(rec)
    for rec in comments:
        known = per_thread[rec.thread_id] | titles.get(rec.thread_id, set())
        if known - set(rec.assets):
            rec.assets = matcher.tag(rec.body_text, rec.language, known=known)
    for rec in records:
        if isinstance(rec, ThreadRecord) and not rec.is_tombstone:
            rec.assets = sorted(per_thread.get(rec.thread_id, set()) | titles.get(rec.thread_id, set()))


class AssetTagPipeline:
    step = "assets"

    def __init__(self, stats, matcher: AssetMatcher):
        self.stats, self.matcher = stats, matcher

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not s.getbool("ASSETS_ENABLED", True):
            raise NotConfigured("ASSETS_ENABLED is off")
        step = cls(crawler.stats, AssetMatcher(load_registry(s.get("ASSETS_REGISTRY") or None)))
        step.crawler = crawler
        return step

    def process_item(self, item, spider=None):
        records = records_of(item)
        tag_records(records, self.matcher)
        for rec in records:
            if getattr(rec, "assets", None) is not None:
                self.stats.inc_value(f"assets/{'tagged' if rec.assets else 'untagged'}/{rec.table}")
        return item
