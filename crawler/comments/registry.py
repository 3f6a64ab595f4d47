"""Which comment adapters exist, by platform name. The spider asks every adapter to detect a thread."""
from __future__ import annotations

from .base import CommentAdapter, ThreadRef
from .wordpress import WordPressAdapter

ADAPTERS: dict[str, CommentAdapter] = {
    "wordpress": WordPressAdapter(),
}


def adapter_for(platform: str) -> CommentAdapter:
    return ADAPTERS[platform]


def detect_threads(url: str, body: bytes, headers: dict) -> list[ThreadRef]:
    refs = []
    for adapter in ADAPTERS.values():
        ref = adapter.detect(url, body, headers)
        if ref is not None:
            refs.append(ref)
    return refs
