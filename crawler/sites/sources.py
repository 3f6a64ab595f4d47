"""The registry of crypto news sources (``sources.json`` next to this module), loaded and validated.

Each source says where its articles are announced (``discovery``: RSS/Atom feeds, sitemaps, WordPress REST
post listings, listing pages), which comment platform its readers use, which article parser reads it and
how gently to crawl it. ``scrapy crawl news -a source=NAME`` reads it; ``docs/sources.md`` lists it.

:func:`load_sources` raises :class:`SourceRegistryError` naming every problem found, so a bad edit to the
data file fails loudly (and ``tests/test_sources.py`` fails) instead of crawling something half-configured.
"""
from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from crawler.usage import UsageProblem

REGISTRY_PATH = Path(__file__).with_name("sources.json")
DISCOVERY_KINDS = ("feed", "sitemap", "wp_posts", "listing", "subreddit", "hn_search")
API_KINDS = ("subreddit", "hn_search")  # discovered through an API origin (a setting), not the source's web host
COMMENT_PLATFORMS = ("none", "wordpress", "disqus", "discourse", "reddit", "smf", "hackernews")
SUBREDDIT_URL = re.compile(r"^https://(www\.|old\.)?reddit\.com/r/[A-Za-z0-9_]{2,21}(/(new|hot|top|rising))?/?$")
HN_SEARCH_URL = re.compile(r"^https://hn\.algolia\.com/api/v1/search_by_date\?(.+&)?query=[^&]+")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
DISCUSSION = "discussion"  # parser value: pages are forum topics, read by the spider's parse_discussion
MIN_DELAY = 1.0  # seconds: no source may be crawled faster than this
MAX_CONCURRENCY = 4


class SourceRegistryError(UsageProblem):  # a ValueError; `scrapy crawl` reports it as a usage error (exit 2)
    pass


