"""Article extraction quality and speed: this project's extractor against plain trafilatura, in one run.

Usage::

    python benchmarks/extraction_quality.py [--realpages ../shared/realpages] [--repeat 1] [--worst 5]
                                            [--folds 5] [--sample K]

Pages (read in place, never copied into the repository):

* ``<realpages>/wcxb-dev/``: ``MANIFEST.tsv`` (file_id, page_type, domain), ``html/<id>.html.gz``,
  ``ground-truth/<id>.json`` (``ground_truth``: ``main_content``, ``with``/``without`` snippets, ``title``,
  ``author``, ``publish_date``), the WCXB benchmark's development split (articles, forum threads, listings);
* ``<realpages>/aeb-dev/html/<id>.html[.gz]`` with ``<realpages>/aeb-dev/ground-truth.json``
  (``{id: {"articleBody": ..., "url": ...}}``), a slice of scrapinghub/article-extraction-benchmark;
* ``<realpages>/crypto/<name>.html`` with ``<name>.groundtruth.json`` and ``MANIFEST.tsv`` (page kinds).

Extractors: ``ours`` is ``ArticlePage(...).body_text()`` (body only, no not-article checks); ``ours-full`` is
the whole ``parse_article`` the pipeline uses (every field plus the not-article checks; a page it rejects is
an empty prediction); ``trafilatura`` is plain ``trafilatura.extract(html)``. Speed is pages/s of wall time
for the call on a decoded HTML string (parsing included) over every page of the run, the extractors taking
turns page by page (a shared machine's changing load hits them alike), best of ``--repeat``.

WCXB scoring (its metric): per page, word bags of lower-cased ``\\w+`` tokens; precision, recall and F1 of
the bag overlap; means over pages (an empty prediction scores 0). ``with``: share of must-have snippets whose
words appear, in order, in the prediction; ``without``: share of boilerplate snippets that do (lower is
better). Fields on articles where the ground truth has them: title exact (case, punctuation and spacing
ignored), author names F1 (names split on commas/"and"/"&", compared case- and punctuation-blind), publication
day right (``YYYY-MM-DD``). trafilatura's fields come from ``trafilatura.extract_metadata`` (not timed).
``saved``: share of pages ``parse_article`` turns into an article row. The k-fold figure splits the pages by
site (domain hash) into ``--folds`` folds and reports each fold, so a rule that only fits some sites shows.

AEB scoring follows the article-extraction-benchmark's ``evaluate.py``:

* tokens are ``\\w+`` runs (case kept), joined into 4-token shingles; a text shorter than 4 tokens is one
  shorter shingle; an empty text has none;
* per page, true positives / false positives / false negatives are the multiset (Counter) overlap and
  differences of the shingles, then normalised to sum to 1 so long pages do not weigh more;
* precision is the mean over pages with tp + fp > 0 (an EMPTY PREDICTION IS LEFT OUT of the precision mean),
  recall the mean over pages with tp + fn > 0 (an empty prediction counts as recall 0);
* F1 is the harmonic mean of those two means (the benchmark's headline figure); also printed: ``F1/page``, the mean of per-page F1 (empty = 0).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta, timezone
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
    truth: str | None           # main text; None: no body ground truth (page scored for its type only)
    page_type: str = "article"  # article / forum / listing / other (crypto: the manifest's page kind)
    domain: str = ""
    gt: dict = field(default_factory=dict)  # WCXB ground truth: with, without, title, author, publish_date


@dataclass
class Output:
    body: str | None
    saved: bool = True          # parse_article made an article row of it
    reason: str | None = None   # the NotArticle reason when not saved
    title: str | None = None
    authors: list | None = None
    day: str | None = None      # YYYY-MM-DD


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


# -- WCXB scoring -----------------------------------------------------------------------------------------
def words(text: str | None) -> list[str]:
    return WORD.findall((text or "").lower())


def word_prf(truth: str | None, pred: str | None) -> tuple[float, float, float]:
    """(precision, recall, F1) of the lower-cased word bags; an empty prediction scores 0."""
    t, p = Counter(words(truth)), Counter(words(pred))
    if not p or not t:
        return (1.0, 1.0, 1.0) if not p and not t else (0.0, 0.0, 0.0)
    tp = sum((t & p).values())
    pr, rc = tp / sum(p.values()), tp / sum(t.values())
    return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)


def snippet_found(snippet: str, pred_words: str) -> bool:
    """The snippet's words, in order, inside the prediction's words (punctuation and case ignored)."""
    w = " ".join(words(snippet))
    return bool(w) and f" {w} " in pred_words


def norm_title(t: str | None) -> str:
    return " ".join(words(t))


def author_names(value) -> set[str]:
    if not value:
        return set()
    parts = value if isinstance(value, list) else re.split(r"\s*(?:,|;|\band\b|&|\|)\s*", str(value))
    return {" ".join(words(x)) for x in parts if words(x)}


def author_f1(truth, pred) -> float:
    t, p = author_names(truth), author_names(pred)
    if not t:
        return 1.0 if not p else 0.0
    if not p:
        return 0.0
    tp = len(t & p)
    return 2 * tp / (len(t) + len(p))


def day_of(value) -> str | None:
    if value is None:
        return None
    if hasattr(value, "date"):
        return value.date().isoformat()
    m = re.search(r"\d{4}-\d{2}-\d{2}", str(value))
    return m.group(0) if m else None


def stored_day(published_at, offset_minutes) -> str | None:
    """The publication day from what Parquet keeps: published_at (UTC) moved by published_at_offset_minutes."""
    if published_at is None:
        return None
    utc = published_at.astimezone(timezone.utc)
    return (utc + timedelta(minutes=offset_minutes or 0)).date().isoformat()


def fold_of(domain: str, k: int) -> int:
    return int(hashlib.sha1(domain.encode("utf-8")).hexdigest(), 16) % k


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
    """Every page of the manifest (its kind: article, listing, comments, other); body truth where a
    ``.groundtruth.json`` exists."""
    manifest = folder / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    pages = []
    with manifest.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            html_path = folder / row["file"]
            if not html_path.exists():
                continue
            stem = row["file"][: -len(".html")] if row["file"].endswith(".html") else row["file"]
            gt_path = folder / f"{stem}.groundtruth.json"
            body = None
            if gt_path.exists():
                gt = json.loads(gt_path.read_text(encoding="utf-8"))
                body = (gt.get("ground_truth") or {}).get("main_content") or gt.get("articleBody") or ""
            pages.append(Page("crypto", stem, row["original_url"].split()[0], read_html(html_path), body,
                              page_type=row.get("page_kind") or "other", domain=row.get("site", "").split()[0]))
    return pages


def wcxb_pages(folder: Path) -> list[Page]:
    manifest = folder / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    pages = []
    with manifest.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            html_path, gt_path = folder / "html" / f"{row['file_id']}.html.gz", folder / "ground-truth" / f"{row['file_id']}.json"
            if not html_path.exists() or not gt_path.exists():
                continue
            data = json.loads(gt_path.read_text(encoding="utf-8"))
            gt = data.get("ground_truth") or {}
            pages.append(Page("wcxb-dev", row["file_id"], data.get("url") or "", read_html(html_path),
                              gt.get("main_content"), page_type=row["page_type"], domain=row["domain"], gt=gt))
    return pages


# -- extractors -------------------------------------------------------------------------------------------
def ours(page: Page) -> Output:
    from crawler.sites.generic import ArticlePage

    return Output(ArticlePage(page.url or "https://example.invalid/", page.html).body_text())


def ours_full(page: Page) -> Output:
    """The whole parse_article (all fields and not-article checks); a NotArticle is an empty prediction."""
    from crawler.sites.generic import NotArticle, parse_article

    r = parse_article(page.url or "https://example.invalid/", page.html, {})
    if isinstance(r, NotArticle):
        return Output(None, saved=False, reason=r.reason + (f"/{r.detail}" if getattr(r, "detail", None) else ""))
    return Output(r.body_text, title=r.title, authors=r.authors, day=stored_day(r.published_at, r.published_at_offset_minutes))


def trafilatura_default(page: Page) -> Output:
    import trafilatura

    return Output(trafilatura.extract(page.html))


def trafilatura_fields(page: Page) -> Output:
    """trafilatura's metadata (title, author, date) for the field comparison; not part of the timing."""
    import trafilatura

    meta = trafilatura.extract_metadata(page.html, default_url=page.url or None)
    if meta is None:
        return Output(None)
    return Output(None, title=meta.title, authors=[meta.author] if meta.author else [], day=day_of(meta.date))


