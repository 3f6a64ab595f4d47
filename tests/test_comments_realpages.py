"""Discourse, Reddit, Disqus and SMF responses from real sites (../shared/realpages, skipped when absent).

Every expected fact is computed here from the file's own structure (walking the JSON or the markup
independently of the adapters), never typed in. Each check: the rows ``build_thread`` makes hold the
platform's own tree — same comments (what the file leaves unloaded shows up as follow-up URLs instead),
every parent link, every depth, deleted comments as flagged rows. Files that are listings rather than
threads are recognised as such.

The module also holds the helpers the per-platform tests share (fixture-case runner, tree checks).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from crawler.comments.base import RawComment, ThreadRef, build_thread
from crawler.comments.detect import json_shape, platform_of_json
from crawler.comments.discourse import DiscourseAdapter, topic_rss_posts
from crawler.comments.disqus import DisqusAdapter
from crawler.comments.reddit import RedditAdapter
from crawler.comments.smf import SmfAdapter

FIXTURES = Path(__file__).resolve().parent / "fixtures"


# == shared helpers ======================================================================================
def build(adapter, ref: ThreadRef, raw: list[RawComment], reported=None, not_comments: int = 0):
    raw = adapter.finalize(list(raw)) if hasattr(adapter, "finalize") else raw
    return build_thread(ref, "article-1", raw, parser=adapter.parser, source="test", thread_url=ref.article_url,
                        complete=True, reported=reported, not_comments=not_comments,
                        reported_exact=getattr(adapter, "reported_count_is_exact", True))


def tree_of(rows) -> dict[str, tuple[str | None, int]]:
    """native id → (parent native id, depth) as the rows state it."""
    by_cid = {r.comment_id: r for r in rows}
    return {r.native_id: (by_cid[r.parent_id].native_id if r.parent_id else None, r.depth) for r in rows}


def assert_preorder(rows) -> None:
    """Positions 0..n-1, every parent before its children, depth = parent depth + 1, subtrees contiguous."""
    assert [r.position for r in rows] == list(range(len(rows)))
    pos = {r.comment_id: r.position for r in rows}
    depth = {r.comment_id: r.depth for r in rows}
    stack: list[str] = []
    for r in rows:
        if r.parent_id is None:
            assert r.depth == 0
            stack = [r.comment_id]
            continue
        assert pos[r.parent_id] < r.position and r.depth == depth[r.parent_id] + 1
        while stack and stack[-1] != r.parent_id:
            stack.pop()
        assert stack, f"{r.native_id}: not inside its parent's subtree"
        stack.append(r.comment_id)


def depths_from_parents(parents: dict[str, str | None]) -> dict[str, int]:
    out: dict[str, int] = {}
    for cid in parents:
        d, p, seen = 0, parents[cid], set()
        while p is not None and p not in seen:
            seen.add(p)
            d += 1
            p = parents.get(p)
        out[cid] = d
    return out


def fixture_cases(platform: str) -> list[Path]:
    root = FIXTURES / platform
    return sorted(p for p in root.iterdir() if (p / "expected.json").is_file()) if root.is_dir() else []


def run_fixture_case(case: Path, make_adapter) -> None:
    """Feed a case directory's pages to its adapter and compare with expected.json (see the case's
    ``description``): follow-ups per page, reported count, and every row's native id, parent, depth,
    position, deleted flag, quote presence and edit flag."""
    meta = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    exp = meta["expect"]
    adapter = make_adapter(meta.get("adapter") or {})
    ref = ThreadRef(**meta["ref"]) if meta.get("ref") else None
    raw: list[RawComment] = []
    reported = None
    not_comments = 0
    for page in meta["pages"]:
        body = (case / page["file"]).read_bytes()
        headers = page.get("headers") or {}
        if page.get("detect"):
            ref = adapter.detect(page["url"], body, headers)
            assert ref is not None, f"{case.name}: not detected"
        if page is meta["pages"][0] and "first_requests" in exp:
            assert adapter.first_requests(ref) == exp["first_requests"], case.name
        got = adapter.parse_page(page["url"], body, headers, ref)
        assert got.error is None, (case.name, got.error)
        if page["file"] in exp.get("next_urls", {}):
            assert got.next_urls == exp["next_urls"][page["file"]], (case.name, page["file"])
        if reported is None:
            reported = got.reported_count
        raw += got.comments
        not_comments += got.not_comments
    if reported is None:
        reported = ref.reported_count
    assert reported == exp["reported"], case.name
    thread, rows = build(adapter, ref, raw, reported, not_comments)
    rows_by_cid = {r.comment_id: r for r in rows}
    actual = [{"native_id": r.native_id,
               "parent_native_id": rows_by_cid[r.parent_id].native_id if r.parent_id else None,
               "depth": r.depth, "position": r.position, "is_deleted": r.is_deleted,
               "has_quote": bool(r.quoted_text), "edited": r.edited_at is not None} for r in rows]
    if exp["rows"] and "is_placeholder" in exp["rows"][0]:
        for a, r in zip(actual, rows):
            a["is_placeholder"] = r.is_placeholder
    assert actual == exp["rows"], case.name
    assert_preorder(rows)
    if exp.get("empty_body_for_deleted"):
        assert all(r.body_text == "" and r.author_name is None for r in rows if r.is_deleted), case.name
    # rows with no text of their own (a hidden post, a quote-only reply) are named in "empty_body"
    assert all(r.body_text for r in rows if not r.is_deleted and r.native_id not in exp.get("empty_body", [])), case.name
    for needle in exp.get("quoted_text_excludes", []):
        assert all(needle not in (r.quoted_text or "") for r in rows), (case.name, needle)
    for needle in exp.get("body_excludes", []):
        assert all(needle not in r.body_text for r in rows), (case.name, needle)
    if "is_edited" in exp:  # edited per the platform, with or without a time
        assert sorted(r.native_id for r in rows if r.is_edited) == sorted(exp["is_edited"]), case.name
    for nid, want in (exp.get("body_starts") or {}).items():
        assert next(r.body_text for r in rows if r.native_id == nid).startswith(want), (case.name, nid)
    for nid, want in (exp.get("quoted_starts") or {}).items():
        assert (next(r.quoted_text for r in rows if r.native_id == nid) or "").startswith(want), (case.name, nid)
    for nid, score in (exp.get("scores") or {}).items():
        assert next(r.score for r in rows if r.native_id == nid) == score, (case.name, nid)
    if "complete" in exp:
        assert thread.is_complete is exp["complete"], case.name
    for key in ("native_thread_id", "host"):
        if key in exp:
            assert getattr(ref, key) == exp[key], (case.name, key)
    if "article_url" in exp:
        assert (ref.article_url if exp["article_url"] else None) == exp["article_url"] or \
            exp["article_url"] is None, case.name
    if exp.get("source_url_has_no_key"):
        assert all("api_key" not in r.source_url for r in rows), case.name
    if "opening_native_id" in exp:
        assert exp["opening_native_id"] not in {r.native_id for r in rows}, case.name


def fetch(url: str) -> tuple[int, bytes, dict]:
    """GET for the demo-site tests (urllib: no Scrapy needed to exercise the adapters)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def crawl_thread(adapter, ref: ThreadRef, entry_url: str, entry_headers: dict | None = None, max_requests: int = 50):
    """What the spider does for one thread: fetch ``first_requests`` (falling back to the detected page
    when they fail or there are none), follow ``next_urls`` once each, then finalize + build_thread.
    Returns (thread, rows, fetched urls, failed urls)."""
    raw: list[RawComment] = []
    reported = ref.reported_count
    queue = list(adapter.first_requests(ref))
    seen: list[str] = []
    failed: list[str] = []
    ok = False

    def consume(url, body, headers):
        nonlocal reported
        page = adapter.parse_page(url, body, headers, ref)
        assert page.error is None, (url, page.error)
        raw.extend(page.comments)
        if reported is None:
            reported = page.reported_count
        return page.next_urls

    while queue and len(seen) < max_requests:
        url = queue.pop(0)
        assert url not in seen, f"follow-up asked twice: {url}"
        seen.append(url)
        status, body, headers = fetch(url)
        if status != 200:
            failed.append(url)
            continue
        ok = True
        queue += consume(url, body, headers)
    if not ok and ref.inline_body is not None:
        queue = consume(entry_url, ref.inline_body, entry_headers or {})
        while queue and len(seen) < max_requests:
            url = queue.pop(0)
            assert url not in seen, f"follow-up asked twice: {url}"
            seen.append(url)
            status, body, headers = fetch(url)
            assert status == 200, url
            queue += consume(url, body, headers)
    thread, rows = build(adapter, ref, raw, reported)
    return thread, rows, seen, failed