@dataclass(frozen=True)
class Discovery:
    kind: str  # one of DISCOVERY_KINDS
    url: str


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    domains: tuple[str, ...]
    home: str
    discovery: tuple[Discovery, ...]
    comments: str
    parser: str
    download_delay: float
    concurrency: int
    notes: str = ""
    max_pages: int | None = None  # subreddit / hn_search: listing pages followed (None = the setting)

    @property
    def is_discussion(self) -> bool:
        """Its pages are forum topics: the opening post is the article row, replies are comments."""
        return self.parser == DISCUSSION

    @property
    def slot(self) -> str:
        """Downloader slot shared by every request to this source (one politeness budget for all hosts)."""
        return f"source:{self.name}"

    @property
    def is_api(self) -> bool:
        """Discovered through an API (subreddit, HN search): the linked pages belong to other sources."""
        return bool(self.discovery) and all(d.kind in API_KINDS for d in self.discovery)

    def owns(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host in self.domains


@dataclass
class Registry:
    sources: dict[str, Source] = field(default_factory=dict)

    def select(self, name: str) -> list[Source]:
        """``all`` or a comma-separated list of names."""
        if name.strip() == "all":
            return list(self.sources.values())
        picked = []
        for n in (p.strip() for p in name.split(",") if p.strip()):
            if n not in self.sources:
                raise SourceRegistryError(f"unknown source {n!r}; known: {', '.join(sorted(self.sources))}")
            picked.append(self.sources[n])
        if not picked:
            raise SourceRegistryError("no source named")
        return picked

    def for_url(self, url: str) -> Source | None:
        for s in self.sources.values():
            if not s.is_api and s.owns(url):
                return s
        return None


def load_sources(path: Path | str = REGISTRY_PATH) -> Registry:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return parse_registry(data)


def parse_registry(data: dict) -> Registry:
    problems: list[str] = []
    reg = Registry()
    owner: dict[str, str] = {}
    for i, raw in enumerate(data.get("sources") or []):
        where = f"sources[{i}] ({raw.get('name', '?') if isinstance(raw, dict) else '?'})"
        try:
            src = _source(raw)
        except SourceRegistryError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if src.name in reg.sources:
            problems.append(f"{where}: duplicate name")
        for d in src.domains if not src.is_api else ():  # many subreddits share reddit.com
            if d in owner:
                problems.append(f"{where}: domain {d} already belongs to {owner[d]}")
            owner[d] = src.name
        reg.sources[src.name] = src
    if not reg.sources and not problems:
        problems.append("no sources")
    if problems:
        raise SourceRegistryError("invalid source registry:\n  " + "\n  ".join(problems))
    return reg


def _source(raw) -> Source:
    if not isinstance(raw, dict):
        raise SourceRegistryError("not an object")
    errs = []
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        errs.append(f"name must match {NAME.pattern}")
    domains = raw.get("domains")
    if not isinstance(domains, list) or not domains or not all(isinstance(d, str) and HOST.match(d) for d in domains):
        errs.append("domains must be a non-empty list of lower-case host names")
        domains = []
    home = raw.get("home")
    if not _http_url(home) or (domains and (urlsplit(home).hostname or "") not in domains):
        errs.append("home must be an http(s) URL on one of the domains")
    discovery = []
    for j, d in enumerate(raw.get("discovery") or []):
        kind, url = (d.get("kind"), d.get("url")) if isinstance(d, dict) else (None, None)
        if kind not in DISCOVERY_KINDS:
            errs.append(f"discovery[{j}].kind must be one of {DISCOVERY_KINDS}")
        elif not _http_url(url) or (urlsplit(url).hostname or "") not in domains:
            errs.append(f"discovery[{j}].url must be an http(s) URL on one of the domains")
        elif kind == "subreddit" and not SUBREDDIT_URL.match(url):
            errs.append(f"discovery[{j}].url must look like https://www.reddit.com/r/NAME/new")
        elif kind == "hn_search" and not HN_SEARCH_URL.match(url):
            errs.append(f"discovery[{j}].url must look like https://hn.algolia.com/api/v1/search_by_date?query=..")
        else:
            discovery.append(Discovery(kind, url))
    if not discovery:
        errs.append("at least one discovery method is needed")
    comments = raw.get("comments")
    if comments not in COMMENT_PLATFORMS:
        errs.append(f"comments must be one of {COMMENT_PLATFORMS}")
    parser = raw.get("parser")
    if not isinstance(parser, str) or not _parser_exists(parser):
        errs.append(f"parser {parser!r} is not 'generic', 'discussion' nor a module crawler.sites.<name> "
                    "with parse_article")
    pol = raw.get("politeness") or {}
    delay, conc = pol.get("download_delay"), pol.get("concurrency")
    if not isinstance(delay, (int, float)) or delay < MIN_DELAY:
        errs.append(f"politeness.download_delay must be a number >= {MIN_DELAY}")
    if not isinstance(conc, int) or not 1 <= conc <= MAX_CONCURRENCY:
        errs.append(f"politeness.concurrency must be an integer 1..{MAX_CONCURRENCY}")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        errs.append("title is required")
    max_pages = raw.get("max_pages")
    if max_pages is not None and (not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1):
        errs.append("max_pages must be a positive integer")
    if errs:
        raise SourceRegistryError("; ".join(errs))
    return Source(name=name, title=title.strip(), domains=tuple(domains), home=home, discovery=tuple(discovery),
                  comments=comments, parser=parser, download_delay=float(delay), concurrency=conc,
                  notes=str(raw.get("notes") or ""), max_pages=max_pages)


def _http_url(u) -> bool:
    if not isinstance(u, str):
        return False
    parts = urlsplit(u)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _parser_exists(name: str) -> bool:
    if name in ("generic", DISCUSSION):
        return True
    if not NAME.match(name):
        return False
    try:
        module = importlib.import_module(f"crawler.sites.{name}")
    except ImportError:
        return False
    return callable(getattr(module, "parse_article", None))


# -- host rewriting (tests and mirrors: serve a source from another origin) --------------------------------
def parse_base_override(value: str | None) -> dict[str, str]:
    """``"www.coindesk.com=http://127.0.0.1:8000,coindesk.com=http://127.0.0.1:8000"`` → {host: origin}."""
    out: dict[str, str] = {}
    for part in (value or "").split(","):
        part = part.strip()
        if not part:
            continue
        host, sep, origin = part.partition("=")
        host, origin = host.strip().lower(), origin.strip().rstrip("/")
        if not sep or not HOST.match(host) and host != "*" or not _http_url(origin):
            raise SourceRegistryError(f"base_override entry {part!r} must look like host=http://host:port")
        out[host] = origin
    return out


def rewrite_url(url: str, overrides: dict[str, str]) -> str:
    """The URL with its scheme://host[:port] replaced when its host is overridden; unchanged otherwise."""
    if not overrides:
        return url
    parts = urlsplit(url)
    origin = overrides.get((parts.hostname or "").lower())
    if origin is None:
        return url
    o = urlsplit(origin)
    return urlunsplit((o.scheme, o.netloc, parts.path, parts.query, parts.fragment))


# -- documentation ------------------------------------------------------------------------------------------
def render_markdown(registry: Registry | None = None) -> str:
    """``docs/sources.md`` (``python -m crawler.sites.sources > docs/sources.md``; a test keeps them equal)."""
    reg = registry or load_sources()
    out = [
        "# News sources",
        "",
        "Generated from `crawler/sites/sources.json` by `python -m crawler.sites.sources > docs/sources.md`; "
        "a test keeps this file equal to the registry. Crawl one source with "
        "`scrapy crawl news -a source=NAME -s CONTACT=you@example.org` (or `-a source=all`).",
        "",
        "Discovery kinds: `feed` (RSS/Atom), `sitemap` (sitemap or news sitemap, nested indexes followed), "
        "`wp_posts` (WordPress REST `/wp-json/wp/v2/posts`, the `link` of each post), `listing` (a section "
        "front: its headline links, `crawler/sites/listing.py`), `subreddit` (a subreddit's listing through the Reddit "
        "API at `REDDIT_API_ORIGIN`, pages followed through `after` up to `max_pages` or "
        "`REDDIT_LISTING_MAX_PAGES`; link posts join the linked page, self posts are their own article), "
        "`hn_search` (Hacker News stories from the Algolia API at `HN_ALGOLIA_URL`, `search_by_date`). Parser: `generic` (`crawler/sites/generic.py` and the "
        "host overrides in `crawler/sites/overrides.py`) or `discussion` (forum topics: the opening post becomes "
        "the article row without author, `crawler/sites/discussion.py`; replies are comments). Politeness: every request of a source shares "
        "the downloader slot `source:<name>` with the delay (seconds, randomised 0.5-1.5x by Scrapy) and "
        "concurrency below; robots.txt is obeyed. Paths marked *unverified* in the notes follow the "
        "publisher's platform conventions and must be checked before a first live run.",
        "",
        "| name | source | domains | discovery | comments | parser | delay / concurrency |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in reg.sources.values():
        disc = "<br>".join(f"{d.kind}: `{d.url}`" for d in s.discovery)
        out.append(f"| `{s.name}` | {s.title} | {', '.join(s.domains)} | {disc} | {s.comments} | {s.parser} | "
                   f"{s.download_delay:g} s / {s.concurrency} |")
    out += ["", "## Notes", ""]
    for s in reg.sources.values():
        out.append(f"- **{s.title}** (`{s.name}`): {s.notes or '-'}")
    out += [
        "",
        "## Archiving and replay (WARC)",
        "",
        "- `-s WARC_CAPTURE_DIR=DIR` on any crawl writes every response (robots.txt, feeds, pages, comment API "
        "JSON) with its request into gzip-per-record WARC/1.1 files `DIR/<WARC_PREFIX>-<time>-<serial>-<pid>."
        "warc.gz`, rotated at `WARC_MAX_SIZE` bytes; a file is named `*.warc.gz.open` until complete.",
        "- `scrapy crawl warc -a path=FILE_DIR_OR_GLOB` replays WARC files (ours or Common Crawl CC-NEWS) "
        "through the same navigation, parsers, comment adapters and pipelines, answering each request from "
        "the WARC by its original URL and never from the network (`warc/replay/missing_record`). Article rows "
        "get the record's WARC-Date as `fetched_at`.",
        "- Tests: `tests/test_sources.py` (registry, per-source fixtures replayed from WARCs, `news` against a "
        "local fixture site) and `tests/test_warc.py` (capture/replay round trip of the demo crawl).",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
