"""Per-record CPU work done in the language worker, beside detection (``LANGUAGE_WORKER`` on).

The crawl runs in one Python thread; the language worker is a second process, on the second core. With each
item it detects, the worker also computes, from the same record text, what the steps after the language step
would otherwise compute in the crawl process:

* the ``assets`` tags (:func:`pipelines.assets.step.tag_entries`, with the language just detected);
* the normalised-content hash and the normalised length (:mod:`pipelines.dedup.exact`: one normalisation of
  the text instead of three);
* the MinHash signature (:mod:`pipelines.dedup.near`), for the records that take part in near-duplicate
  matching.

The answers come back as a :class:`Precomputed` kept on the record (an attribute, not a dataclass field, so it
is never a column). Each step takes a value only when the record's texts are the very objects the worker read
and its language is the one the worker found (:meth:`Precomputed.fresh`): otherwise (no worker, the worker
failed, a step in between changed the text) the step computes it itself, as it always did. The same functions
compute the values on both sides, so the output rows are the same either way. Nothing is persisted in the
worker: a killed worker or crawl loses nothing that the crawl process would not have lost.
"""
from __future__ import annotations

from crawler.ids import normalise_for_hash, stable_hash
from crawler.items import ArticleRecord, CommentRecord, ThreadRecord

from .assets.step import UNTOUCHED, tag_entries
from .dedup import minhash as mh

ATTRIBUTE = "precomputed"  # where a record keeps its Precomputed (in its __dict__: no column)


def describe(rec) -> tuple | None:
    """What the worker reads of a record: (kind, title, summary, body, is_tombstone, is_deleted, thread_id);
    None for an item the language step does not handle."""
    tombstone = getattr(rec, "is_tombstone", False)
    if isinstance(rec, ArticleRecord):
        return "a", rec.title, rec.summary, rec.body_text, tombstone, False, None
    if isinstance(rec, CommentRecord):
        return "c", None, None, rec.body_text, tombstone, rec.is_deleted, rec.thread_id
    if isinstance(rec, ThreadRecord):
        return "t", rec.title, None, None, tombstone, False, rec.thread_id
    return None


def _asset_entry(desc: tuple | None, language: str | None) -> tuple | None:
    """The entry :func:`tag_entries` reads (as :func:`pipelines.assets.step.record_entry` builds it)."""
    if desc is None:
        return None
    kind, title, summary, body, tombstone = desc[:5]
    if kind == "a":
        text = None if tombstone else "\n\n".join(t for t in (title, summary, body) if t)
        return "a", tombstone, None, text, language
    if kind == "c":
        return "c", tombstone, desc[6], body, language
    return "t", tombstone, desc[6], title, None


def compute(job: list, languages: list, assets_matcher, comment_near_min_words: int) -> list:
    """In the worker: for each record of one item (``describe`` tuples; ``languages`` per record, None for
    threads): (assets computed?, assets, content hash, normalised length, signed) — the hash and length None
    where not computed (threads, a text that is not a string); signed: (MinHash signature, its bytes, its LSH
    band keys) as the near step and the run's labeler compute them, None where the record takes no part in
    near-duplicate matching; None for an item that is not a record."""
    assets = (tag_entries([_asset_entry(d, lang) for d, lang in zip(job, languages)], assets_matcher)
              if assets_matcher is not None else [UNTOUCHED] * len(job))
    out: list = []
    signed, words_of = [], []
    for i, desc in enumerate(job):
        tagged = assets[i] is not UNTOUCHED
        if desc is None:
            out.append(None)
            continue
        if desc[0] == "t" or type(desc[3]) is not str:
            out.append((tagged, assets[i] if tagged else None, None, None, None))
            continue
        norm = normalise_for_hash(desc[3])
        out.append((tagged, assets[i] if tagged else None, stable_hash(norm), len(norm), None))
        words = mh.normalised_tokens(norm)
        if desc[0] == "a":
            take = not desc[4] and len(words) >= mh.SHINGLE_WORDS
        else:
            take = not desc[5] and len(words) >= comment_near_min_words
        if take:
            signed.append(i)
            words_of.append(words)
    if signed:
        sigs = mh.signatures(words_of)
        for i, sig, bands in zip(signed, sigs, mh.band_keys_matrix(sigs).tolist()):
            out[i] = out[i][:4] + ((sig, mh.to_bytes(sig), bands),)
    return out


class Precomputed:
    """The worker's values for one record, with the texts (objects) and language they were computed from."""

    __slots__ = ("title", "summary", "body", "language", "group", "has_assets", "assets", "content_hash",
                 "norm_len", "sig", "near_min_words")

    def __init__(self, rec, group: int, values: tuple, near_min_words: int) -> None:
        self.title, self.summary = getattr(rec, "title", None), getattr(rec, "summary", None)
        self.body, self.language = getattr(rec, "body_text", None), getattr(rec, "language", None)
        self.group, self.near_min_words = group, near_min_words
        self.has_assets, self.assets, self.content_hash, self.norm_len, self.sig = values  # sig: (array, bytes, bands)

    def fresh(self, rec) -> bool:
        """Whether ``rec`` still has the very texts and the language these values were computed from."""
        return (getattr(rec, "body_text", None) is self.body and getattr(rec, "title", None) is self.title
                and getattr(rec, "summary", None) is self.summary and getattr(rec, "language", None) == self.language)


def attach(records: list, values: list | None, near_min_words: int) -> None:
    """Keep the worker's values on each record (after the language step has tagged it)."""
    if values is None:
        return
    for rec, v in zip(records, values):
        if v is not None:
            rec.__dict__[ATTRIBUTE] = Precomputed(rec, len(records), v, near_min_words)


def of(rec):
    """The record's fresh :class:`Precomputed`, or None."""
    pre = rec.__dict__.get(ATTRIBUTE) if hasattr(rec, "__dict__") else None
    return pre if pre is not None and pre.fresh(rec) else None
