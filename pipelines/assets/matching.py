"""Which crypto assets a text talks about: pure functions over the registry (:mod:`.registry`).

Rules, in order of confidence:

* **unambiguous spellings** count wherever they stand as whole words: names and aliases as written, in lower
  case or in capitals (``Bitcoin``, ``bitcoin``, ``BITCOIN``; in a name of several words each word in any of
  these casings: ``bitcoin Cash``, ``OP stack``; names ending in *coin* also in the plural: ``dogecoins``), tickers that are not ordinary words in any
  case (``BTC``, ``btc``), cashtags in any case (``$NEO``, ``$link``). The longest spelling wins at a place
  (``Bitcoin Cash`` is BCH, not BTC).
* **ambiguous spellings** (``NEO``/``Neo``, ``LINK``, ``ONE``, ``SOL``, ``DOT``, ``Compound``, ``Maker`` …)
  count only in exactly the registry's case, never as part of a hyphenated word (``neo-liberal``), never
  next to a registry ``not_after``/``not_before`` word (``market Maker``, ``Compound interest``), and only
  with a signal in the same sentence:

  - a *strong* signal: a quantity before it (``500 LINK``, ``1.2M DOT``), a price or percentage after it
    (``DOT at $5``, ``SOL +4%``), a trading pair (``NEO/USDT``, glued as exchanges write symbols:
    ``DOTUSDT``), a unit or holder noun right after it (``SAND tokens``, ``NEO coins``, ``DOT stakers``), a unit compound
    (``SOL-denominated``, ``ETH-margined``), or the same asset
    named unambiguously anywhere in the text (``Chainlink`` … ``LINK``);
  - a *weak* signal: a context word of the text's language or of English (``token``, ``staking``,
    ``futures``, ``rollups``, ``precio`` …) in the sentence or the one before or after it, a payment
    construction (``paid for it in ether``, ``priced in DOT``), another asset named unambiguously in the
    sentence (``BTC, ETH and LINK``), or another ambiguous spelling close by in the sentence (at most 60
    characters between them) that could itself count on a weak signal (``Maker raised the DAI savings
    rate``, ``LINK, DOT, ATOM``).

  - for a spelling in capitals (a ticker) also: a price or percentage a few lower-case words on (``ONE bled
    another 9%``), a share of its value lost or won (``SAND lost a third of its value``), a holder's verb
    before it (``sold all my LINK``, ``vendí todos mis SOL``) — strong; a market noun right after it (``DOT
    price``, ``LINK whales``) — weak (``GAS prices`` stays gasoline); a verb of price movement right after
    it (``DOT fell below its low``; not a numeral: ``ONE fell off``) — strong;
  - for a lower-case ticker as comments write it (``sol``, ``ada``, ``doge``: registry spellings), a figure
    a few words on, a holder's verb or a movement verb — strong; where the lower-case word is an everyday
    word of the text's language (``el sol``) only a strong signal counts;
  - holders of the asset before it (``holders of DOT``, ``les détenteurs de SOL``, ``los tenedores de``) —
    strong; network unit nouns after it (``NEAR validators``, ``TON wallets``, ``DOT ETFs``) — strong;
  - a capitalised name in the possessive (``Ripple's lawyers``, ``The Graph's curators``) is an organisation:
    a weak signal, except for spellings that are also personal names (``Neo's``: registry ``personal_names``);
  - a word *related* to the asset in the registry (its company, founders, products, sister tokens:
    ``Harmony`` for ONE, ``RippleNet`` for XRP, ``N3`` for NEO) anywhere in the text is a strong signal for
    its ambiguous spellings (never a tag on its own).

  A context word capitalised right after a lower-case word is a proper name, not vocabulary (``meets the
  Oracle``; not in German).

  A capitalised ambiguous spelling followed by another capitalised word starts a longer proper name
  (``Neo Geo``, ``Maker Faire``, ``Ondo State``) unless that word names a project's part (``Cosmos Hub``,
  ``Polygon Labs``, ``Ripple Network``) or an asset.

  A capitalised ambiguous spelling right after a capitalised word inside a sentence ends a longer proper
  name (``MacBook Neo``, ``Bread Maker``, ``Canon EOS``; not in German, where nouns are capitalised; a
  possessive is not a name: ``Cardano's ADA``), and one followed by ``.io``/``.com`` … is a domain
  (``Polygon.io``), and one followed by a model letter a product (``EOS R6``): none counts.

  A hyphen joins an ambiguous spelling into an ordinary word (``neo-liberal``, ``one-time``) except before
  a crypto suffix (``-based``, ``-denominated``, ``-backed`` …) and, in German, before a capitalised noun
  (``Ether-Kurs``: a compound that still needs a signal).

  In a language where the spelling is an everyday word (``common_word_in``), a weak signal is not enough on
  its own: the spelling counts when market vocabulary is near it *and* another asset is named close by in
  its sentence (``SAND and MANA both slumped``).

  In a comment thread, an asset that one comment names for sure is a strong signal for its ambiguous
  spellings in the other comments (``known``: the thread is the document).

  A strong signal is required where the spelling is an everyday word: in text of a language listed in the
  entry's ``common_word_in`` (``SOL`` in Spanish, ``ONE`` in English), and in sentences written all in
  capitals (for spellings in capitals) or in title case (for capitalised spellings), where case says
  nothing.

The quote side of a trading pair (``USDT`` in ``NEO/USDT``) is not counted. URLs and e-mail addresses are
ignored. The answer is a sorted list of tickers.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from .registry import Asset, Registry

_URLS = re.compile(r"(?:https?://|www\.)\S+", re.I)
_EMAILS = re.compile(r"\S+@\S+\.\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+|(?<=[;:])\s+")
_QUANTITY_BEFORE = re.compile(
    r"(?:\d[\d,.]*\s?(?:[kKmMbB]|bn|mn|mln|million|billion|thousand|mil|millones|milhões|Mio\.?)?|\$\d[\d,.]*)"
    r"\s+$")
_NUMBER_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|a\s+hundred|hundred)"
_PRICE_AFTER = re.compile(
    r"^(?:'s)?\s*(?:(?:a|ha|è|é|hat|ist)\s+)?"
    r"(?:(?:is|was|are|were|has|had|trades|traded|trading|hits?|up|down|off|higher|lower|rose|fell|jumped|"
    r"dropped|gained|lost|climbed|slid|bled|shed|added|dipped|spiked|popped|rebounded|recovered|retreated|"
    r"slumped|another|nearly|almost|about|roughly|just|over|more\s+than|less\s+than|"
    r"slipped|sank|surged|soared|plunged|tumbled|rallied|crashed|bounced|sits|sat|"
    r"sube|subió|subiu|sobe|baja|bajó|cae|cayó|caiu|cai|ganó|ganhou|perdió|perdeu|"  # es, pt
    r"grimpe|grimpé|chute|chuté|recule|reculé|bondit|bondi|gagné|perdu|"  # fr (after "a")
    r"steigt|stieg|gestiegen|fällt|fiel|gefallen|legte|verlor|verloren|salito|sceso|sale|scende)\s+){0,2}"  # de, it
    r"(?:@|(?:at|to|above|below|under|over|past|around|near|by|a|à|em|por|en|bei|auf|un|una|um|uma|de|du|di|"
    r"von|hasta|até|jusqu'à)(?!\w))?\s*"
    rf"(?:{_NUMBER_WORDS}\s+(?:dollars|cents|euros|bucks)\b|"
    r"\(?\s*[+\-−]?\s*\d[\d,.]*\s?(?:%|percent\b|per\s?cent\b|pct\b|Prozent\b|por\s?ciento\b|por\s?cento\b|"
    r"pour\s?cent\b|per\s?cento\b)|(?:\$|€|£|US\$|USD\s?)\s?\d|\d[\d,.]*\s?(?:\$|€|USD|dollars|dólares))")
# a spelling in capitals (a ticker): a price or percentage a few lower-case words on in its clause ("ONE bled
# another 9%"), a share of its value lost or won ("SAND lost a third of its value"), a market noun right after
# ("the SOL price", "LINK whales", "DOT staking rewards"), a holder's word right before ("my SOL", "vendí mis
# SOL", "bought more ATOM"); a name in the possessive ("Ripple's lawyers", "The Graph's curators") is an
# organisation (not for personal names: "Neo's")
_FIGURE_NEAR = re.compile(r"^(?:\s+[a-z]+){1,3}\s+(?:[+\-−]?\d[\d,.]*\s?(?:%|percent\b|per\s?cent\b)|(?:\$|€|£)\s?\d)")
_VALUE_SHARE_AFTER = re.compile(
    r"^\s+(?:has\s+|had\s+)?(?:lost|shed|gained|added|wiped\s+out|erased)\s+(?:almost\s+|nearly\s+|about\s+|over\s+)?"
    r"(?:half|a\s+third|a\s+quarter|a\s+fifth|a\s+tenth|two\s+thirds|three\s+quarters)\s+(?:of\s+)?(?:its|their)\s+value\b")
_MARKET_NOUN_AFTER = re.compile(
    r"^\s+(?:price|prices|chart|charts|market\s+cap|supply|staking|rewards|futures|ETFs?|whales|bulls|bears|"
    r"rally|airdrop|unlocks?|tokenomics|perps|holdings|bags|longs|shorts)\b")
_HOLDING_BEFORE = re.compile(
    r"(?<!\w)(?:(?:bought|sold|staked|staking|swapped|accumulating|accumulated|shorted|shorting|longed|hodling|"
    r"hodl|dumped|compré|vendí|compró|vendió|comprei|vendi|comprou|vendeu|achète|acheté|vendu|gekauft|verkauft)"
    r"(?:\s+(?:all|some|more|of|my|our|your|their|todos|todas|mis|sus|os|as|meus|minhas|seus|mes|meine|meinen))*"
    r"|all\s+(?:my|our|your|their)|todos\s+(?:mis|sus)|todos\s+os\s+(?:meus|seus)|tous\s+mes|alle\s+meine)\s+$",
    re.I)
# a ticker followed by a verb of price movement ("DOT fell below its low"): market talk
_MOVE_AFTER = re.compile(r"^\s+(?:fell|rose|climbed|dropped|jumped|surged|slid|sank|plunged|tumbled|rallied|soared|"
                         r"spiked|dipped|slumped|rebounded|bounced|crashed|pumped|dumped|popped|slipped|bled|"
                         r"is\s+(?:pumping|dumping|mooning|crashing|bleeding|rallying))\b")
# holders of the asset, in the languages with price moves: "holders of DOT", "les détenteurs de SOL"
_HOLDERS_OF_BEFORE = re.compile(r"(?<!\w)(?:holders|owners|détenteurs|titulaires|tenedores|poseedores|titulares|"
                                r"detentores|Besitzer|Inhaber|possessori|detentori)\s+(?:of|de|del|d['’]|du|des|do|da|"
                                r"dos|von|di|dei)\s*$")
_POSSESSIVE_AFTER = re.compile(r"^['’]s?(?!\w)")
_QUOTES = "USDT|USDC|BUSD|USD|BTC|ETH|EUR|KRW|JPY"
_GLUED_QUOTES = ("USD", "BTC", "ETH", "EUR", "KRW", "JPY")  # every quote of _QUOTES contains one
_PAIR_AFTER = re.compile(rf"^[/-](?:{_QUOTES})\b")
_PAIR_BEFORE = re.compile(r"(?:USDT|USDC|USD|BTC|ETH|EUR)/$")
_UNIT_AFTER = re.compile(r"^\s+(?:tokens?|coins?|Token|Coins?|holders?|stakers?|whales|hodlers|bagholders|validators?|transactions|"
                         r"wallets?|nodes?|miners?|delegators?|ETFs?|futures|perps|airdrops?)\b")
# hyphenated crypto compounds: the first group makes the spelling a unit of account (a strong signal), the
# second only keeps the hyphen from making it an ordinary word
_UNIT_COMPOUND = re.compile(r"^-(?:denominated|margined|settled|pegged|backed|collateralized|collateralised)\b", re.I)
_CRYPTO_COMPOUND = re.compile(r"^-(?:based|powered|native|staking|holders?|stakers?|rewards?|price|pairs?)\b", re.I)
_PAYMENT_BEFORE = re.compile(
    r"\b(?:paid|pay|pays|paying|priced|denominated|payable|settled|donated|accepts?|accepted)\b"
    r"[^.!?;]{0,40}?\bin\s+$", re.I)
_DOMAIN_AFTER = re.compile(r"^\.(?:io|com|org|net|ai|co|xyz|finance|app|dev)\b", re.I)
_MODEL_AFTER = re.compile(r"^\s[B-HJ-Z]\d{0,3}\b(?!['’])")  # a model letter: EOS R, EOS R6 (not "I", "A")
# a capitalised word right after a capitalised spelling continues a longer proper name (Neo Geo, Maker Faire,
# Ondo State), unless it is a word that names a crypto project's parts (Cosmos Hub, Polygon Labs)
_CAPITALISED_AFTER = re.compile(r"^ ([A-Z][a-z][\w-]*)")
_PROJECT_WORDS = {"Foundation", "Labs", "Network", "Networks", "Protocol", "Finance", "Chain", "Chains", "Token",
                  "Tokens", "Coin", "Coins", "Hub", "Wallet", "Ecosystem", "Mainnet", "Testnet", "Blockchain",
                  "Community", "Team", "Core", "Price", "Prices", "Holders", "Staking", "Treasury", "Governance"}
_CAPITALISED_BEFORE = re.compile(r"(?<![\w'’])[A-Z][\w&.-]*\s$")  # "Sun's TRON" (a possessive) does not match
_LEAD_CHARS = " \t\"'“”‘’«»([{-–—*•#0123456789.,:;"
_WORD_BEFORE = re.compile(r"([\w]+)[\s\-]*$")
_WORD_AFTER = re.compile(r"^[\s\-]*([\w]+)")
_LETTERS = re.compile(r"[^\W\d_]")
_WORDS4 = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class Form:
    ticker: str
    ambiguous: bool
    asset: Asset


def _variants(form: str) -> set[str]:
    """A name as written, in lower case, in capitals; in a name of several words each word in any of these
    casings or capitalised (``Bitcoin Cash``, ``bitcoin Cash``, ``OP stack``); a name ending in *coin* also
    in the plural (``dogecoins``)."""
    words = form.split(" ")
    out = {""}
    for w in words:
        casings = {w, w.lower(), w.upper()} | ({w[:1].upper() + w[1:].lower()} if len(words) > 1 else set())
        out = {f"{o} {c}" if o else c for o in out for c in casings}
    if form.lower().endswith("coin"):
        out |= {f + ("S" if f.isupper() else "s") for f in out}
    return out


def _inflected(word: str) -> set[str]:
    """An English context word with its plural (validator → validators) or, for a long plural, its singular
    (transactions → transaction); short plurals keep their form (bears is not bear). Other languages
    inflect differently and list their forms."""
    if not (word.isalpha() and word.islower()):
        return {word}
    if word.endswith("s") and len(word) >= 8:
        return {word, word[:-1]}
    return {word, word + "s"}


def trie_regex(words) -> str:
    """A regex matching exactly ``words``, longest first at each place, as a trie of characters."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie) or "(?!)"