# == Discourse ===========================================================================================
def discourse_files(realpages, pattern: str) -> list[Path]:
    files = sorted((realpages / "comments").glob(pattern))
    if not files:
        pytest.skip(f"no {pattern} files present")
    return files


def discourse_truth(posts: list[dict]) -> dict[str, str | None]:
    """Comment id → parent id from the file's own posts: post 1 and small actions are not comments; a reply
    to post 1 is top level; a reply to a post the file does not hold names it by number."""
    by_number = {p["post_number"]: str(p["id"]) for p in posts}
    out = {}
    for p in posts:
        if p["post_number"] == 1 or p.get("post_type") == 3:
            continue
        r = p.get("reply_to_post_number")
        out[str(p["id"])] = None if r in (None, 1) else by_number.get(r, f"post_number:{r}")
    return out


def test_discourse_json_threads_match_the_files_tree(realpages):
    adapter = DiscourseAdapter()
    checked = 0
    for path in discourse_files(realpages, "discourse__*.json"):
        body = path.read_bytes()
        data = json.loads(body)
        tid = data.get("id", 1) if isinstance(data, dict) else 1
        url = f"https://forum.example/t/{tid}/posts.json"
        if not (isinstance(data, dict) and isinstance((data.get("post_stream") or {}).get("posts"), list)):
            # listings, categories, single posts, user actions: recognised as Discourse, not a thread
            assert platform_of_json(body) == "discourse", path.name
            assert json_shape(body)[1] not in ("topic", "posts"), path.name
            assert adapter.detect(url, body, {}) is None, path.name
            assert adapter.parse_page(url, body, {}, ThreadRef("discourse", "forum.example", "1", url)).error
            continue
        posts = data["post_stream"]["posts"]
        ref = adapter.detect(url, body, {})
        assert ref is not None and ref.native_thread_id == str(data["id"]), path.name
        page = adapter.parse_page(url, body, {}, ref)
        truth = discourse_truth(posts)
        thread, rows = build(adapter, ref, page.comments, page.reported_count)
        real = {r.native_id: r for r in rows if not r.native_id.startswith("post_number:")}
        assert set(real) == set(truth), path.name
        tree = tree_of(rows)
        depth = depths_from_parents(truth)
        for nid, parent in truth.items():
            assert tree[nid] == (parent, depth[nid]), (path.name, nid)
        deleted = {str(p["id"]) for p in posts if p.get("deleted_at") or p.get("hidden") or p.get("user_deleted")}
        assert {n for n, r in real.items() if r.is_deleted} == deleted & set(truth), path.name
        # what the file leaves unloaded must be asked for, in batches of at most 20
        loaded = {str(p["id"]) for p in posts}
        unloaded = [str(i) for i in data["post_stream"].get("stream") or [] if str(i) not in loaded]
        asked = [i for u in page.next_urls for i in parse_qs(urlsplit(u).query).get("post_ids[]", [])]
        assert asked == unloaded, path.name
        assert all(len(parse_qs(urlsplit(u).query)["post_ids[]"]) <= 20 for u in page.next_urls)
        if "posts_count" in data:
            assert page.reported_count == data["posts_count"] - 1
        assert_preorder(rows)
        checked += 1
    assert checked, "no Discourse thread JSON among the files"


