"""Stable identifiers: the same input gives the same id on every machine and run."""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata


def stable_hash(*parts: str, length: int = 32) -> str:
    """SHA-256 hex (first `length` chars) of the parts joined by a unit separator."""
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:length]


def article_id(canonical_url: str) -> str:
    return stable_hash(canonical_url)


def thread_id(platform: str, host: str, native_thread_id: str) -> str:
    return stable_hash("thread", platform, host, native_thread_id)


def comment_id(platform: str, host: str, native_id: str) -> str:
    return stable_hash("comment", platform, host, native_id)


_WS = re.compile(r"\s+")


@functools.lru_cache(maxsize=256)  # a record's text is normalised by three steps (hash, eligibility, tokens)
def normalise_for_hash(text: str) -> str:
    """Case-folded, NFKC, whitespace-collapsed text: what content hashes are computed on."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(text: str) -> str:
    return stable_hash(normalise_for_hash(text))


def author_pseudonym(salt: bytes, platform: str, host: str, name: str) -> str:
    """Salted HMAC-SHA256 of the author name, scoped to a platform and host."""
    msg = "\x1f".join((platform, host, name.strip())).encode("utf-8")
    return hmac.new(salt, msg, hashlib.sha256).hexdigest()[:32]
