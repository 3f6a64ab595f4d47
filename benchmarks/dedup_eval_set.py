"""A labelled evaluation set for deduplication, generated — no third-party text.

Stories come from the demo-site generator (:mod:`crawler.demo_site.content`); the edits, boilerplate,
press releases and same-event rewrites below are written for this project. Every document belongs to a
``group``: documents of the same group are duplicates of each other (true pairs), all other pairs are
not. Kinds:

* ``original`` and ``exact`` (identical body on another site, maybe another headline),
* ``boilerplate`` (the partner's own intro line, footer and disclaimer around the same body),
* ``edited`` (paragraph added, a quote inserted, words changed, last paragraph cut — combined),
* ``press`` (one press release run by several outlets with their own intro and boilerplate),
* hard negatives, each in a group of its own: ``same_event`` (another story on the same coin, place and
  event from the same sentence bank), ``follow_up`` (a new story reusing one background paragraph of
  the original) and ``press_other`` (another release of the same company with the same "About" text).
"""
from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.demo_site import content as C  # noqa: E402

OUTLETS = ["chainwire.example", "ledgerpost.example", "satoshitimes.example", "blockbrief.example"]
UPDATES = [
    "Update: after publication, the operator said withdrawals had resumed for all but a small number of "
    "accounts, which it expects to clear by Friday once manual checks are complete.",
    "Update, 18:00 UTC: a second statement confirmed that no customer funds were lost and that an outside "
    "auditor has been asked to review the incident report before it is released.",
]
QUOTES = ['"We have seen this film before, and it usually ends with a quiet recovery," said a desk head in {place}.',
          '"Nobody on our team lost sleep over it," one {coin} developer told reporters on a call.']
INTROS = ["This story first appeared on Block Ledger Daily and is republished with permission.",
          "Syndicated content: the following article is shared by our news partner network."]
DISCLAIMER = ("Disclaimer: nothing on this site is investment advice. Crypto assets are volatile; do your own "
              "research before making any financial decision. Our partners may hold positions.")
SWAPS = [("Traders", "Investors"), ("analysts", "strategists"), ("week", "weekend"), ("spokesperson", "representative")]

RELEASE = [  # a sentence bank: each release draws its own sentences, as the story generator does
    "{company} today announced the launch of {product}, a {kind} built on {chain} for merchants in {city}.",
    "The service lets businesses accept digital asset payments and settle them in local currency within minutes.",
    "More than {n} merchants joined the pilot programme during the past quarter, according to the company.",
    "Fees start at {fee} percent per transaction, with volume discounts for larger firms.",
    '"Payments should feel boring, and that is exactly what we built," said {ceo}, chief executive of {company}.',
    "{product} supports refunds, partial captures and recurring billing from the first day.",
    "It connects to common point of sale systems through a single programming interface.",
    "A public test network is open to developers who want to try {product} before the general release.",
    "The company raised a new funding round earlier this year to pay for the expansion into {city}.",
    "Independent auditors reviewed the smart contracts behind {product} in a report published alongside the launch.",
    "Customers can choose between instant settlement and a cheaper end of day batch.",
    "{company} plans to add two more currencies and a mobile terminal application within six months.",
    '"Merchants in {city} asked for predictable costs, so pricing is flat and published," said {ceo}.',
    "Regulators in {city} granted the company a payment institution licence in the spring.",
    "Loyalty points and gift cards can be issued as tokens on {chain} and redeemed in any participating shop.",
    "The launch event drew payment providers, retailers and several local banks.",
]
ABOUT = ("About {company}: {company} builds payment infrastructure for merchants and financial institutions. "
         "Founded in {year}, the company is headquartered in {city} and employs more than two hundred people "
         "across four offices. Media contact: press office, {company}.")
COMPANIES = [("Kestrel Pay", "Mara Lindqvist", 2019), ("Orbitra", "Jonas Adeyemi", 2017),
             ("Tallyhash", "Sofia Marchetti", 2021), ("Northgate Ledger", "Ibrahim Castell", 2016)]


@dataclass
class EvalDoc:
    id: str
    group: str
    kind: str
    url: str
    title: str
    body: str
    published_at: datetime


def _story(i: int, seed: int) -> C.DemoArticle:
    return C.generate_article(i, random.Random(seed), 0, [0])


def _edit(paras: list[str], rng: random.Random, ctx: dict) -> list[str]:
    out = list(paras[:-1]) if rng.random() < 0.5 else list(paras)
    out.insert(rng.randrange(1, len(out)), rng.choice(UPDATES))
    k = rng.randrange(len(out))
    out[k] = out[k] + " " + rng.choice(QUOTES).format(**ctx)
    a, b = rng.choice(SWAPS)
    return [p.replace(a, b, 1) for p in out]