EXTRACTORS = {"ours-full": ours_full, "ours": ours, "trafilatura": trafilatura_default}


def run_all(extractors: dict, pages: list[Page], repeat: int) -> dict:
    """{name: (outputs, seconds)}. The extractors take turns page by page, so a machine whose load changes
    during the run slows them alike; seconds are the best of ``repeat`` passes per extractor."""
    outputs: dict = {name: [] for name in extractors}
    seconds = {name: float("inf") for name in extractors}
    for r in range(max(1, repeat)):
        spent = dict.fromkeys(extractors, 0.0)
        for page in pages:
            for name, extractor in extractors.items():
                start = time.perf_counter()
                try:
                    out = extractor(page)
                except Exception as exc:  # a crash is an empty prediction, reported
                    print(f"  ! {name} {page.corpus}/{page.page_id}: {type(exc).__name__}: {exc}", file=sys.stderr)
                    out = Output(None, saved=False, reason="crash")
                spent[name] += time.perf_counter() - start
                if r == 0:
                    outputs[name].append(out)
        for name in extractors:
            seconds[name] = min(seconds[name], spent[name])
    return {name: (outputs[name], seconds[name]) for name in extractors}


def mean(xs) -> float:
    xs = list(xs)
    return statistics.mean(xs) if xs else float("nan")


