"""report.html of a demo crawl, rendered in real headless Chromium (Debian's `chromium`, installed by .ci/run):
the page loads, every plot is there and not blank (pixel variance of the embedded PNG and of the screenshot
where the plot sits), and every number the page carries equals a DuckDB query over the dataset written here,
independently of the report's own code."""
from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

PIL = pytest.importorskip("PIL.Image")
from PIL import ImageStat  # noqa: E402

PLOTS = {"articles_per_day", "comments_per_article", "comments_per_platform", "thread_completeness", "reply_depth",
         "languages", "duplicates", "extraction_health", "asset_mentions"}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--force-device-scale-factor=1", "--hide-scrollbars", "--window-size=1100,7000",
                  "--virtual-time-budget=5000"]


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium binary (.ci/run installs Debian's chromium; apt may be unavailable here)")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.rows, self.body, self.title = [], {}, {}, ""
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img" and "data-plot" in a:
            self.images.append(a)
        elif tag == "tr" and "data-figure" in a:
            self.rows.setdefault(a["data-figure"], {})[a["data-key"]] = float(a["data-value"])
        elif tag == "body":
            self.body = a
        elif tag == "h1":
            self._in_h1 = True

    def handle_data(self, data):
        if self._in_h1:
            self.title += data

    def handle_endtag(self, tag):
        self._in_h1 = self._in_h1 and tag != "h1"


@pytest.fixture(scope="module")
def report(demo_run):
    path = demo_run.output / "report.html"
    if not path.exists():  # written at commit; older layouts: write it here
        from pipelines.dataset.report import write_report
        write_report(demo_run.output)
    return path


@pytest.fixture(scope="module")
def rendered(report, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chromium")
    url = report.resolve().as_uri()
    dom = chromium(tmp, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = tmp / "report.png"
    proc = chromium(tmp, url, f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    page = Page()
    page.feed(dom.stdout)
    return page, PIL.open(shot).convert("RGB")


def test_page_loads_with_every_plot_rendered_and_not_blank(rendered):
    page, shot = rendered
    assert "dataset report" in page.title
    assert {i["data-plot"] for i in page.images} == PLOTS
    assert page.body.get("data-plots-rendered") == str(len(PLOTS))
    assert ImageStat.Stat(shot.convert("L")).stddev[0] > 5  # the screenshot is not a blank page
    for img in page.images:
        assert img["data-rendered"] == "yes", img["data-plot"]
        assert img["src"].startswith("data:image/png;base64,")  # self-contained: no network, no other file
        png = PIL.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))).convert("L")
        assert ImageStat.Stat(png).stddev[0] > 5, img["data-plot"]
        x, y, w, h = (int(v) for v in img["data-rect"].split(","))
        assert w > 100 and h > 50, img["data-plot"]
        on_screen = shot.crop((x, y, x + w, y + h)).convert("L")
        assert ImageStat.Stat(on_screen).stddev[0] > 5, f"{img['data-plot']} is blank where it is drawn"


# --- the numbers, queried here with DuckDB -------------------------------------------------------------------
LATEST = ("SELECT * EXCLUDE (r) FROM (SELECT *, row_number() OVER (PARTITION BY {id} ORDER BY version DESC, "
          "valid_from DESC) AS r FROM read_parquet('{glob}', hive_partitioning=1, union_by_name=1)) "
          "WHERE r = 1 AND NOT is_tombstone")


@pytest.fixture(scope="module")
def con(demo_run):
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    for t, id_col in (("articles", "article_id"), ("threads", "thread_id"), ("comments", "comment_id")):
        glob = f"{demo_run.output}/{t}/crawl_date=*/*.parquet"
        c.execute(f"CREATE VIEW a_{t} AS SELECT * FROM read_parquet('{glob}', hive_partitioning=1, union_by_name=1)")
        c.execute(f"CREATE VIEW l_{t} AS " + LATEST.format(id=id_col, glob=glob))
    return c


def as_dict(con, sql: str) -> dict:
    return {"|".join(str(x) for x in r[:-1]): float(r[-1]) for r in con.execute(sql).fetchall()}


QUERIES = {
    "comments_per_platform": "SELECT platform, count(*) FROM l_comments GROUP BY 1",
    "reply_depth": "SELECT depth, count(*) FROM l_comments GROUP BY 1",
    "thread_completeness": "SELECT platform, if(is_complete, 'complete', 'incomplete'), count(*) FROM l_threads "
                           "GROUP BY 1, 2",
    "articles_per_day": "SELECT CAST(CAST(published_at AS DATE) AS VARCHAR), site, count(*) FROM l_articles "
                        "WHERE published_at IS NOT NULL GROUP BY 1, 2",
    "comments_per_article": "SELECT n, count(*) FROM (SELECT a.article_id, count(c.comment_id) n FROM l_articles a "
                            "LEFT JOIN l_comments c USING (article_id) GROUP BY 1) GROUP BY 1",
    "languages": "SELECT 'articles', language, count(*) FROM l_articles GROUP BY 2 UNION ALL "
                 "SELECT 'comments', language, count(*) FROM l_comments GROUP BY 2",
    "duplicate_share_articles": "SELECT site, round(count(duplicate_of) / count(*), 4) FROM l_articles GROUP BY 1",
    "duplicate_share_comments": "SELECT platform, round(count(duplicate_of) / count(*), 4) FROM l_comments GROUP BY 1",
    "asset_mentions": "SELECT day, t, count(*) FROM (SELECT CAST(CAST(coalesce(published_at, fetched_at) AS DATE) "
                      "AS VARCHAR) AS day, unnest(assets) AS t FROM l_articles UNION ALL SELECT CAST(CAST(coalesce("
                      "published_at, fetched_at) AS DATE) AS VARCHAR), unnest(assets) FROM l_comments) GROUP BY 1, 2",
}


@pytest.mark.parametrize("figure", sorted(QUERIES))
def test_report_numbers_equal_duckdb(rendered, con, figure):
    page, _ = rendered
    want = as_dict(con, QUERIES[figure])
    assert want, figure
    assert page.rows.get(figure) == want


def test_report_totals_equal_duckdb(rendered, con, demo_run):
    totals = rendered[0].rows["totals"]
    for t in ("articles", "threads", "comments"):
        assert totals[f"{t}_rows"] == con.execute(f"SELECT count(*) FROM a_{t}").fetchone()[0]
        assert totals[f"{t}_latest"] == con.execute(f"SELECT count(*) FROM l_{t}").fetchone()[0]
    assert rendered[0].rows["runs"]["runs"] == len(list((demo_run.output / "_manifests").glob("*.json")))
    clusters = rendered[0].rows["largest_clusters"]
    dup = con.execute("SELECT duplicate_of, count(*) + 1 FROM l_articles WHERE duplicate_of IS NOT NULL GROUP BY 1"
                      ).fetchall()
    assert dup and all(clusters[f"articles|{rep}"] == n for rep, n in dup)
    want = {}
    for m in (json.loads(p.read_text()) for p in (demo_run.output / "_manifests").glob("*.json")):
        for site, h in m["health"].items():
            want.update({f"{m['run_id']}|{site}|{k}": round(h[k], 4) for k in ("body_share", "title_share", "date_share")})
    assert want and rendered[0].rows["extraction_health"] == want