_COMPANY_GAP = 60  # characters between two spellings that keep each other company
_NOUNS_CAPITALISED = {"de", "lb"}
_NUMERALS = {"one", "two", "ten", "uno", "un", "une", "ein", "eine", "um", "uma"}
_WEAK = "weak"  # an ambiguous spelling that would count with one more weak signal
_EVERYDAY = "everyday"  # an everyday word with market vocabulary around it: counts beside another asset


class AssetMatcher:
    """Compiled from a :class:`~.registry.Registry`; ``tag(text, language)`` gives the sorted tickers."""

    def __init__(self, registry: Registry):
        self.registry = registry
        forms: dict[str, Form] = {}
        for a in registry.assets:
            plain = set()
            if not a.ticker_is_ambiguous:
                plain |= {a.ticker, a.ticker.lower(), a.ticker.title()}
            for f in a.names + a.aliases:
                plain |= _variants(f)
            for f in a.cashtags:
                plain |= {f, "$" + f[1:].lower(), "$" + f[1:].title()}
            for f in plain:
                forms.setdefault(f, Form(a.ticker, False, a))
            written = {a.ticker, *a.names, *a.aliases, *a.cashtags}
            for f in a.ambiguous:
                if f not in written and f in forms and forms[f].ticker == a.ticker:
                    forms[f] = Form(a.ticker, True, a)  # "tether": a casing of the name that is an ordinary word
                else:
                    forms.setdefault(f, Form(a.ticker, True, a))  # an exact-case unambiguous spelling wins
        self.forms = forms
        tickers = sorted({a.ticker for a in registry.assets}, key=lambda t: (-len(t), t))
        # exchange symbols written without a separator (DOTUSDT, ETHBTC): read as the pair DOT/USDT
        self.glued_pair = re.compile(rf"(?<![\w$])({trie_regex(tickers)})({_QUOTES})(?!\w)")
        # one alternation of the unambiguous spellings matched without regard to case (they count in any case;
        # a smaller alternation than all their casings, so faster), then the ambiguous ones in exact case;
        # longest first within each (a trie: Python's re tries a flat alternation of ~500 spellings at
        # every position, five times slower). No ambiguous spelling equals another asset's unambiguous one but for case (checked); an ambiguous
        # casing of an asset's own name ("tether") is found by form_of before the case-insensitive entry.
        self.plain = {f.lower(): form for f, form in forms.items() if not form.ambiguous}
        exact = {f for f, form in forms.items() if form.ambiguous}
        clash = sorted(f for f in exact if f.lower() in self.plain and self.plain[f.lower()].ticker != forms[f].ticker)
        if clash:
            raise ValueError(f"ambiguous spellings {clash} equal unambiguous ones but for case")
        self.pattern = re.compile(rf"(?<![\w$])(?:(?i:{trie_regex(self.plain)})(?!\w)|{trie_regex(exact)}(?!\w))")
        # related words (company, founders, products): evidence for the asset's ambiguous spellings, no tag;
        # looked for only for the assets whose ambiguous spellings are still unsettled (a substring test first)
        self.related = {a.ticker: [(w, re.compile(rf"(?<![\w$]){re.escape(w)}(?!\w)")) for w in a.related]
                        for a in registry.assets if a.related}
        # each language's context words as one trie, matched without regard to case (a flat alternation of
        # ~250 words is tried at every position, several times slower)
        self.context = {lang: re.compile(r"(?<!\w)(?:" + trie_regex(
            {f for w in words for f in (_inflected(w) if lang == "en" else {w})}) + r")(?!\w)", re.I)
            for lang, words in registry.context_words.items()}

    def form_of(self, spelling: str) -> Form:
        """The registry form a matched spelling stands for."""
        return self.forms.get(spelling) or self.plain[spelling.lower()]

    def tag(self, text: str | None, language: str | None = None, known: frozenset | set = frozenset()) -> list[str]:
        """Sorted tickers ``text`` talks about. ``known``: tickers the surrounding document (the comment's
        thread) already names for sure, which count as a strong signal for their ambiguous spellings."""
        if not text:
            return []
        return self.tag_spellings(*self.spellings(text), language, known)

    def spellings(self, text: str) -> tuple[str, list]:
        """The text as the rules read it (URLs and e-mail addresses blanked, glued pairs split: DOTUSDT ->
        DOT/USDT) and the registry spellings found in it, ``(start, end, Form)``, the quote side of a trading
        pair left out. Depends on the text only, so one comment's spellings serve both passes of a thread
        (:func:`pipelines.assets.step.tag_entries`)."""
        if "://" in text or "www." in text.lower():  # _URLS can match nowhere else (cheap test first)
            text = _URLS.sub(lambda m: " " * len(m.group()), text)
        if "@" in text:
            text = _EMAILS.sub(lambda m: " " * len(m.group()), text)
        if any(q in text for q in _GLUED_QUOTES):  # a glued pair ends in one of these (exact case)
            text = self.glued_pair.sub(lambda m: m.group(1) + "/" + m.group(2), text)
        hits, last_end = [], -2
        for m in self.pattern.finditer(text):
            if m.start() == last_end + 1 and text[last_end] in "/-" and hits:
                last_end = m.end()  # the quote side of a trading pair (NEO/USDT): the text is about NEO
                continue
            hits.append((m.start(), m.end(), self.form_of(m.group())))
            last_end = m.end()
        return text, hits

    def tag_spellings(self, text: str, hits: list, language: str | None = None,
                      known: frozenset | set = frozenset()) -> list[str]:
        """:meth:`tag` on what :meth:`spellings` found in the text."""
        if not hits:
            return []
        found = {f.ticker for _, _, f in hits if not f.ambiguous}
        found |= {f.ticker for _, _, f in hits if f.ambiguous and f.ticker in known}
        if all(not f.ambiguous or f.ticker in found for _, _, f in hits):
            return sorted(found)
        starts, ends = sentence_spans(text)
        by_sentence: dict[int, set[str]] = {}
        for s, _, f in hits:
            if not f.ambiguous:
                by_sentence.setdefault(bisect.bisect_right(starts, s) - 1, set()).add(f.ticker)
        lang = (language or "").split("-")[0].lower()
        related = {t for t in {f.ticker for _, _, f in hits if f.ambiguous and f.ticker not in found}
                   if any(w in text and p.search(text) for w, p in self.related.get(t, ()))}
        verdicts = []  # (sentence index, start, end, ticker, verdict) of each ambiguous spelling not yet settled
        for s, e, f in hits:
            if not f.ambiguous or f.ticker in found:
                continue
            i = bisect.bisect_right(starts, s) - 1
            sentence = text[starts[i]:ends[i]]
            nearby = text[starts[max(0, i - 1)]:ends[min(len(ends) - 1, i + 1)]]
            verdicts.append((i, s, e, f.ticker, self._ambiguous_counts(
                text, s, e, f, sentence, nearby, lang, by_sentence.get(i, set()), text[starts[i]:s], related)))
        found |= {t for _, _, _, t, v in verdicts if v is True}
        # a spelling that only lacks a weak signal counts in the company of another asset's spelling close by
        # in its sentence that could itself count on one (Maker raised the DAI ...; LINK, DOT, ATOM); an
        # everyday word (ONE, GAS, SAND in English) with market vocabulary around it counts in the company of
        # any other asset close by (SAND and MANA both slumped; ONE and NEAR were the worst performers ...).
        # Close by: a menu or a list of services run together into one "sentence" is not company.
        sure = [(bisect.bisect_right(starts, s) - 1, s, e, f.ticker) for s, e, f in hits if not f.ambiguous]
        weak_company = [(i, s, e, t) for i, s, e, t, v in verdicts if v is True or v == _WEAK]
        any_company = weak_company + sure + [(i, s, e, t) for i, s, e, t, v in verdicts if v == _EVERYDAY]
        for i, s, e, t, v in verdicts:
            pool = weak_company if v == _WEAK else any_company if v == _EVERYDAY else ()
            if any(j == i and u != t and (0 <= s - e2 <= _COMPANY_GAP or 0 <= s2 - e <= _COMPANY_GAP)
                   for j, s2, e2, u in pool):
                found.add(t)
        return sorted(found)

    def _ambiguous_counts(self, text: str, s: int, e: int, f: Form, sentence: str, nearby: str, lang: str,
                          sure_here: set[str], lead: str = "", related: set[str] = frozenset()):
        """True (counts), False (does not), ``_WEAK`` (would count with one more weak signal) or ``_EVERYDAY``
        (an everyday word of the language with market vocabulary nearby: counts beside another asset)."""
        spelling, before, after = text[s:e], text[max(0, s - 60):s], text[e:e + 40]
        pair = bool(_PAIR_AFTER.match(after) or _PAIR_BEFORE.search(before))
        unit_compound = bool(_UNIT_COMPOUND.match(after))
        noun_compound = lang == "de" and after[:1] == "-" and after[1:2].isupper()  # Ether-Kurs, DOT-Token
        if not (pair or unit_compound or noun_compound or _CRYPTO_COMPOUND.match(after)) and (
                after[:1] == "-" and after[1:2].isalpha() or before[-1:] == "-" and before[-2:-1].isalpha()):
            return False  # part of a hyphenated word: neo-liberal, one-time
        if _DOMAIN_AFTER.match(after) or _MODEL_AFTER.match(after):
            return False  # Polygon.io: a company's domain name; Canon EOS R6: a product's model name
        if spelling[:1].isupper() and lang not in _NOUNS_CAPITALISED:
            name = _CAPITALISED_BEFORE.search(lead)
            if name and lead[:name.start()].strip(_LEAD_CHARS):
                return False  # the end of a longer proper name mid-sentence: MacBook Neo, Bread Maker, Canon EOS
            if not spelling.isupper():
                more = _CAPITALISED_AFTER.match(after)
                if more and more.group(1) not in _PROJECT_WORDS and more.group(1).lower() not in self.plain:
                    return False  # the start of a longer proper name: Neo Geo, Maker Faire, Ondo State
        prev, nxt = _WORD_BEFORE.search(before), _WORD_AFTER.match(after)
        if prev and prev.group(1).lower() in {w.lower().rstrip("-") for w in f.asset.not_after}:
            return False
        if nxt and nxt.group(1).lower() in {w.lower() for w in f.asset.not_before}:
            return False
        if f.ticker in related:
            return True  # the text names its company, founder or product (Harmony's ONE token; RippleNet)
        unit = _UNIT_AFTER.match(after)
        if unit and spelling.lower() in _NUMERALS and not unit.group().rstrip().endswith("s"):
            unit = None  # "ONE token" is a count (one token), "ONE tokens" a name
        strong = pair or unit_compound or bool(unit or _QUANTITY_BEFORE.search(before) or _PRICE_AFTER.match(after))
        if strong:
            return True
        if case_says_nothing(spelling, sentence, lang):
            return False
        if _HOLDERS_OF_BEFORE.search(before):
            return True
        if spelling.isupper() and (_FIGURE_NEAR.match(after) or _VALUE_SHARE_AFTER.match(after)
                                   or spelling.lower() not in _NUMERALS and (_HOLDING_BEFORE.search(before)
                                                                             or _MOVE_AFTER.match(after))):
            return True
        if spelling.islower() and lang not in f.asset.common_word_in and (
                _FIGURE_NEAR.match(after) or _HOLDING_BEFORE.search(before) or _MOVE_AFTER.match(after)):
            return True  # a lower-case ticker as comments write it: "my ada bag is down 80%", "doge is pumping"
        # a market noun after a ticker ("SOL price") or a name in the possessive: as good as context words
        possessive = bool(not spelling.isupper() and spelling not in f.asset.personal_names
                          and _POSSESSIVE_AFTER.match(after))
        market_noun = bool(spelling.isupper() and _MARKET_NOUN_AFTER.match(after))
        context = any(has_context(p, nearby, lang) for p in (self.context.get("en"), self.context.get(lang))
                      if p is not None)
        if lang in f.asset.common_word_in:  # an everyday word in lower case ("el sol") needs a strong signal
            if context and possessive:
                return True  # two signals: "Optimism's governance token"
            return _EVERYDAY if (context or possessive or market_noun) and not spelling.islower() else False
        if sure_here - {f.ticker} or _PAYMENT_BEFORE.search(before) or context or possessive or market_noun:
            return True
        return _WEAK