def wcxb_table(pages: list[Page], results: dict, folds: int) -> None:
    """Per page type: word F1/P/R, with/without snippet rates, saved share; fields; k-fold figure."""
    print("\n== wcxb-dev: word-bag F1 (mean over pages; empty prediction = 0) ==")
    header = (f"{'type':<8} {'extractor':<12} {'pages':>5} {'F1':>6} {'P':>6} {'R':>6} {'with':>6} {'without':>7} "
              f"{'empty':>5} {'saved':>6}")
    print(header)
    print("-" * len(header))
    scores: dict = {}
    for ptype in ("article", "forum", "listing"):
        idx = [i for i, p in enumerate(pages) if p.page_type == ptype]
        if not idx:
            continue
        for name, (outputs, _) in results.items():
            scored = [i for i in idx if pages[i].truth is not None]
            prf = {i: word_prf(pages[i].truth, outputs[i].body) for i in scored}
            scores[(name, ptype)] = prf
            with_hits = with_n = without_hits = without_n = 0
            for i in idx:
                pred = f" {' '.join(words(outputs[i].body))} "
                for sn in pages[i].gt.get("with") or []:
                    with_n += 1
                    with_hits += snippet_found(sn, pred)
                for sn in pages[i].gt.get("without") or []:
                    without_n += 1
                    without_hits += snippet_found(sn, pred)
            empty = sum(1 for i in idx if not words(outputs[i].body))
            saved = mean(1.0 if outputs[i].saved else 0.0 for i in idx) if name == "ours-full" else float("nan")
            print(f"{ptype:<8} {name:<12} {len(idx):>5} {mean(v[2] for v in prf.values()):6.3f} "
                  f"{mean(v[0] for v in prf.values()):6.3f} {mean(v[1] for v in prf.values()):6.3f} "
                  f"{with_hits / max(with_n, 1):6.1%} {without_hits / max(without_n, 1):7.1%} {empty:>5} "
                  + (f"{saved:6.1%}" if saved == saved else f"{'':>6}"))
    full = results.get("ours-full")
    if full:
        for ptype in ("listing", "forum"):
            idx = [i for i, p in enumerate(pages) if p.page_type == ptype]
            if idx:
                reasons = Counter(full[0][i].reason or "article" for i in idx)
                print(f"ours-full on {ptype} pages: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common())
                      + f"  -> not saved as articles: {1 - mean(full[0][i].saved for i in idx):.1%}")

    # fields on articles where the ground truth has them
    arts = [i for i, p in enumerate(pages) if p.page_type == "article"]
    field_outputs = {"ours-full": full[0] if full else None,
                     "trafilatura": [trafilatura_fields(p) if p.page_type == "article" else Output(None) for p in pages]}
    print("\n== wcxb-dev articles: fields where the ground truth has them ==")
    print(f"{'extractor':<12} {'title exact':>12} {'author F1':>10} {'day right':>10}   (pages: title/author/day)")
    for name, outs in field_outputs.items():
        if outs is None:
            continue
        t_idx = [i for i in arts if pages[i].gt.get("title")]
        a_idx = [i for i in arts if pages[i].gt.get("author")]
        d_idx = [i for i in arts if day_of(pages[i].gt.get("publish_date"))]
        title = mean(1.0 if norm_title(outs[i].title) == norm_title(pages[i].gt["title"]) else 0.0 for i in t_idx)
        author = mean(author_f1(pages[i].gt["author"], outs[i].authors) for i in a_idx)
        day = mean(1.0 if outs[i].day == day_of(pages[i].gt["publish_date"]) else 0.0 for i in d_idx)
        print(f"{name:<12} {title:12.3f} {author:10.3f} {day:10.3f}   ({len(t_idx)}/{len(a_idx)}/{len(d_idx)})")

    # k-fold by site: the spread over folds of ours-full against trafilatura on the same pages
    if ("ours-full", "article") in scores and ("trafilatura", "article") in scores:
        print(f"\n== wcxb-dev articles: {folds} folds by site (domain hash) ==")
        print(f"{'fold':<5} {'pages':>5} {'ours-full':>9} {'ours':>6} {'trafilatura':>11} {'full-traf':>9}"
              f"   {'author F1 full/traf':>19} {'day right full/traf':>19}   {'arts saved':>10} {'lists not saved':>15}")
        per_fold = []
        for f in range(folds):
            idx = [i for i in scores[("ours-full", "article")] if fold_of(pages[i].domain, folds) == f]
            if not idx:
                continue
            a = mean(scores[("ours-full", "article")][i][2] for i in idx)
            o = mean(scores[("ours", "article")][i][2] for i in idx) if ("ours", "article") in scores else float("nan")
            t = mean(scores[("trafilatura", "article")][i][2] for i in idx)
            per_fold.append((a, t))
            fields = []
            for metric in ("author", "day"):
                vals = []
                for outs in (field_outputs["ours-full"], field_outputs["trafilatura"]):
                    if metric == "author":
                        got = [author_f1(pages[i].gt["author"], outs[i].authors) for i in idx if pages[i].gt.get("author")]
                    else:
                        got = [1.0 if outs[i].day == day_of(pages[i].gt["publish_date"]) else 0.0
                               for i in idx if day_of(pages[i].gt.get("publish_date"))]
                    vals.append(mean(got))
                fields.append(f"{vals[0]:.3f}/{vals[1]:.3f}")
            lists = [i for i, p in enumerate(pages) if p.page_type == "listing" and fold_of(p.domain, folds) == f]
            saved = sum(1 for i in idx if field_outputs["ours-full"][i].saved)
            dropped = sum(1 for i in lists if not field_outputs["ours-full"][i].saved)
            print(f"{f:<5} {len(idx):>5} {a:9.3f} {o:6.3f} {t:11.3f} {a - t:+9.3f}   {fields[0]:>19} {fields[1]:>19}"
                  f"   {f'{saved}/{len(idx)}':>10} {f'{dropped}/{len(lists)}':>15}")
        fa = [a for a, _ in per_fold]
        print(f"ours-full over folds: min {min(fa):.3f} max {max(fa):.3f} spread {max(fa) - min(fa):.3f} "
              f"stdev {statistics.pstdev(fa):.3f}; folds below trafilatura: {sum(1 for a, t in per_fold if a < t)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--realpages", type=Path, default=DEFAULT_REALPAGES)
    ap.add_argument("--repeat", type=int, default=1, help="timing: best of N runs")
    ap.add_argument("--worst", type=int, default=0, help="list the N worst pages per extractor")
    ap.add_argument("--folds", type=int, default=5, help="k of the by-site k-fold figure on wcxb-dev")
    ap.add_argument("--sample", type=int, default=1, metavar="K",
                    help="while iterating: every K-th page of each corpus only (deterministic; default all)")
    args = ap.parse_args(argv)

    corpora = {"wcxb-dev": wcxb_pages(args.realpages / "wcxb-dev"), "aeb-dev": aeb_pages(args.realpages / "aeb-dev"),
               "crypto": crypto_pages(args.realpages / "crypto")}
    corpora = {k: v[:: max(1, args.sample)] for k, v in corpora.items() if v}
    if not corpora:
        print(f"no pages with ground truth under {args.realpages}; nothing to measure")
        return 0
    all_pages = [p for ps in corpora.values() for p in ps]
    for fn in EXTRACTORS.values():  # warm up imports so the first extractor timed does not pay for them
        fn(all_pages[0])

    results = run_all(EXTRACTORS, all_pages, args.repeat)
    print(f"pages: " + ", ".join(f"{k} {len(v)}" for k, v in corpora.items()))
    print(f"\n== speed over all {len(all_pages)} pages (decoded HTML string in, parsing included) ==")
    speeds = {name: len(all_pages) / seconds if seconds else 0.0 for name, (_, seconds) in results.items()}
    for name, speed in speeds.items():
        ratio = f"  ({speed / speeds['trafilatura']:.2f}x trafilatura)" if speeds.get("trafilatura") else ""
        print(f"{name:<12} {speed:8.1f} pages/s{ratio}")

    wcxb = [i for i, p in enumerate(all_pages) if p.corpus == "wcxb-dev"]
    if wcxb:
        wcxb_table([all_pages[i] for i in wcxb], {n: ([o[i] for i in wcxb], s) for n, (o, s) in results.items()},
                   args.folds)

    print("\n== aeb-dev and crypto: 4-token shingles (article-extraction-benchmark scoring) ==")
    header = (f"{'corpus':<8} {'extractor':<12} {'pages':>5} {'F1':>6} {'P':>6} {'R':>6} {'F1/page':>7} "
              f"{'uniF1':>6} {'empty':>5}")
    print(header)
    print("-" * len(header))
    for corpus in ("aeb-dev", "crypto"):
        idx = [i for i, p in enumerate(all_pages) if p.corpus == corpus and p.truth is not None]
        if not idx:
            continue
        for name, (outputs, _) in results.items():
            four = summarise([match(all_pages[i].truth, outputs[i].body) for i in idx])
            uni = summarise([match(all_pages[i].truth, outputs[i].body, 1) for i in idx])
            empty = sum(1 for i in idx if not tokens(outputs[i].body))
            print(f"{corpus:<8} {name:<12} {len(idx):>5} {four['f1']:6.3f} {four['p']:6.3f} {four['r']:6.3f} "
                  f"{four['f1_page']:7.3f} {uni['f1']:6.3f} {empty:>5}")
    crypto = [i for i, p in enumerate(all_pages) if p.corpus == "crypto"]
    if crypto and "ours-full" in results:
        print("\ncrypto pages, ours-full (kind -> result):")
        for i in crypto:
            out = results["ours-full"][0][i]
            print(f"  {all_pages[i].page_type:<9} {'article' if out.saved else 'not_article/' + str(out.reason):<24} "
                  f"{all_pages[i].page_id}")
    if args.worst:
        for name, (outputs, _) in results.items():
            scored = sorted((word_prf(p.truth, o.body)[2], p.corpus, p.page_id, p.page_type)
                            for p, o in zip(all_pages, outputs) if p.truth is not None)
            print(f"\nworst {args.worst} for {name} (word F1):")
            for f1, corpus, pid, ptype in scored[: args.worst]:
                print(f"  {f1:.3f} {corpus} {ptype} {pid}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
