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


def record_entry(rec) -> tuple | None:
    """What tagging reads of a record: (kind, is_tombstone, thread_id, text, language); None for other items."""
    tombstone = getattr(rec, "is_tombstone", False)
    if isinstance(rec, ArticleRecord):
        return "a", tombstone, None, None if tombstone else article_text(rec), rec.language
    if isinstance(rec, CommentRecord):
        return "c", tombstone, rec.thread_id, rec.body_text, rec.language
    if isinstance(rec, ThreadRecord):
        return "t", tombstone, rec.thread_id, rec.title, None
    return None


UNTOUCHED = object()  # tag_entries' answer for an item that is not a record to tag


def tag_entries(entries: list, matcher: AssetMatcher) -> list:
    """The ``assets`` value of each entry (see :func:`record_entry`; pure, so the language worker can run it):
    the comments of a thread are the document for one another: what one names for sure lets the others'
    ambiguous spellings of it count (a second pass). Threads get the union of their comments and their title."""
    out: list = [UNTOUCHED] * len(entries)
    per_thread: dict[str, set[str]] = {}
    titles: dict[str, set[str]] = {}
    for e in entries:
        if e is not None and e[0] == "t" and not e[1] and e[3]:
            titles[e[2]] = set(matcher.tag(e[3], None))
    comments = []  # (index, the text as the rules read it, its spellings): the second pass reuses them
    for i, e in enumerate(entries):
        if e is None:
            continue
        kind, tombstone, thread_id, text, language = e
        if tombstone:
            out[i] = None
        elif kind == "a":
            out[i] = matcher.tag(text, language)
        elif kind == "c":
            read, hits = matcher.spellings(text) if text else ("", [])
            out[i] = matcher.tag_spellings(read, hits, language)
            per_thread.setdefault(thread_id, set()).update(out[i])
            comments.append((i, read, hits))
    for i, read, hits in comments:
        _, _, thread_id, _, language = entries[i]
        known = per_thread[thread_id] | titles.get(thread_id, set())
        # only an ambiguous spelling of a known asset can change the answer: with none, every rule sees the
        # same spellings and the same settled set as in the first pass
        if known - set(out[i]) and any(f.ambiguous and f.ticker in known for _, _, f in hits):
            out[i] = matcher.tag_spellings(read, hits, language, known=known)
    for i, e in enumerate(entries):
        if e is not None and e[0] == "t" and not e[1]:
            out[i] = sorted(per_thread.get(e[2], set()) | titles.get(e[2], set()))
    return out


def tag_records(records: list, matcher: AssetMatcher) -> None:
    """Set ``assets`` on every record in place (:func:`tag_entries`)."""
    for rec, assets in zip(records, tag_entries([record_entry(r) for r in records], matcher)):
        if assets is not UNTOUCHED:
            rec.assets = assets


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
        if not self._take_precomputed(records):
            tag_records(records, self.matcher)
        for rec in records:
            if getattr(rec, "assets", None) is not None:
                self.stats.inc_value(f"assets/{'tagged' if rec.assets else 'untagged'}/{rec.table}")
        return item

    def _take_precomputed(self, records: list) -> bool:
        """The tags the language worker computed for this very item (pipelines/precompute.py), when every
        record has them, computed from its present texts and language; False: tag here."""
        pres = [getattr(rec, "__dict__", {}).get("precomputed") for rec in records]
        if not all(p is not None and p.has_assets and p.group == len(records) and p.fresh(rec)
                   for p, rec in zip(pres, records)):
            return False
        for rec, p in zip(records, pres):
            rec.assets = p.assets
        self.stats.inc_value(f"pipeline/precomputed/{self.step}", len(records))
        return True
