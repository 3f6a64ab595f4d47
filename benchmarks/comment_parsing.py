"""Comment parsing speed: API responses → schema rows, per adapter, on one core.

    python benchmarks/comment_parsing.py [--comments 20000] [--repeat 3]

For each platform a synthetic thread of N comments is generated in the platform's own response shape and
paging (Discourse: topic JSON + ``posts.json`` batches of 20; Reddit: a thread JSON of 500 nested
comments + ``morechildren`` answers of 100; Disqus: ``listPosts`` pages of 100; SMF: topic pages of 20
posts; WordPress REST pages of 100 for comparison). Timed: ``parse_page`` on every response (JSON/HTML
decoding included), ``finalize`` and ``build_thread``. Generation is not timed. Prints one line per
adapter (best of ``--repeat`` runs); the project's target is ≥ 5,000 comments/s each.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.comments.base import ThreadRef, build_thread  # noqa: E402
from crawler.comments.discourse import DiscourseAdapter  # noqa: E402
from crawler.comments.disqus import DisqusAdapter  # noqa: E402
from crawler.comments.reddit import RedditAdapter  # noqa: E402
from crawler.comments.smf import SmfAdapter  # noqa: E402
from crawler.comments.wordpress import WordPressAdapter  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
LINES = ["NEO delegates voted early and the turnout surprised everyone on the forum.",
         "Liquidity was thin all week, so every rumour moved the price more than it should.",
         "Where can I read the actual proposal text? The summaries leave out the threshold.",
         "Running a node is easy; coordinating an upgrade across exchanges is the hard part."]
TARGET = 5000


def text(k: int) -> str:
    return LINES[k % len(LINES)] + f" ({k})"


def parent_of(k: int) -> int | None:
    """A bushy tree: about 40 % top level, the rest reply to a recent comment (chains up to ~10 deep)."""
    if k == 0 or k % 5 in (0, 3):
        return None
    return k - 1 - (k * 7) % min(k, 12)


def html(k: int) -> str:
    body = f"<p>{escape(text(k))}</p>"
    if k % 9 == 4:
        body = f"<blockquote><p>{escape(text(k - 1))}</p></blockquote>" + body
    return body


# -- generators: list of (url, body bytes, headers) ------------------------------------------------------
def gen_discourse(n: int):
    base = "https://forum.example/t/bench/1"
    posts = [{"id": 100_000, "post_number": 1, "username": "op", "created_at": T0.isoformat(), "cooked": "<p>Topic</p>",
              "post_type": 1, "reply_to_post_number": None, "version": 1, "updated_at": T0.isoformat()}]
    for k in range(n):
        p = parent_of(k)
        t = (T0 + timedelta(seconds=30 * k)).isoformat()
        posts.append({"id": 100_001 + k, "post_number": k + 2, "username": f"user{k % 50}", "created_at": t,
                      "updated_at": t, "cooked": html(k), "post_type": 1, "version": 1,
                      "reply_to_post_number": None if p is None else p + 2, "actions_summary": [{"id": 2, "count": k % 3}],
                      "hidden": False, "deleted_at": None, "user_deleted": False})
    topic = {"post_stream": {"posts": posts[:20], "stream": [p["id"] for p in posts]}, "id": 1, "title": "Bench",
             "slug": "bench", "posts_count": n + 1}
    out = [(base + ".json", json.dumps(topic).encode(), {})]
    for k in range(20, len(posts), 20):
        chunk = posts[k:k + 20]
        url = "https://forum.example/t/1/posts.json?" + "&".join(f"post_ids[]={p['id']}" for p in chunk)
        out.append((url, json.dumps({"post_stream": {"posts": chunk}, "id": 1}).encode(), {}))
    return ThreadRef("discourse", "forum.example", "1", base), out


def _t1(k: int, replies=""):
    p = parent_of(k)
    return {"kind": "t1", "data": {"id": f"c{k}", "name": f"t1_c{k}", "parent_id": f"t1_c{p}" if p is not None else "t3_bench",
                                   "link_id": "t3_bench", "author": f"user{k % 50}", "body": text(k),
                                   "body_html": escape(f'<div class="md">{html(k)}</div>'), "score": k % 17,
                                   "created_utc": (T0 + timedelta(seconds=30 * k)).timestamp(), "edited": False,
                                   "replies": replies}}


def gen_reddit(n: int):
    first = min(n, 500)
    nodes: dict[int, dict] = {}
    roots = []
    for k in range(first):
        nodes[k] = _t1(k)
        p = parent_of(k)
        if p is None:
            roots.append(nodes[k])
        else:
            parent = nodes[p]["data"]
            if not parent["replies"]:
                parent["replies"] = {"kind": "Listing", "data": {"children": []}}
            parent["replies"]["data"]["children"].append(nodes[k])
    rest = list(range(first, n))
    roots.append({"kind": "more", "data": {"count": len(rest), "id": f"c{first}", "name": f"t1_c{first}",
                                           "parent_id": "t3_bench", "children": [f"c{k}" for k in rest]}})
    thread = [{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {
        "id": "bench", "name": "t3_bench", "num_comments": n, "is_self": False, "url": "https://news.example/a",
        "domain": "news.example", "permalink": "/r/x/comments/bench/b/"}}]}},
        {"kind": "Listing", "data": {"children": roots}}]
    url = "https://oauth.reddit.com/r/x/comments/bench/b.json"
    out = [(url, json.dumps(thread).encode(), {})]
    for k in range(0, len(rest), 100):
        ids = rest[k:k + 100]
        body = {"json": {"errors": [], "data": {"things": [_t1(i) for i in ids]}}}
        out.append(("https://oauth.reddit.com/api/morechildren.json?api_type=json&link_id=t3_bench&children="
                    + ",".join(f"c{i}" for i in ids), json.dumps(body).encode(), {}))
    return ThreadRef("reddit", "reddit.com", "bench", url), out


def gen_disqus(n: int):
    out = []
    for k in range(0, n, 100):
        posts = []
        for i in range(k, min(n, k + 100)):
            p = parent_of(i)
            posts.append({"id": str(500_000 + i), "parent": None if p is None else 500_000 + p, "message": html(i),
                          "createdAt": (T0 + timedelta(seconds=30 * i)).strftime("%Y-%m-%dT%H:%M:%S"),
                          "author": {"name": f"User {i % 50}", "username": f"user{i % 50}"}, "likes": i % 5,
                          "dislikes": i % 2, "isDeleted": False, "isSpam": False})
        more = k + 100 < n
        body = {"cursor": {"hasNext": more, "next": f"{k + 100}:0:0" if more else None}, "code": 0, "response": posts}
        out.append((f"https://disqus.com/api/3.0/threads/listPosts.json?forum=f&thread=1&cursor={k}:0:0",
                    json.dumps(body).encode(), {}))
    return ThreadRef("disqus", "f.disqus.com", "1", "https://news.example/a"), out


def gen_smf(n: int):
    out = []
    total = n + 1  # plus the opening post
    for start in range(0, total, 20):
        rows = []
        for k in range(start, min(total, start + 20)):
            msg = 10_000 + k
            body = escape(text(k))
            p = parent_of(k - 1) if k else None
            if k and k % 9 == 4 and p is not None:
                q = 10_000 + p + 1
                body = (f'<div class="quoteheader"><a href="https://f.example/index.php?topic=5.msg{q}#msg{q}">Quote from: '
                        f"user on January 01, 2026, 10:00:00 AM</a></div>"
                        f"<div class=\"quote\">{escape(text(p))}</div><br />" + body)
            when = (T0 + timedelta(seconds=30 * k)).strftime("%B %d, %Y, %I:%M:%S %p")
            rows.append(
                f'<tr><td><a name="msg{msg}"></a><table><tr><td class="poster_info"><b><a href="#">user{k % 50}</a></b>'
                f'</td><td class="td_headerandpost"><table><tr><td><div class="subject" id="subject_{msg}"><a href='
                f'"https://f.example/index.php?topic=5.msg{msg}#msg{msg}">Re: Bench</a></div><div class="smalltext">{when}'
                f'</div></td></tr></table><div class="post">{body}</div></td></tr><tr><td class="smalltext" '
                f'id="modified_{msg}"></td><td><div class="signature">sig {k % 7}</div></td></tr></table></td></tr>')
        last = (total - 1) // 20 * 20  # SMF elides the navigation: first pages, neighbours, last page
        shown = sorted({0, 20, 40, last, *range(max(0, start - 40), min(last, start + 40) + 1, 20)} - {start})
        nav = " ".join(f'<a class="navPages" href="https://f.example/index.php?topic=5.{s}">{s // 20 + 1}</a>'
                       for s in shown)
        page = (f"<html><head><meta charset=\"utf-8\"></head><body><div>Pages: {nav}</div><table>{''.join(rows)}"
                f"</table></body></html>")
        out.append((f"https://f.example/index.php?topic=5.{start}", page.encode(), {}))
    return ThreadRef("smf", "f.example", "5", out[0][0], extra={"opening_msg_id": "10000"}), out


def gen_wordpress(n: int):
    out = []
    pages = -(-n // 100)
    for page in range(1, pages + 1):
        items = []
        for i in range((page - 1) * 100, min(n, page * 100)):
            p = parent_of(i)
            items.append({"id": 700_000 + i, "post": 9, "parent": 0 if p is None else 700_000 + p,
                          "author_name": f"user{i % 50}",
                          "date_gmt": (T0 + timedelta(seconds=30 * i)).strftime("%Y-%m-%dT%H:%M:%S"),
                          "content": {"rendered": html(i)}, "status": "approved"})
        out.append((f"https://blog.example/wp-json/wp/v2/comments?post=9&per_page=100&page={page}",
                    json.dumps(items).encode(), {"X-WP-Total": str(n), "X-WP-TotalPages": str(pages)}))
    return ThreadRef("wordpress", "blog.example", "9", "https://blog.example/a/"), out


ADAPTERS = [("discourse", DiscourseAdapter, gen_discourse), ("reddit", RedditAdapter, gen_reddit),
            ("disqus", DisqusAdapter, gen_disqus), ("smf", SmfAdapter, gen_smf),
            ("wordpress", WordPressAdapter, gen_wordpress)]


def run_once(adapter, ref, responses) -> tuple[float, int]:
    t0 = time.perf_counter()
    raw = []
    for url, body, headers in responses:
        page = adapter.parse_page(url, body, headers, ref)
        assert page.error is None, page.error
        raw.extend(page.comments)
    finalize = getattr(adapter, "finalize", None)
    if finalize is not None:
        raw = finalize(raw)
    _thread, rows = build_thread(ref, "a", raw, parser=adapter.parser, source="bench", thread_url=ref.article_url,
                                 complete=True, reported=None)
    return time.perf_counter() - t0, len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comments", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", nargs="*", default=None, help="platforms to run (default: all)")
    args = ap.parse_args()
    for name, cls, gen in ADAPTERS:
        if args.only and name not in args.only:
            continue
        ref, responses = gen(args.comments)
        adapter = cls()
        best, rows = min(run_once(adapter, ref, responses) for _ in range(max(1, args.repeat)))
        assert rows == args.comments, (name, rows)
        rate = rows / best
        print(f"{name:<10} {rows:>7} comments in {len(responses):>5} responses  {best:6.2f} s  "
              f"{rate:>9,.0f} comments/s  {'ok' if rate >= TARGET else 'BELOW TARGET'} (target {TARGET:,}/s)")


if __name__ == "__main__":
    main()