def test_discourse_posts_pages_of_one_topic_combine_into_one_tree(realpages):
    """The /t/{id}/posts.json pages of one topic overlap; together (after finalize) every reply number
    resolves to the post id the files hold."""
    by_topic: dict[str, list[Path]] = {}
    for path in discourse_files(realpages, "discourse__*-t-*-posts*.json"):
        by_topic.setdefault(re.search(r"-t-(\d+)-posts", path.name).group(1), []).append(path)
    adapter = DiscourseAdapter()
    for tid, paths in by_topic.items():
        raw, posts = [], {}
        ref = ThreadRef("discourse", "forum.example", tid, f"https://forum.example/t/{tid}")
        for path in paths:
            data = json.loads(path.read_bytes())
            for p in data["post_stream"]["posts"]:
                posts[p["id"]] = p
            raw += adapter.parse_page(f"https://forum.example/t/{tid}/posts.json", path.read_bytes(), {}, ref).comments
        truth = discourse_truth(list(posts.values()))
        thread, rows = build(adapter, ref, raw)
        tree = tree_of(rows)
        depth = depths_from_parents(truth)
        assert {n for n in tree if not n.startswith("post_number:")} == set(truth)
        for nid, parent in truth.items():
            assert tree[nid] == (parent, depth[nid]), nid
        assert_preorder(rows)


