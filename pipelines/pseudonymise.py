"""Step 3 — pseudonymise comment authors with a salted HMAC (on by default).

The salt comes from the AUTHOR_SALT setting or, when empty, from ``OUTPUT_DIR/.author_salt``
(created once with 32 random bytes), so the same author gets the same pseudonym across runs of
one dataset but cannot be looked up without the salt. AUTHOR_PSEUDONYMISE=False keeps raw names.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from crawler.ids import author_pseudonym
from crawler.items import CommentRecord, ThreadRecord
from crawler.urls import site_of

from .batch import per_record

SALT_FILE = ".author_salt"


def load_or_create_salt(output_dir: str) -> bytes:
    path = Path(output_dir) / SALT_FILE
    if path.exists():
        try:
            return bytes.fromhex(path.read_text().strip())
        except ValueError as exc:
            raise ValueError(f"{path} is not a hex salt") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    salt = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(salt.hex())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return salt


def pseudonymise(rec: CommentRecord | ThreadRecord, salt: bytes | None) -> None:
    """author_name → author_id (comments, and threads' openers: same scoping, platform and host of the URL)."""
    name = rec.author_name
    rec.author_name = None
    if not name:
        rec.author_id, flag = None, salt is not None
    elif salt is None:
        rec.author_id, flag = name, False
    else:
        url = rec.source_url if isinstance(rec, CommentRecord) else rec.url
        rec.author_id, flag = author_pseudonym(salt, rec.platform, site_of(url), name), True
    if isinstance(rec, CommentRecord):
        rec.author_pseudonymised = flag


class PseudonymisePipeline:
    def __init__(self, salt: bytes | None):
        self.salt = salt

    @classmethod
    def from_crawler(cls, crawler):
        step = cls._from_settings(crawler)
        step.crawler = crawler
        return step

    @classmethod
    def _from_settings(cls, crawler):
        s = crawler.settings
        if not s.getbool("AUTHOR_PSEUDONYMISE", True):
            return cls(None)
        salt = s.get("AUTHOR_SALT")
        if salt:
            return cls(salt.encode("utf-8"))
        spider = crawler.spider
        if getattr(spider, "refusal", None):  # the run will not crawl (lock held, output unwritable)
            return cls(b"unused")
        ctx = getattr(crawler, "run_context", None)
        if getattr(ctx, "dataset", None) is not None:  # shared mode: one salt for every worker
            from crawler.shared.setup import shared_salt

            try:
                return cls(shared_salt(ctx))
            except Exception as exc:  # noqa: BLE001 - unreadable dataset or Redis: refuse rather than guess
                spider.refusal = ("export/failed/author_salt", f"cannot read or create the shared author salt "
                                  f"({exc}); restore {s.get('OUTPUT_DIR')}/{SALT_FILE} or set AUTHOR_SALT")
                return cls(b"unused")
        try:
            return cls(load_or_create_salt(s.get("OUTPUT_DIR", "output")))
        except (OSError, ValueError) as exc:
            # without the dataset's salt, pseudonyms would not match earlier runs: refuse rather than guess
            spider.refusal = ("export/failed/author_salt",
                              f"cannot read or create {Path(s.get('OUTPUT_DIR', 'output')) / SALT_FILE} ({exc}); "
                              "restore it or set AUTHOR_SALT")
            return cls(b"unused")

    @per_record
    def process_item(self, item, spider=None):
        if isinstance(item, (CommentRecord, ThreadRecord)):
            pseudonymise(item, self.salt)
        return item
