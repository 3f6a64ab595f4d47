"""Asset tags: the matcher on the labelled own-words set, the registry's validation, and the `assets` column of a
real demo crawl."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from benchmarks.asset_tagging import HELDOUTS, LABELLED, load_set, score
from pipelines.assets.matching import AssetMatcher, tag_assets
from pipelines.assets.registry import AssetRegistryError, load_registry
from pipelines.assets.step import tag_records
from crawler.items import CommentRecord, ThreadRecord


@pytest.fixture(scope="module")
def matcher():
    return AssetMatcher(load_registry())


def test_labelled_set_precision_and_recall(matcher):
    s = score(load_set(LABELLED), matcher)
    assert s["labelled"] >= 100
    assert s["precision"] >= 0.95 and s["recall"] >= 0.9, s["errors"]


@pytest.mark.parametrize("path", HELDOUTS, ids=lambda p: p.name)
def test_precision_holds_on_every_held_out_set(matcher, path):
    # precision is the constraint kept on every set (recall on fresh sets is reported by the benchmark, not
    # asserted: the first measurement of each fresh set is the honest figure and it is below 0.9 on some)
    s = score(load_set(path), matcher)
    assert s["precision"] >= 0.95, s["errors"]


def test_clean_held_out_set_meets_the_goals(matcher):
    # heldout10 was written after the last rule change and committed before the tagger ran on it; its first
    # measurement (P 1.000, R 0.925) is the generalisation figure. Not to be used for tuning: a rule change
    # made from its errors needs a new fresh set, and this assertion then moves to that set.
    s = score(load_set(HELDOUTS[-1]), matcher)
    assert HELDOUTS[-1].name == "heldout10.jsonl"
    assert s["precision"] >= 0.95 and s["recall"] >= 0.9, s["errors"]


@pytest.mark.parametrize("text,lang,want", [
    ("NEO tokens rallied after the exchange listing.", "en", ["NEO"]),
    ("A neo-gothic tower overlooks the square.", "en", []),
    ("Follow the LINK to sign up for the newsletter.", "en", []),
    ("Chainlink pushed an update and LINK went nowhere.", "en", ["LINK"]),
    ("ONE day we will look back and laugh.", "en", []),
    ("El SOL calienta la arena de la playa.", "es", []),
    ("Compré 12 SOL ayer.", "es", ["SOL"]),
    ("The DOT approved the highway budget.", "en", []),
    ("Compound interest rewards patient savers.", "en", []),
    ("The market maker quoted tight spreads.", "en", []),
    ("Bitcoin Cash is not Bitcoin.", "en", ["BCH", "BTC"]),
    ("Price of NEO/USDT dipped.", "en", ["NEO"]),
    ("", "en", []),
])
def test_ambiguous_words(text, lang, want):
    assert tag_assets(text, lang) == want


# one case (or a pair: the rule and the ordinary English it must leave alone) per rule added after the first
# held-out measurement, by class of miss (the rules are described in pipelines/assets/matching.py)
@pytest.mark.parametrize("text,lang,want", [
    # context vocabulary: derivatives, chart reading, scaling, lending
    ("Open interest in DOT perpetuals doubled overnight.", "en", ["DOT"]),
    ("Traders watched whether ATOM would hold the support level.", "en", ["ATOM"]),
    ("Cosmos zones and their rollups share one security model.", "en", ["ATOM"]),
    ("Borrowers posted Ether as collateral on the lending desk.", "en", ["ETH"]),
    # payment construction
    ("The gallery priced the sculpture in ether.", "en", ["ETH"]),
    ("She paid the invoice in full and on time.", "en", []),
    # a unit noun right after the spelling; a numeral before a singular noun stays a count
    ("The studio handed out DOT tokens to early testers.", "en", ["DOT"]),
    ("Only ONE coin on the list went up.", "en", []),
    ("The team minted fresh ONE tokens for the grant.", "en", ["ONE"]),
    # several ambiguous spellings vouch for each other
    ("Stellar and Cosmos announced a joint grant programme.", "en", ["ATOM", "XLM"]),
    ("Put ONE DOT on the map for every school.", "en", []),
    # names of several words: each word in any case; plural of *coin names
    ("He still calls it bitcoin Cash in every post.", "en", ["BCH"]),
    ("A new chain launched on the OP stack this week.", "en", ["OP"]),
    ("My cousin lost two dogecoins in a phishing scam.", "en", ["DOGE"]),
    # pairs written as one symbol; quote side not counted
    ("LINKUSDT spiked on the futures board.", "en", ["LINK"]),
    ("The ETHBTC chart keeps sliding.", "en", ["ETH"]),
    # hyphenated compounds: crypto suffixes keep the spelling, ordinary compounds do not
    ("The desk offers DOT-margined contracts.", "en", ["DOT"]),
    ("A NEO-based wallet added hardware support.", "en", ["NEO"]),
    ("The one-off fee was waived.", "en", []),
    # a ticker in parentheses is no signal by itself (on general web pages it is mostly an acronym)
    ("The Department of Transportation (DOT) fined the hauler.", "en", []),
    ("Read our Accessibility Statement (ADA) before you book.", "en", []),
    # round 2 (from the second held-out set's misses): "chain" counts again, the idioms of "link" do not
    ("Validators of the ATOM chain upgraded overnight.", "en", ["ATOM"]),
    ("A broken LINK in the supply chain delayed the shipment.", "en", []),
    ("Her thesis found the missing LINK between the two theories.", "en", []),
    # percent spelled out; no conversion construction (on general web pages "convert it to ADA" is a language)
    ("ATOM slid 6 percent after the vote.", "en", ["ATOM"]),
    ("Then ask the model to convert the code to ADA.", "en", []),
    # round 3 (from the third held-out set's misses): an everyday word with market vocabulary counts beside
    # another asset, not alone; prices in words, after a movement verb and a preposition
    ("SAND and ATOM both rallied after the listing.", "en", ["ATOM", "SAND"]),
    ("GAS prices rose again and the market shrugged.", "en", []),
    ("LINK slipped below seven dollars.", "en", ["LINK"]),
    # round 4 (from the fourth held-out set's misses): everyday words vouch for each other; holder nouns;
    # German noun compounds
    ("GAS and ONE led the losers on the exchange today.", "en", ["GAS", "ONE"]),
    ("Put ONE DOT on the map for every school.", "en", []),
    # company means close by: a menu run together into one long "sentence" is not company
    ("Website Hosting ADA Compliance Services Media Production Video Production Photography Branding Logo "
     "Design Print Design Packaging Design Copywriting Content Strategy Email Campaigns Landing Pages CRO "
     "Services CRO Audits", "en", []),
    ("SAND whales have been selling into every bounce.", "en", ["SAND"]),
    ("Ether-Anleger verkauften am Freitag.", "de", ["ETH"]),
    ("The ether-soaked rag was thrown away.", "en", []),
    # round 5 (from the fifth held-out set's misses): price moves in Spanish, Portuguese, French, German;
    # network roles and chain mechanics as market vocabulary
    ("Ayer el SOL bajó un 4% frente al dólar.", "es", ["SOL"]),
    ("O SOL ganhou 6% na semana.", "pt", ["SOL"]),
    ("Le SOL a chuté de 10 % dans la nuit.", "fr", ["SOL"]),
    ("Le SOL de la cuisine est en carrelage.", "fr", []),
    ("Delegators moved their ATOM to smaller validators.", "en", ["ATOM"]),
    # round 6 (from the sixth held-out set's misses): English context words in the plural too; more
    # movement words; company within 60 characters
    ("Each DOT transaction settles in seconds.", "en", ["DOT"]),
    ("LINK slid with the other large caps.", "en", ["LINK"]),
    ("GAS is what every transfer on the NEO network costs.", "en", ["GAS", "NEO"]),
])
def test_rules_added_for_recall(text, lang, want):
    assert tag_assets(text, lang) == want


# precision rules from a check of the tags on general (non-crypto) web pages: own-words sentences of each
# class of false positive found there
@pytest.mark.parametrize("text,lang,want", [
    # unit words are no aliases: "lumens" of brightness (the asset's name keeps counting)
    ("The desk lamp gives 900 lumens of warm light.", "en", []),
    ("Stellar Lumens holders voted on the inflation pool.", "en", ["XLM"]),
    # tickers that are common acronyms need a signal like any ambiguous spelling
    ("DOGE staff met the agency's engineers on Monday.", "en", []),
    ("DOGE rallied 12% after the listing.", "en", ["DOGE"]),
    ("The ICP award went to a documentary photographer.", "en", []),
    # a lower-case name that is an ordinary word
    ("Hikers escape the tether of their phones.", "en", []),
    ("Tether minted another batch of stablecoins.", "en", ["USDT"]),
    # the end of a longer proper name, a product's model letter, a domain
    ("Reviewers liked the new Laptop Neo for its battery and said to buy it.", "en", []),
    ("I invested in a Compact Bread Maker last winter.", "en", []),
    ("I invested in a lens that the EOS R cannot keep up with.", "en", []),
    ("Charts are powered by Polygon.io and another data vendor.", "en", []),
    ("Cardano's ADA and Maker's DAI both rallied.", "en", ["ADA", "DAI", "MKR"]),
])
def test_rules_added_for_precision(text, lang, want):
    assert tag_assets(text, lang) == want


# round 7, by category of the misses of every held-out set's first measurement (registry completeness,
# company/founder/product evidence, possessives, price morphology, tickers with a market noun or a holder's
# verb); each with the ordinary text it must leave alone
@pytest.mark.parametrize("text,lang,want", [
    # more major assets; names of their companies tag them, related words are evidence only
    ("Kaspa and Bittensor both hit new highs.", "en", ["KAS", "TAO"]),
    ("Polygon Labs cut a third of its staff.", "en", ["MATIC"]),
    ("Brad Garlinghouse spoke at the conference.", "en", []),
    ("Ripple and its CEO Brad Garlinghouse spoke at the conference.", "en", ["XRP"]),
    ("Harmony's ONE token slid after the bridge exploit.", "en", ["ONE"]),
    ("The choir sang in close harmony for ONE night only.", "en", []),
    ("The camera has a 1inch sensor.", "en", []),
    ("Snapchat uses its AR technology for virtual try-ons reaching millions of buyers.", "en", []),
    ("The Procedural Knowledge Ontology supports governance of knowledge.", "en", []),
    # a capitalised name in the possessive is an organisation; not a personal name
    ("Ripple's lawyers filed another motion.", "en", ["XRP"]),
    ("Compound's interest rate model was updated by a vote.", "en", ["COMP"]),
    ("Neo's fight with the agents ends the film.", "en", []),
    # price moves: two words before the figure, a few lower-case words for a ticker, a share of its value
    ("ATOM is down 30% since the spring highs.", "en", ["ATOM"]),
    ("ONE bled another 9% as the bridge stayed paused.", "en", ["ONE"]),
    ("ONE of the five finalists said yes.", "en", []),
    ("SAND lost a third of its value as land sales dried up.", "en", ["SAND"]),
    # a ticker with a market noun right after (context, not a strong signal), a holder's verb before
    ("The DOT price chart looks like a staircase.", "en", ["DOT"]),
    ("GAS prices at the pump are up again.", "en", []),
    ("Vendí todos mis SOL cuando el precio tocó máximos.", "es", ["SOL"]),
    ("My UNI friends and I went to the same gym.", "en", []),
    ("Buy ONE get ONE free at the bakery.", "en", []),
    # a context word capitalised after a lower-case word is a proper name
    ("Neo meets the Oracle in a small apartment kitchen.", "en", []),
])
def test_rules_added_for_generalisation(text, lang, want):
    assert tag_assets(text, lang) == want


# round 8, by category of the misses of heldout8's first measurement (lower-case tickers in comments,
# title-case names of tickers, unit nouns of networks, ETFs), with the ordinary text each must leave alone
@pytest.mark.parametrize("text,lang,want", [
    ("sol is gonna flip eth this cycle", "en", ["ETH", "SOL"]),
    ("Tomamos el sol en la terraza mientras mirábamos el precio del bitcoin.", "es", ["BTC"]),
    ("Render tokens rallied with AI stocks.", "en", ["RENDER"]),
    ("Render the chart at full size before you export it.", "en", []),
    ("NEAR validators missed blocks during the upgrade.", "en", ["NEAR"]),
    ("TON wallets inside the messenger crossed 100 million users.", "en", ["TON"]),
    ("The SEC delayed its decision on a spot ether ETF.", "en", ["ETH"]),
    # a capitalised word right after a capitalised spelling continues a longer name (not a project's part)
    ("The new Neo Geo console sold out in an hour.", "en", []),
    ("Ondo State traders sold yams at the market.", "en", []),
    ("The Cosmos Hub voted down the inflation cut.", "en", ["ATOM"]),
])
def test_rules_added_from_heldout8(text, lang, want):
    assert tag_assets(text, lang) == want


# round 9, by category of the misses of heldout9's first measurement (movement verbs after a ticker, lower-case
# tickers with a figure or a holder's verb, holders-of constructions, possessive plus market vocabulary for an
# everyday word, percent words in other languages)
@pytest.mark.parametrize("text,lang,want", [
    ("DOT fell below its yearly low on Tuesday.", "en", ["DOT"]),
    ("ONE fell off the shelf.", "en", []),
    ("my ada bag is down 80% lol", "en", ["ADA"]),
    ("why is doge pumping again", "en", ["DOGE"]),
    ("Les détenteurs de SOL ont reçu un airdrop.", "fr", ["SOL"]),
    ("Le sol de la cuisine a reçu un nouveau carrelage.", "fr", []),
    ("Optimism's governance token fell 6%.", "en", ["OP"]),
    ("Optimism's critics say the economy is slowing.", "en", []),
    ("Ether legte um 5 Prozent zu.", "de", ["ETH"]),
    ("GAS prices at the pump jumped again.", "en", []),
])
def test_rules_added_from_heldout9(text, lang, want):
    assert tag_assets(text, lang) == want


def test_a_thread_title_is_context_for_its_comments(matcher):
    thread = ThreadRecord(thread_id="t", title="NEO tokens slide again")
    bare = CommentRecord(comment_id="b", thread_id="t", body_text="The NEO council met on Friday.", language="en")
    alone = CommentRecord(comment_id="c", thread_id="u", body_text="The NEO council met on Friday.", language="en")
    tag_records([thread, bare, alone], matcher)
    assert (bare.assets, alone.assets, thread.assets) == (["NEO"], [], ["NEO"])


def test_a_thread_is_the_document_for_its_comments(matcher):
    thread = ThreadRecord(thread_id="t")
    named = CommentRecord(comment_id="a", thread_id="t", body_text="NEO tokens are cheap right now.", language="en")
    bare = CommentRecord(comment_id="b", thread_id="t", body_text="The NEO council met on Friday.", language="en")
    alone = CommentRecord(comment_id="c", thread_id="u", body_text="The NEO council met on Friday.", language="en")
    gone = CommentRecord(comment_id="d", thread_id="t", is_tombstone=True)
    tag_records([thread, named, bare, alone, gone], matcher)
    assert (named.assets, bare.assets, alone.assets, gone.assets, thread.assets) == (["NEO"], ["NEO"], [], None, ["NEO"])


@pytest.mark.parametrize("entry,message", [
    ({"ticker": "btc", "names": ["Bitcoin"]}, "ticker 'btc' is not valid"),
    ({"ticker": "BTC"}, "no way to recognise it"),
    ({"ticker": "BTC", "names": ["Bitcoin"], "colour": "orange"}, "unknown field"),
    ({"ticker": "BTC", "cashtags": ["BTC"]}, "cashtags ['BTC'] are not valid"),
    ({"ticker": "SOL", "ambiguous": ["SOL"], "common_word_in": ["spanish"]}, "not ISO 639-1"),
    ({"ticker": "BTC", "names": ["Bitcoin"], "not_after": ["the"]}, "apply to ambiguous"),
    ({"ticker": "BTC", "names": ["Bitcoin"], "related": ["Satoshi"]}, "apply to ambiguous"),
    ({"ticker": "NEO", "ambiguous": ["NEO"], "personal_names": ["Neo"]}, "personal_names ['Neo'] are not among"),
])
def test_invalid_registry_entries_are_named(tmp_path, entry, message):
    path = tmp_path / "assets.json"
    path.write_text(json.dumps({"context_words": {"en": ["token"]}, "assets": [entry]}))
    with pytest.raises(AssetRegistryError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_registry(path)


def test_a_spelling_names_one_asset(tmp_path):
    path = tmp_path / "assets.json"
    path.write_text(json.dumps({"context_words": {"en": ["token"]}, "assets": [
        {"ticker": "AAA", "names": ["Same"]}, {"ticker": "BBB", "names": ["same"]}]}))
    with pytest.raises(AssetRegistryError, match="already a spelling of AAA"):
        load_registry(path)


def test_bundled_registry_covers_the_major_assets():
    tickers = {a.ticker for a in load_registry().assets}
    assert {"BTC", "ETH", "USDT", "SOL", "XRP", "NEO", "LINK", "DOT", "ONE", "COMP", "MKR"} <= tickers
    assert len(tickers) >= 120


def test_demo_crawl_tags_articles_comments_and_threads(demo_run):
    con = duckdb.connect()
    out = Path(demo_run.output)
    for t in ("articles", "threads", "comments"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{out}/{t}/*/*.parquet', hive_partitioning=1)")
    assert con.execute("SELECT typeof(assets) FROM comments LIMIT 1").fetchone()[0] == "VARCHAR[]"
    # the founding case: the Discourse replies about NEO are tagged NEO, and so is their thread
    neo = con.execute("SELECT count(*) FROM comments WHERE platform = 'discourse' AND body_text LIKE '%NEO%' "
                      "AND list_contains(assets, 'NEO')").fetchone()[0]
    assert neo >= 5
    # a thread's tags are its title's and the union of its comments' tags
    rows = con.execute("""SELECT t.thread_id, t.assets, t.title, list_sort(list_distinct(flatten(list(c.assets))))
                          FROM threads t JOIN comments c USING (thread_id) GROUP BY ALL""").fetchall()
    assert rows and all(sorted(a) == sorted(set(u or []) | set(tag_assets(title))) for _, a, title, u in rows)
    assert con.execute("SELECT count(*) FROM articles WHERE len(assets) > 0").fetchone()[0] >= 5
    assert demo_run.stats.get("assets/tagged/comments", 0) > 0
