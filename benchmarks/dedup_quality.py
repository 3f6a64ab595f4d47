"""Deduplication quality and speed, measured with the real pipeline steps.

    python benchmarks/dedup_quality.py [--docs 50000] [--thresholds 0.5,0.55,0.6]

1. Quality: the labelled evaluation set of ``benchmarks/dedup_eval_set.py`` goes through the real
   ExactDedup → SeenBefore → NearDedup steps and the run's labeler; every pair of documents put in the
   same cluster is a predicted duplicate pair. Prints precision and recall of those pairs (targets
   P >= 0.99, R >= 0.95), recall per kind, the errors, and whether a shuffled arrival order gives the
   same labels. Then the same set split across two and three runs over one persistent state (document i in
   run i % parts): precision and recall of the pairs found across runs (what the state keeps must let a later
   run find what one run finds).
2. Speed and state size: ``--docs`` synthetic stories from the demo generator (one in ten an edited copy)
   go through the same steps, are labelled and committed to a fresh SQLite state (by default 10% are
   demo-generator stories, which share sentences from a small bank — the hard case for LSH; the rest are
   random word sequences over the demo vocabulary; ``--template-share 1`` measures the worst case). Prints docs/s for
   each stage, then the state file size per document and its linear extrapolation to one million
   documents (size / docs * 1e6). A second run of ``--docs / 10`` new records against that state
   measures cross-run labelling.
3. Our numpy MinHash against datasketch (signature + LSH insert) on the same texts.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scrapy.exceptions import DropItem  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402

import dedup_eval_set as E  # noqa: E402
from crawler.demo_site import content as C  # noqa: E402
from crawler.ids import article_id  # noqa: E402
from crawler.items import ArticleRecord  # noqa: E402
from crawler.urls import canonical, site_of  # noqa: E402
from pipelines.dedup import minhash as mh  # noqa: E402
from pipelines.dedup.exact import ExactDedupPipeline  # noqa: E402
from pipelines.dedup.near import NearDedupPipeline  # noqa: E402
from pipelines.dedup.seen import SeenBeforePipeline  # noqa: E402

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)


def record(url: str, title: str, body: str, published: datetime, run_id: str = "bench") -> ArticleRecord:
    cu = canonical(url)
    return ArticleRecord(article_id=article_id(cu), url=url, canonical_url=cu, site=site_of(cu), title=title,
                         body_text=body, published_at=published, fetched_at=NOW, valid_from=NOW, run_id=run_id,
                         parser="bench@1", word_count=len(body.split()))


def run_steps(records, settings: dict):
    crawler = get_crawler(settings_dict=settings)
    steps = [cls.from_crawler(crawler) for cls in (ExactDedupPipeline, SeenBeforePipeline, NearDedupPipeline)]
    for rec in records:
        try:
            for s in steps:
                rec = s.process_item(rec)
        except DropItem:
            crawler.dedup_labeler.dropped(rec)
            continue
        crawler.dedup_labeler.scraped(rec)
    return crawler


def quality(thresholds: list[float]) -> None:
    docs = E.build()
    recs = {d.id: record(d.url, d.title, d.body, d.published_at) for d in docs}
    by_aid = {r.article_id: i for i, r in recs.items()}
    truth = E.true_pairs(docs)
    kind = {d.id: d.kind for d in docs}
    print(f"evaluation set: {len(docs)} documents, {len(truth)} true duplicate pairs")
    for th in thresholds:
        crawler = run_steps(list(recs.values()), {"DEDUP_STATE_ENABLED": False, "DEDUP_NEAR_THRESHOLD": th})
        labels = crawler.dedup_labeler.labels("articles")
        clusters: dict[str, list[str]] = {}
        for aid, (_, _, cid) in labels.items():
            clusters.setdefault(cid, []).append(by_aid[aid])
        pred = {tuple(sorted((a, b))) for m in clusters.values() for a in m for b in m if a < b}
        tp = len(pred & truth)
        p, r = tp / max(1, len(pred)), tp / max(1, len(truth))
        shuffled = list(recs.values())
        random.Random(1).shuffle(shuffled)
        same = run_steps(shuffled, {"DEDUP_STATE_ENABLED": False, "DEDUP_NEAR_THRESHOLD": th}).dedup_labeler.labels(
            "articles") == labels
        print(f"threshold {th:.2f}: precision {p:.4f}  recall {r:.4f}  (predicted pairs {len(pred)}, "
              f"true positives {tp}); shuffled order gives identical labels: {same}")
        missed: dict[str, int] = {}
        for a, b in truth - pred:
            k = "/".join(sorted((kind[a], kind[b])))
            missed[k] = missed.get(k, 0) + 1
        if missed:
            print(f"   missed pairs by kind: {missed}")
        wrong = sorted(pred - truth)
        if wrong:
            print(f"   false pairs: {len(wrong)}, e.g. {wrong[:4]}")


def mark_committed(output: str, run_id: str) -> None:
    """What a run's Parquet commit leaves for the state's consistency check (crawler/state/consistency.py): its
    manifest. These runs write no Parquet; without it the next run finds the state "ahead" of the dataset and
    rebuilds it (empty) from the dataset, and no label could point at an earlier run."""
    root = Path(output) / "_manifests"
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{run_id}.json").write_text(json.dumps({"run_id": run_id}))


def cross_run(thresholds: list[float], parts: int = 2) -> None:
    """The evaluation set split across ``parts`` runs over one persistent state (document i in run i % parts):
    what one run finds must also be found when its documents arrive in different runs (the state keeps what
    the matching needs, e.g. the signatures of near duplicates that are not representatives). A record's
    cluster is its label's cluster id (an earlier run's representative when it joins one), else its own id."""
    docs = E.build()
    recs = {d.id: record(d.url, d.title, d.body, d.published_at) for d in docs}
    by_aid = {r.article_id: i for i, r in recs.items()}
    truth = E.true_pairs(docs)
    order = list(recs)
    for th in thresholds:
        with tempfile.TemporaryDirectory() as tmp:
            settings = {"OUTPUT_DIR": tmp, "DEDUP_STATE_PATH": str(Path(tmp) / "dedup.sqlite"),
                        "DEDUP_NEAR_THRESHOLD": th}
            cluster = {}
            for k in range(parts):
                run = [recs[i] for j, i in enumerate(order) if j % parts == k]
                crawler = run_steps(run, settings)
                labels = crawler.dedup_labeler.labels("articles")
                for r in run:
                    lab = labels.get(r.article_id)
                    cluster[by_aid[r.article_id]] = lab[2] if lab else r.article_id
                crawler.dedup_labeler.commit(f"split-{k}")
                mark_committed(tmp, f"split-{k}")
                crawler.dedup_labeler.close()
        members: dict[str, list[str]] = {}
        for i, c in cluster.items():
            members.setdefault(c, []).append(i)
        pred = {tuple(sorted((a, b))) for m in members.values() for a in m for b in m if a < b}
        tp = len(pred & truth)
        print(f"threshold {th:.2f}, split across {parts} runs: precision {tp / max(1, len(pred)):.4f}  recall "
              f"{tp / max(1, len(truth)):.4f}  (predicted pairs {len(pred)}, true positives {tp})")


VOCAB = sorted({w for t in C.MIDDLES + C.OPENERS + C.CLOSERS + C.COMMENT_LINES for w in t.replace("{", " ").replace(
    "}", " ").split() if w.isalpha()} | {w.lower() for w in C.COINS + C.PLACES})


def synthetic(n: int, seed: int = 3, template_share: float = 0.1) -> list[ArticleRecord]:
    """n articles: one in ten an edited copy of an earlier one, ``template_share`` demo-generator stories
    (which share sentences from a small bank: the hard case for LSH), the rest ~200 words drawn at
    random from the demo site's vocabulary (distinct texts, like unrelated news)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 10 == 9:  # an edited copy of an earlier story on another site
            src = out[rng.randrange(len(out))]
            paras = src.body_text.split("\n\n")
            paras.insert(2, rng.choice(E.UPDATES))
            out.append(record(src.url.replace("blockledger", "partner"), src.title, "\n\n".join(paras[:-1]),
                              src.published_at))
            continue
        if rng.random() < template_share:
            art = C.generate_article(i, rng, 0, [0])
            paragraphs, title, path, published = art.paragraphs, art.title, art.path, art.published
        else:
            paragraphs = [" ".join(rng.choices(VOCAB, k=35)) + "." for _ in range(6)]
            title, path, published = paragraphs[0][:60], f"/story/{i}/", C.BASE_TIME
        out.append(record(f"https://blockledger.example/{i}{path}", title, "\n\n".join(paragraphs), published))
    return out