def test_discourse_crawler_pages_give_one_row_per_post(realpages):
    adapter = DiscourseAdapter()
    for path in discourse_files(realpages, "discourse__*.html"):
        text = path.read_text(encoding="utf-8")
        root = lxml.html.fromstring(text)
        posts = [d for d in root.iter("div") if "DiscussionForumPosting" in (d.get("itemtype") or "")]
        numbers = [int(re.sub(r"\D", "", "".join(d.xpath(".//*[@itemprop='position']//text()")))) for d in posts]
        data_path = root.xpath("//noscript/@data-path")
        url = "https://forum.example" + (data_path[0] if data_path else "/t/x/1")
        ref = adapter.detect(url, text.encode("utf-8"), {})
        assert ref is not None, path.name
        assert adapter.first_requests(ref) == [f"{url}.json"]
        page = adapter.parse_page(url, text.encode("utf-8"), {}, ref)
        assert [c.order for c in page.comments] == [n for n in numbers if n != 1], path.name
        assert all(c.parent_native_id is None and c.published_at for c in page.comments)
        nexts = root.xpath("//a[@rel='next']/@href")
        assert page.next_urls == (["https://forum.example" + nexts[0]] if nexts else [])
        likes = [int((d.xpath(".//*[contains(@content, 'LikeAction')]/following-sibling::meta"
                              "[@itemprop='userInteractionCount']/@content") or ["0"])[0]) for d in posts]
        assert [c.score for c in page.comments] == [n for n, k in zip(likes, numbers) if k != 1]


def test_discourse_topic_rss_lists_every_item(realpages):
    for path in discourse_files(realpages, "discourse__*.rss"):
        text = path.read_text(encoding="utf-8")
        links = re.findall(r"<item>.*?<link>([^<]+)</link>", text, re.S)
        got = topic_rss_posts(text.encode("utf-8"))
        assert [g["url"] for g in got] == links
        assert [g["post_number"] for g in got] == [int(u.rsplit("/", 1)[1]) for u in links]
        ref = DiscourseAdapter().detect("https://forum.example/feed.rss", text.encode("utf-8"), {})
        assert ref is not None and ref.native_thread_id == links[0].rsplit("/", 2)[1]


# == Reddit ==============================================================================================
def reddit_walk(node, parent_depth: int, out: dict, stubs: list, parent: str | None = None) -> None:
    """Walk a Listing/thing tree myself: t1 → (parent id, depth by nesting); more stubs collected."""
    if isinstance(node, dict) and node.get("kind") == "Listing":
        for child in node["data"]["children"]:
            reddit_walk(child, parent_depth, out, stubs, parent)
    elif isinstance(node, dict) and node.get("kind") == "t1":
        d = node["data"]
        pid = d["parent_id"]
        out[d["id"]] = {"parent": pid[3:] if pid.startswith("t1_") else None, "nest_depth": parent_depth + 1,
                        "deleted": d.get("body") in ("[deleted]", "[removed]")}
        if isinstance(d.get("replies"), dict):
            reddit_walk(d["replies"], parent_depth + 1, out, stubs, d["id"])
    elif isinstance(node, dict) and node.get("kind") == "more":
        stubs.append(node["data"])