_MID_SENTENCE = re.compile(r"[a-z,]\s+$")


def has_context(pattern: re.Pattern, text: str, lang: str = "") -> bool:
    """A context word in ``text``; one capitalised after a lower-case word is a proper name, not vocabulary
    ("meets the Oracle", "at Exchange Street"), except in German, where every noun is capitalised."""
    m = pattern.search(text)
    while m:
        w = m.group()
        if (lang in _NOUNS_CAPITALISED or not w[:1].isupper() or w.isupper()
                or not _MID_SENTENCE.search(text, max(0, m.start() - 20), m.start())):
            return True
        m = pattern.search(text, m.end())
    return False


def case_says_nothing(spelling: str, sentence: str, lang: str = "") -> bool:
    """True when the sentence's own casing hides whether ``spelling`` is a name: capitals in a shouted
    sentence, a capitalised word in a title-case headline (not in German, where every noun is capitalised
    and a sentence of nouns looks like a headline)."""
    if spelling.isupper():
        letters = _LETTERS.findall(sentence)
        return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6
    if spelling[:1].isupper() and lang not in _NOUNS_CAPITALISED:
        words = _WORDS4.findall(sentence)
        return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) >= 0.7
    return False


def sentence_spans(text: str) -> tuple[list[int], list[int]]:
    starts, ends = [0], []
    for m in _SENTENCE_END.finditer(text):
        ends.append(m.start())
        starts.append(m.end())
    ends.append(len(text))
    return starts, ends


_DEFAULT: AssetMatcher | None = None


def default_matcher() -> AssetMatcher:
    global _DEFAULT
    if _DEFAULT is None:
        from .registry import load_registry

        _DEFAULT = AssetMatcher(load_registry())
    return _DEFAULT


def tag_assets(text: str | None, language: str | None = None) -> list[str]:
    """Tickers the text talks about, with the bundled registry."""
    return default_matcher().tag(text, language)