def speed(n: int, template_share: float) -> None:
    recs = synthetic(n + n // 10, template_share=template_share)
    first, second = recs[:n], recs[n:]
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "dedup.sqlite"
        settings = {"OUTPUT_DIR": tmp, "DEDUP_STATE_PATH": str(state)}
        t0 = time.perf_counter()
        crawler = run_steps(first, settings)
        t1 = time.perf_counter()
        labels = crawler.dedup_labeler.labels("articles")
        t2 = time.perf_counter()
        crawler.dedup_labeler.commit("bench-1")
        mark_committed(tmp, "bench-1")
        t3 = time.perf_counter()
        size = state.stat().st_size
        print(f"\nspeed, {n} synthetic documents, {template_share:.0%} from the demo story generator "
              f"({sum(v[0] is not None for v in labels.values())} labelled):")
        print(f"  steps (hash + MinHash): {n / (t1 - t0):,.0f} docs/s; end-of-run labels: {n / (t2 - t1):,.0f} "
              f"docs/s; state commit: {n / (t3 - t2):,.0f} docs/s; overall {n / (t3 - t0):,.0f} docs/s")
        print(f"  state: {size / 1e6:.1f} MB for {n} docs = {size / n:,.0f} bytes/doc -> "
              f"{size / n * 1e6 / 1e9:.2f} GB per million documents (linear extrapolation)")
        t4 = time.perf_counter()
        crawler2 = run_steps(second, settings)
        labels2 = crawler2.dedup_labeler.labels("articles")
        t5 = time.perf_counter()
        cross = crawler2.stats.get_value("dedup/articles/cross_run_labelled")
        print(f"  second run, {len(second)} docs against the {n}-doc state: {len(second) / (t5 - t4):,.0f} docs/s "
              f"({cross} of {sum(v[0] is not None for v in labels2.values())} labels point at the first run)")


def compare_datasketch(n: int = 3000) -> None:
    from datasketch import MinHash, MinHashLSH

    texts = [r.body_text for r in synthetic(n, seed=5)]
    t0 = time.perf_counter()
    lsh_ours: dict[int, list[int]] = {}
    for i, t in enumerate(texts):
        for b in mh.band_keys(mh.text_signature(t)):
            lsh_ours.setdefault(b, []).append(i)
    t1 = time.perf_counter()
    lsh = MinHashLSH(num_perm=mh.NUM_PERM, params=(mh.BANDS, mh.ROWS))
    for i, t in enumerate(texts):
        w = mh.tokens(t)
        m = MinHash(num_perm=mh.NUM_PERM, seed=1)
        m.update_batch([" ".join(w[j:j + mh.SHINGLE_WORDS]).encode() for j in range(len(w) - mh.SHINGLE_WORDS + 1)])
        lsh.insert(str(i), m)
    t2 = time.perf_counter()
    print(f"\nMinHash + LSH insert, {n} docs, {mh.NUM_PERM} permutations: ours (numpy, xxhash) "
          f"{n / (t1 - t0):,.0f} docs/s; datasketch 2.0 (update_batch) {n / (t2 - t1):,.0f} docs/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--thresholds", default="0.5,0.55,0.6")
    ap.add_argument("--template-share", type=float, default=0.1,
                    help="share of demo-generator stories in the speed corpus (1.0 = worst case)")
    args = ap.parse_args()
    quality([float(x) for x in args.thresholds.split(",")])
    print()
    for parts in (2, 3):
        cross_run([float(x) for x in args.thresholds.split(",")], parts)
    speed(args.docs, args.template_share)
    compare_datasketch()


if __name__ == "__main__":
    main()