def reddit_bodies(realpages):
    """(name, body bytes) of every Reddit response among the files, cassette interactions included."""
    files = sorted((realpages / "comments").glob("reddit__*.json"))
    if not files:
        pytest.skip("no Reddit files present")
    for path in files:
        data = json.loads(path.read_bytes())
        if isinstance(data, dict) and "interactions" in data:  # a recorded client session
            for k, inter in enumerate(data["interactions"]):
                body = ((inter.get("response") or {}).get("body") or {}).get("string") or ""
                uri = (inter.get("request") or {}).get("uri") or ""
                if "/access_token" not in uri and body.lstrip().startswith(("{", "[")):
                    yield f"{path.name}#{k}", body.encode("utf-8")
            continue
        yield path.name, path.read_bytes()


def check_reddit_rows(name, truth: dict, stubs: list, rows, next_urls, link: str, nested: bool) -> None:
    tree = tree_of(rows)
    real = {n for n in tree if n in truth}
    assert real == set(truth), name
    placeholders = set(tree) - real
    assert placeholders == {t["parent"] for t in truth.values() if t["parent"] and t["parent"] not in truth}, name
    parents = {n: t["parent"] for n, t in truth.items()}
    depth = depths_from_parents(parents)
    for nid, t in truth.items():
        assert tree[nid] == (t["parent"], depth[nid]), (name, nid)
        if nested and all(p in truth for p in _chain(parents, nid)):  # nesting in the JSON says the same
            assert depth[nid] == t["nest_depth"], (name, nid)
    deleted = {n for n, t in truth.items() if t["deleted"]}
    assert {r.native_id for r in rows if r.is_deleted and r.native_id in truth} == deleted, name
    # every stub's ids are asked for (batches of ≤ 100), continue stubs become parent permalinks
    wanted = [c for s in stubs if s.get("children") and s.get("id") != "_" for c in s["children"]]
    asked = [i for u in next_urls if "/api/morechildren" in u
             for i in parse_qs(urlsplit(u).query)["children"][0].split(",")]
    assert sorted(asked) == sorted(set(wanted)) and len(asked) == len(set(wanted)), name
    assert all(len(parse_qs(urlsplit(u).query)["children"][0].split(",")) <= 100
               for u in next_urls if "/api/morechildren" in u)
    conts = [s["parent_id"][3:] for s in stubs if not s.get("children") or s.get("id") == "_"]
    assert sorted(u for u in next_urls if "/api/morechildren" not in u) == sorted(
        f"https://oauth.reddit.com/comments/{link}/_/{p}.json" for p in conts), name
    assert_preorder(rows)


def _chain(parents: dict, nid: str) -> list[str]:
    out, p = [], parents.get(nid)
    while p is not None:
        out.append(p)
        p = parents.get(p)
        if len(out) > 10_000:
            break
    return out


def test_reddit_files_match_the_tree_they_hold(realpages):
    adapter = RedditAdapter()
    url = "https://oauth.reddit.com/comments/x.json"
    kinds = set()
    for name, body in reddit_bodies(realpages):
        data = json.loads(body)
        truth, stubs = {}, []
        if isinstance(data, list) and len(data) == 2 and data[0]["data"]["children"][0]["kind"] == "t3":
            kind = "thread"
            kinds.add(kind)
            sub = data[0]["data"]["children"][0]["data"]
            reddit_walk(data[1], -1, truth, stubs)
            ref = adapter.detect(url, body, {})
            assert ref is not None and ref.native_thread_id == sub["id"], name
            assert ref.reported_count == sub["num_comments"]
            page = adapter.parse_page(url, body, {}, ref)
            link = sub["id"]
        elif isinstance(data, dict) and "json" in data:
            kind = "morechildren"
            kinds.add(kind)
            for thing in data["json"]["data"]["things"]:
                reddit_walk(thing, -1, truth, stubs)
            link = next(t["data"]["link_id"][3:] for t in data["json"]["data"]["things"] if t["kind"] == "t1")
            ref = ThreadRef("reddit", "reddit.com", link, url)
            assert adapter.detect(url, body, {}) is None, name  # a batch, not the start of a thread
            page = adapter.parse_page(url, body, {}, ref)
        else:
            kinds.add("listing")
            assert platform_of_json(body) == "reddit" and json_shape(body)[1] in ("listing", "submissions"), name
            assert adapter.detect(url, body, {}) is None, name
            assert adapter.parse_page(url, body, {}, ThreadRef("reddit", "reddit.com", "x", url)).error, name
            continue
        assert platform_of_json(body) == "reddit", name
        thread, rows = build(adapter, ref, page.comments, page.reported_count)
        check_reddit_rows(name, truth, stubs, rows, page.next_urls, link, nested=kind == "thread")
    assert "thread" in kinds


