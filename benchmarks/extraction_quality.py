"""Article-body extraction quality and speed: this project's extractor against plain trafilatura.

Usage::

    python benchmarks/extraction_quality.py [--realpages ../shared/realpages] [--repeat 1] [--worst 5]

Pages (read in place, never copied into the repository):

* ``<realpages>/aeb-dev/html/<id>.html[.gz]`` with ``<realpages>/aeb-dev/ground-truth.json``
  (``{id: {"articleBody": ..., "url": ...}}``), a slice of scrapinghub/article-extraction-benchmark;
* ``<realpages>/crypto/<name>.html`` with ``<name>.groundtruth.json``
  (``{"url": ..., "ground_truth": {"main_content": ...}}``).

Scoring follows the article-extraction-benchmark's ``evaluate.py``:

* tokens are ``\\w+`` runs (case kept), joined into 4-token shingles; a text shorter than 4 tokens is one
  shorter shingle; an empty text has none;
* per page, true positives / false positives / false negatives are the multiset (Counter) overlap and
  differences of the shingles, then normalised to sum to 1 so long pages do not weigh more;
* precision is the mean over pages with tp + fp > 0 (an EMPTY PREDICTION IS LEFT OUT of the precision mean),
  recall the mean over pages with tp + fn > 0 (an empty prediction counts as recall 0);
* F1 is the harmonic mean of those two means (the benchmark's headline figure).

Also printed: ``F1/page`` — the mean of per-page F1 where an empty prediction scores 0 — and the same
figures on single tokens (``uni``) for comparison. Speed is pages/s of wall time for the whole call on a
decoded HTML string (parsing included), best of ``--repeat`` runs. ``ours`` is ``ArticlePage(...).body_text()``;
``ours-full`` is the whole ``parse_article`` (every field plus the not-article checks; a page it rejects,
e.g. a paywall teaser, is an empty prediction).
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_REALPAGES = ROOT.parent / "shared" / "realpages"
WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE_N = 4


@dataclass
class Page:
    corpus: str
    page_id: str
    url: str
    html: str
    truth: str


@dataclass
class Counts:
    tp: float
    fp: float
    fn: float


def tokens(text: str | None) -> list[str]:
    return WORD.findall(text or "")


def shingles(text: str | None, n: int) -> Counter:
    toks = tokens(text)
    if not toks:
        return Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1)))


def match(truth: str | None, pred: str | None, n: int = SHINGLE_N) -> Counts:
    t, p = shingles(truth, n), shingles(pred, n)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    total = tp + fp + fn
    return Counts(tp / total, fp / total, fn / total) if total else Counts(0.0, 0.0, 0.0)


def precision(c: Counts) -> float:
    return 1.0 if c.fp == c.fn == 0 else (0.0 if c.tp == c.fp == 0 else c.tp / (c.tp + c.fp))


def recall(c: Counts) -> float:
    return 1.0 if c.fp == c.fn == 0 else (0.0 if c.tp == c.fn == 0 else c.tp / (c.tp + c.fn))


def page_f1(c: Counts) -> float:
    p, r = precision(c), recall(c)
    return 2 * p * r / (p + r) if p + r else 0.0


def summarise(counts: list[Counts]) -> dict:
    ps = [precision(c) for c in counts if c.tp + c.fp > 0]
    rs = [recall(c) for c in counts if c.tp + c.fn > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "p": p, "r": r,
            "f1_page": statistics.mean(page_f1(c) for c in counts) if counts else 0.0}


# -- pages ------------------------------------------------------------------------------------------------
def read_html(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def aeb_pages(folder: Path) -> list[Page]:
    truth_file = folder / "ground-truth.json"
    if not truth_file.exists():
        return []
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    pages = []
    for page_id, gt in sorted(truth.items()):
        for name in (f"{page_id}.html.gz", f"{page_id}.html"):
            path = folder / "html" / name
            if path.exists():
                pages.append(Page("aeb-dev", page_id, gt.get("url") or "", read_html(path), gt.get("articleBody") or ""))
                break
    return pages


def crypto_pages(folder: Path) -> list[Page]:
    pages = []
    for gt_path in sorted(folder.glob("*.groundtruth.json")):
        stem = gt_path.name[: -len(".groundtruth.json")]
        html_path = next((p for p in (folder / f"{stem}.html", folder / f"{stem}.html.gz") if p.exists()), None)
        if html_path is None:
            continue
        gt = json.loads(gt_path.read_text(encoding="utf-8"))
        body = (gt.get("ground_truth") or {}).get("main_content") or gt.get("articleBody") or ""
        pages.append(Page("crypto", stem, gt.get("url") or "", read_html(html_path), body))
    return pages


# -- extractors -------------------------------------------------------------------------------------------
def ours(page: Page) -> str | None:
    from crawler.sites.generic import ArticlePage

    return ArticlePage(page.url or "https://example.invalid/", page.html).body_text()


def ours_full(page: Page) -> str | None:
    """The whole parse_article (all fields and not-article checks); a NotArticle is an empty prediction."""
    from crawler.sites.generic import parse_article

    return getattr(parse_article(page.url or "https://example.invalid/", page.html, {}), "body_text", None)


def trafilatura_default(page: Page) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html)


EXTRACTORS = {"ours": ours, "ours-full": ours_full, "trafilatura": trafilatura_default}


def run(extractor, pages: list[Page], repeat: int) -> tuple[list[str | None], float]:
    best = float("inf")
    outputs: list[str | None] = []
    for _ in range(max(1, repeat)):
        outputs = []
        start = time.perf_counter()
        for page in pages:
            try:
                outputs.append(extractor(page))
            except Exception as exc:  # a crash is an empty prediction, reported
                print(f"  ! {page.page_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
                outputs.append(None)
        best = min(best, time.perf_counter() - start)
    return outputs, best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realpages", type=Path, default=DEFAULT_REALPAGES)
    ap.add_argument("--repeat", type=int, default=1, help="timing: best of N runs")
    ap.add_argument("--worst", type=int, default=0, help="list the N worst pages per extractor (by shingle F1)")
    args = ap.parse_args(argv)

    corpora = {"aeb-dev": aeb_pages(args.realpages / "aeb-dev"), "crypto": crypto_pages(args.realpages / "crypto")}
    corpora = {k: v for k, v in corpora.items() if v}
    if not corpora:
        print(f"no pages with ground truth under {args.realpages}; nothing to measure")
        return 0
    all_pages = [p for ps in corpora.values() for p in ps]
    # warm up imports so the first extractor timed does not pay for them
    for fn in EXTRACTORS.values():
        fn(all_pages[0])

    results = {name: run(fn, all_pages, args.repeat) for name, fn in EXTRACTORS.items()}
    header = (f"{'corpus':<8} {'extractor':<12} {'pages':>5} {'F1':>6} {'P':>6} {'R':>6} {'F1/page':>7} "
              f"{'uniF1':>6} {'empty':>5} {'pages/s':>8}")
    print(header)
    print("-" * len(header))
    speeds = {}
    for corpus in list(corpora) + ["all"]:
        idx = [i for i, p in enumerate(all_pages) if corpus in ("all", p.corpus)]
        for name, (outputs, seconds) in results.items():
            four = summarise([match(all_pages[i].truth, outputs[i]) for i in idx])
            uni = summarise([match(all_pages[i].truth, outputs[i], 1) for i in idx])
            empty = sum(1 for i in idx if not tokens(outputs[i]))
            speed = len(all_pages) / seconds if seconds else 0.0
            speeds[name] = speed
            shown = f"{speed:8.1f}" if corpus == "all" else f"{'':>8}"
            print(f"{corpus:<8} {name:<12} {len(idx):>5} {four['f1']:6.3f} {four['p']:6.3f} {four['r']:6.3f} "
                  f"{four['f1_page']:7.3f} {uni['f1']:6.3f} {empty:>5} {shown}")
    if speeds.get("trafilatura"):
        print()
        for name in (n for n in speeds if n != "trafilatura"):
            print(f"speed ratio {name}/trafilatura: {speeds[name] / speeds['trafilatura']:.2f}x")
    print("F1/P/R: 4-token shingles as in article-extraction-benchmark (empty predictions excluded from P, "
          "count 0 in R); F1/page: mean per-page F1, empty = 0; uniF1: same as F1 on single tokens.")
    if args.worst:
        for name, (outputs, _) in results.items():
            scored = sorted((page_f1(match(p.truth, o)), p.corpus, p.page_id) for p, o in zip(all_pages, outputs))
            print(f"\nworst {args.worst} for {name}:")
            for f1, corpus, pid in scored[: args.worst]:
                print(f"  {f1:.3f} {corpus} {pid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
