"""A Hacker News-style API: the Algolia search API and the Firebase item API, in their real JSON shapes.

Mounted on the demo server under ``/hn-algolia/api/v1`` (stands for ``https://hn.algolia.com/api/v1``) and
``/hn-firebase/v0`` (stands for ``https://hacker-news.firebaseio.com/v0``):

- ``search_by_date?query=..&tags=story&hitsPerPage=&page=`` — stories whose title contains every query word
  (newest first), ``{"hits": [...], "page", "nbPages", "nbHits", "hitsPerPage"}``;
- ``search?query=<url>&restrictSearchableAttributes=url&tags=story`` — stories whose ``url`` matches the query
  (Algolia matches words of the attribute; here: the story URL contains the query, ignoring scheme);
- ``items/{id}`` — the item with its whole tree in ``children`` (deleted comments: ``author`` and ``text``
  null; dead comments are not listed, as Algolia does not index them). A story marked ``algolia_fails``
  answers 500 here, so clients fall back to Firebase;
- Firebase ``item/{id}.json`` — ``{"id", "by", "time", "type", "text", "kids", "parent", "score", "title",
  "url", "descendants"}``, with ``"deleted": true`` / ``"dead": true`` on such comments; ``null`` for an
  unknown id.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape

from .discussion_data import Discussion, DComment

JSON = "application/json; charset=utf-8"
ALGOLIA_PREFIX = "/hn-algolia/api/v1"
FIREBASE_PREFIX = "/hn-firebase/v0"


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class HnApi:
    discussions: list[Discussion] = field(default_factory=list)
    log: list = field(default_factory=list)  # (time, path)

    def __post_init__(self):
        self._lock = threading.Lock()

    def stories(self) -> list[Discussion]:
        return [d for d in self.discussions if d.platform == "hackernews"]

    def handle(self, req) -> tuple | None:
        if req.path.startswith(ALGOLIA_PREFIX + "/"):
            self._hit(req)
            return self._algolia(req.path[len(ALGOLIA_PREFIX):], {k: v[0] for k, v in req.query.items()})
        if req.path.startswith(FIREBASE_PREFIX + "/"):
            self._hit(req)
            return self._firebase(req.path[len(FIREBASE_PREFIX):])
        return None

    def _hit(self, req) -> None:
        with self._lock:
            self.log.append((time.time(), req.path))

    # -- Algolia ----------------------------------------------------------------------------------------
    def _algolia(self, path: str, q: dict):
        if path in ("/search_by_date", "/search"):
            return 200, json.dumps(self._search(path, q)), JSON, {}
        if path.startswith("/items/"):
            item = self._find(path[len("/items/"):])
            if item is None:
                return 404, json.dumps({"status": 404, "error": "Not Found"}), JSON, {}
            story, c = item
            if story.algolia_fails:
                return 500, json.dumps({"status": 500, "error": "Internal Server Error"}), JSON, {}
            return 200, json.dumps(self._algolia_item(story, c)), JSON, {}
        return 404, json.dumps({"status": 404, "error": "Not Found"}), JSON, {}

    def _search(self, path: str, q: dict) -> dict:
        stories = self.stories()
        query = (q.get("query") or "").strip()
        if q.get("restrictSearchableAttributes") == "url":
            want = query.split("://", 1)[-1].rstrip("/")
            hits = [s for s in stories if s.url and want and want in s.url.split("://", 1)[-1]]
        else:
            words = query.lower().split()
            hits = [s for s in stories if all(w in s.title.lower() for w in words)]
        if path == "/search_by_date":
            hits.sort(key=lambda s: -s.created)
        try:
            per_page = max(1, min(1000, int(q.get("hitsPerPage", "20"))))
            page = max(0, int(q.get("page", "0")))
        except ValueError:
            per_page, page = 20, 0
        pages = (len(hits) + per_page - 1) // per_page
        chunk = hits[page * per_page:(page + 1) * per_page]
        return {"hits": [self._hit_json(s) for s in chunk], "nbHits": len(hits), "page": page, "nbPages": pages,
                "hitsPerPage": per_page, "query": query, "params": ""}

    def _hit_json(self, s: Discussion) -> dict:
        return {"objectID": s.id, "story_id": int(s.id), "title": s.title, "url": s.url, "author": s.author,
                "points": s.score, "story_text": s.selftext or None,
                "num_comments": sum(1 for c in s.comments if not c.dead),
                "created_at": _iso(s.created), "created_at_i": s.created,
                "_tags": ["story", f"author_{s.author}", f"story_{s.id}"]}

    def _find(self, item_id: str):
        for s in self.stories():
            if s.id == item_id:
                return s, None
            for c in s.comments:
                if c.id == item_id:
                    return s, c
        return None

    def _algolia_item(self, s: Discussion, c: DComment | None) -> dict:
        def comment(x: DComment) -> dict:
            return {"id": int(x.id), "created_at": _iso(x.created), "created_at_i": x.created, "type": "comment",
                    "author": None if x.deleted else x.author, "title": None, "url": None,
                    "text": None if x.deleted else f"<p>{escape(x.body)}</p>", "points": None,
                    "parent_id": int(x.parent or s.id), "story_id": int(s.id), "options": [],
                    "children": [comment(k) for k in s.kids(x.id) if not k.dead]}

        if c is not None:
            return comment(c)
        return {"id": int(s.id), "created_at": _iso(s.created), "created_at_i": s.created, "type": "story",
                "author": s.author, "title": s.title, "url": s.url,
                "text": f"<p>{escape(s.selftext)}</p>" if s.selftext else None, "points": s.score,
                "parent_id": None, "story_id": int(s.id), "options": [],
                "children": [comment(k) for k in s.kids(None) if not k.dead]}

    # -- Firebase ---------------------------------------------------------------------------------------
    def _firebase(self, path: str):
        if not (path.startswith("/item/") and path.endswith(".json")):
            return 404, json.dumps({"error": "Not Found"}), JSON, {}
        item = self._find(path[len("/item/"):-len(".json")])
        if item is None:
            return 200, "null", JSON, {}
        s, c = item
        if c is None:
            data = {"by": s.author, "descendants": sum(1 for c in s.comments if not c.dead), "id": int(s.id),
                    "kids": [int(k.id) for k in s.kids(None)], "score": s.score, "time": s.created,
                    "title": s.title, "type": "story"}
            if s.url:
                data["url"] = s.url
            if s.selftext:
                data["text"] = escape(s.selftext)
        else:
            data = {"id": int(c.id), "parent": int(c.parent or s.id), "time": c.created, "type": "comment",
                    "kids": [int(k.id) for k in s.kids(c.id)]}
            if c.deleted:
                data["deleted"] = True
            else:
                data["by"] = c.author
                data["text"] = escape(c.body)
            if c.dead:
                data["dead"] = True
            if not data["kids"]:
                del data["kids"]
        return 200, json.dumps(data), JSON, {}