# == SMF =================================================================================================
def test_bitcointalk_topic_rows_match_its_posts(realpages):
    path = realpages / "crypto" / "bitcointalk__topic-14-break-on-supply-increase.html"
    if not path.exists():
        pytest.skip("bitcointalk topic page absent")
    body = path.read_bytes()
    root = lxml.html.fromstring(body)
    topic = re.search(r"smf_topic\s*=\s*(\d+)", body.decode("latin-1")).group(1)
    real = []  # posts of this topic: a subject_N id whose permalink stays in the topic
    for el in root.xpath("//*[starts-with(@id, 'subject_')]"):
        href = (el.xpath(".//a/@href") or [""])[0]
        if re.search(rf"topic={topic}\.msg", href):
            real.append(el.get("id").split("_", 1)[1])
    decoys = [el for el in root.xpath("//*[contains(@class, 'subject')]") if not el.get("id")]
    url = f"https://bitcointalk.org/index.php?topic={topic}.0"
    adapter = SmfAdapter()
    ref = adapter.detect(url, body, {"Content-Type": "text/html; charset=ISO-8859-1"})
    assert ref is not None and ref.native_thread_id == topic
    page = adapter.parse_page(url, body, {}, ref)
    assert [c.native_id for c in page.comments] == real[1:]  # the first post is the topic itself
    assert len(real) + len(decoys) > len(real)  # the page does hold decoys, and they were left out
    thread, rows = build(adapter, ref, page.comments)
    sigs = [" ".join(s.text_content().split()) for s in root.xpath("//div[contains(@class, 'signature')]")]
    for r in rows:
        assert r.body_text and r.published_at is not None and r.parent_id is None and r.depth == 0
        assert all(s[:30] not in r.body_text for s in sigs if s)
    pages = root.xpath("//td[contains(@class, 'middletext')]//a[contains(@href, 'topic=')]")
    assert (page.next_urls == []) == (not pages)


def test_bitcointalk_board_listing_is_not_a_thread(realpages):
    path = realpages / "crypto" / "bitcointalk__board-74-legal.html"
    if not path.exists():
        pytest.skip("bitcointalk board page absent")
    assert SmfAdapter().detect("https://bitcointalk.org/index.php?board=74.0", path.read_bytes(), {}) is None


# == Disqus ==============================================================================================
def test_disqus_files_when_present(realpages):
    files = sorted((realpages / "comments").glob("disqus__*"))
    if not files:
        pytest.skip("no Disqus responses among the real pages (the embed code is checked in test_detect)")
    adapter = DisqusAdapter()
    for path in files:
        body = path.read_bytes()
        text = body.decode("utf-8", errors="replace")
        data = json.loads(text) if text.lstrip()[:1] in "{[" else None
        ref = ThreadRef("disqus", "x.disqus.com", "t", "https://example.org/")
        page = adapter.parse_page("https://disqus.com/api/3.0/threads/listPosts.json", body, {}, ref)
        posts = data["response"] if isinstance(data, dict) and isinstance(data.get("response"), list) else None
        if posts is None:
            continue
        truth = {str(p["id"]): (str(p["parent"]) if p.get("parent") else None) for p in posts}
        thread, rows = build(adapter, ref, page.comments)
        tree = tree_of(rows)
        depth = depths_from_parents(truth)
        for nid, parent in truth.items():
            assert tree[nid] == (parent, depth[nid]), (path.name, nid)
