"""The registry of crypto assets (``registry.json`` next to this module), loaded and validated.

Each entry names one asset by the ticker written to the ``assets`` column and lists the ways texts refer to
it (see the file's ``about`` for the meaning of every field). :func:`load_registry` raises
:class:`AssetRegistryError` naming the first problem found (file, entry, field, what is allowed), so a bad
edit fails loudly instead of tagging half the corpus wrongly. ``ASSETS_REGISTRY`` points a crawl at another
file of the same shape.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from crawler.usage import UsageProblem

REGISTRY_PATH = Path(__file__).with_name("registry.json")
TICKER = re.compile(r"^[A-Z0-9]{2,10}$")
LANGUAGE = re.compile(r"^[a-z]{2}$")
LIST_FIELDS = ("names", "aliases", "cashtags", "ambiguous", "common_word_in", "not_after", "not_before", "related",
               "personal_names")
KNOWN_FIELDS = {"ticker", *LIST_FIELDS}


class AssetRegistryError(UsageProblem):
    pass


@dataclass(frozen=True)
class Asset:
    ticker: str
    names: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    cashtags: tuple[str, ...] = ()
    ambiguous: tuple[str, ...] = ()
    common_word_in: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    not_before: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # evidence for the ambiguous spellings (company, founders, products), no tag
    personal_names: tuple[str, ...] = ()  # ambiguous spellings that are also people's or characters' names

    @property
    def ticker_is_ambiguous(self) -> bool:
        return self.ticker in self.ambiguous


def parse_entry(raw, where: str) -> Asset:
    """One registry entry → :class:`Asset`, or :class:`AssetRegistryError` saying what is wrong."""
    if not isinstance(raw, dict):
        raise AssetRegistryError(f"{where}: an entry must be an object with a 'ticker'")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise AssetRegistryError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(KNOWN_FIELDS)}")
    ticker = raw.get("ticker")
    if not isinstance(ticker, str) or not TICKER.match(ticker):
        raise AssetRegistryError(f"{where}: ticker {ticker!r} is not valid; allowed: 2-10 capital letters "
                                 "or digits, e.g. 'BTC'")
    values = {}
    for name in LIST_FIELDS:
        v = raw.get(name, [])
        if not isinstance(v, list) or not all(isinstance(s, str) and s.strip() and s == s.strip() for s in v):
            raise AssetRegistryError(f"{where} ({ticker}): '{name}' must be a list of non-empty strings "
                                     "without surrounding spaces")
        values[name] = tuple(v)
    bad = [c for c in values["cashtags"] if not re.fullmatch(r"\$[A-Za-z0-9]{2,10}", c)]
    if bad:
        raise AssetRegistryError(f"{where} ({ticker}): cashtags {bad} are not valid; allowed: '$' and 2-10 "
                                 "letters or digits, e.g. '$BTC'")
    bad = [c for c in values["common_word_in"] if not LANGUAGE.match(c)]
    if bad:
        raise AssetRegistryError(f"{where} ({ticker}): common_word_in {bad} are not ISO 639-1 codes (e.g. 'es')")
    if not (values["names"] or values["aliases"] or values["cashtags"] or values["ambiguous"]):
        raise AssetRegistryError(f"{where} ({ticker}): no way to recognise it; give names, aliases, cashtags "
                                 "or ambiguous spellings")
    if (values["not_after"] or values["not_before"] or values["common_word_in"] or values["related"]) \
            and not values["ambiguous"]:
        raise AssetRegistryError(f"{where} ({ticker}): not_after/not_before/common_word_in/related apply to "
                                 "ambiguous spellings only, and it has none")
    bad = [c for c in values["personal_names"] if c not in values["ambiguous"]]
    if bad:
        raise AssetRegistryError(f"{where} ({ticker}): personal_names {bad} are not among its ambiguous spellings")
    return Asset(ticker, **values)


@dataclass(frozen=True)
class Registry:
    assets: tuple[Asset, ...]
    context_words: dict  # language -> tuple of words/phrases showing a sentence is about crypto markets


def parse_context_words(raw, where: str) -> dict:
    if not isinstance(raw, dict) or "en" not in raw:
        raise AssetRegistryError(f"{where}: 'context_words' must be an object of language -> list of words, "
                                 "with at least 'en'")
    out = {}
    for lang, words in raw.items():
        if not LANGUAGE.match(str(lang)) or not isinstance(words, list) or \
                not all(isinstance(w, str) and w.strip() for w in words):
            raise AssetRegistryError(f"{where}: context_words[{lang!r}] must be an ISO 639-1 code with a list "
                                     "of non-empty strings")
        out[lang] = tuple(words)
    return out


def load_registry(path: str | Path | None = None) -> Registry:
    path = Path(path) if path else REGISTRY_PATH
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AssetRegistryError(f"asset registry {path} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise AssetRegistryError(f"asset registry {path} is not valid JSON: {exc}") from None
    entries = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AssetRegistryError(f"asset registry {path}: expected an object with a non-empty 'assets' list")
    assets, seen, forms = [], set(), {}
    for i, raw in enumerate(entries):
        asset = parse_entry(raw, f"asset registry {path}, entry {i}")
        if asset.ticker in seen:
            raise AssetRegistryError(f"asset registry {path}, entry {i}: ticker {asset.ticker} listed twice")
        seen.add(asset.ticker)
        plain_ticker = () if asset.ticker_is_ambiguous else (asset.ticker,)
        for form in plain_ticker + asset.names + asset.aliases + asset.cashtags + asset.ambiguous:
            other = forms.setdefault(form.lower() if form not in asset.ambiguous else form, asset.ticker)
            if other != asset.ticker:
                raise AssetRegistryError(f"asset registry {path}, entry {i} ({asset.ticker}): {form!r} is "
                                         f"already a spelling of {other}; each spelling names one asset")
        assets.append(asset)
    return Registry(tuple(assets), parse_context_words(data.get("context_words"), f"asset registry {path}"))