def story_group(i: int, rng: random.Random) -> list[EvalDoc]:
    art = _story(i, 1000 + i)
    ctx = {"coin": C.COINS[i % len(C.COINS)], "place": C.PLACES[(i * 7) % len(C.PLACES)]}
    g, t0, paras = f"story{i}", art.published, art.paragraphs
    o1, o2, o3 = rng.sample(OUTLETS, 3)
    docs = [EvalDoc(f"{g}-orig", g, "original", f"https://blockledger.example{art.path}", art.title,
                    "\n\n".join(paras), t0),
            EvalDoc(f"{g}-exact", g, "exact", f"https://{o1}{art.path}", "Republished: " + art.title,
                    "\n\n".join(paras), t0 + timedelta(hours=3)),
            EvalDoc(f"{g}-boiler", g, "boilerplate", f"https://{o2}/partner/{art.slug}/", art.title,
                    "\n\n".join([rng.choice(INTROS), *paras, C.PARTNER_FOOTER, DISCLAIMER]), t0 + timedelta(days=1)),
            EvalDoc(f"{g}-edit", g, "edited", f"https://{o3}/news/{art.slug}-updated/", art.title + " (updated)",
                    "\n\n".join(_edit(paras, rng, ctx)), t0 + timedelta(hours=5))]
    other = _story(i, 5000 + i)  # same coin, place and event, other sentences: a different article
    docs.append(EvalDoc(f"{g}-same-event", f"{g}-same-event", "same_event", f"https://{o1}/2026/{other.slug}-b/",
                        other.title, "\n\n".join(other.paragraphs), t0 + timedelta(hours=2)))
    follow = _story(i + 16, 9000 + i).paragraphs  # next story of the same coin, keeping one background paragraph
    docs.append(EvalDoc(f"{g}-follow", f"{g}-follow", "follow_up", f"https://{o2}/2026/{art.slug}-follow-up/",
                        "What happened next: " + art.title, "\n\n".join([*follow[:4], paras[2], follow[5]]),
                        t0 + timedelta(days=2)))
    return docs


def _release(company: str, ceo: str, year: int, city: str, product: str, chain: str, n: int,
             rng: random.Random) -> list[str]:
    ctx = {"company": company, "ceo": ceo, "year": year, "city": city, "product": product, "chain": chain,
           "kind": rng.choice(["payment gateway", "settlement layer", "merchant wallet"]), "n": n,
           "fee": f"0.{n % 9 + 1}"}
    picked = [p.format(**ctx) for p in [RELEASE[0], *rng.sample(RELEASE[1:], 8)]]
    return [" ".join(picked[0:3]), " ".join(picked[3:6]), " ".join(picked[6:9]), ABOUT.format(**ctx)]


def press_group(j: int, rng: random.Random) -> list[EvalDoc]:
    company, ceo, year = COMPANIES[j % len(COMPANIES)]
    city, chain = C.PLACES[(3 * j + j // 16) % len(C.PLACES)], C.COINS[(j * 5 + j // 16) % len(C.COINS)]
    product = f"{company.split()[0]} Checkout {j + 1}"
    body = _release(company, ceo, year, city, product, chain, 150 + 37 * j, rng)
    g, t0 = f"press{j}", datetime(2026, 10, 1, 9, tzinfo=C.BASE_TIME.tzinfo) + timedelta(days=j)
    docs = []
    for k, outlet in enumerate(OUTLETS[:3]):
        intro = [f"{outlet.split('.')[0].title()} publishes press releases as received."] if k else []
        tail = [DISCLAIMER] if k == 2 else []
        docs.append(EvalDoc(f"{g}-{outlet}", g, "press", f"https://{outlet}/press/{j}/", f"{product} launches",
                            "\n\n".join(intro + body + tail), t0 + timedelta(minutes=30 * k)))
    # the same company's next release: same "About" paragraph, same city, another product and text
    other = _release(company, ceo, year, city, f"{company.split()[0]} Terminal {j + 1}", chain, 90 + 11 * j, rng)
    docs.append(EvalDoc(f"{g}-other", f"{g}-other", "press_other", f"https://{OUTLETS[0]}/press/{j}-next/",
                        f"{company} launches a terminal", "\n\n".join(other), t0 + timedelta(days=40)))
    return docs


def build(n_stories: int = 48, n_press: int = 24, seed: int = 7) -> list[EvalDoc]:
    rng = random.Random(seed)
    docs = [d for i in range(n_stories) for d in story_group(i, rng)]
    return docs + [d for j in range(n_press) for d in press_group(j, rng)]


def true_pairs(docs: list[EvalDoc]) -> set[tuple[str, str]]:
    by_group: dict[str, list[str]] = {}
    for d in docs:
        by_group.setdefault(d.group, []).append(d.id)
    return {(a, b) for ids in by_group.values() for a in ids for b in ids if a < b}


if __name__ == "__main__":
    docs = build()
    kinds: dict[str, int] = {}
    for d in docs:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    print(f"{len(docs)} documents, {len(true_pairs(docs))} true duplicate pairs; by kind: {kinds}")
