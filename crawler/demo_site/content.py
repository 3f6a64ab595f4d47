"""Text of the built-in demo site, written for this project (no third-party text).

Articles are generated deterministically from a seed: each story picks a coin, a place and an event
and strings together sentences written here, so every article is distinct while the site stays
reproducible. A few hand-written stories cover the awkward cases (a non-English article, mojibake,
a quote-heavy comment thread).
"""
from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

COINS = ["Bitcoin", "Ether", "Solana", "NEO", "Cardano", "Litecoin", "Polkadot", "Avalanche", "Tron",
         "Chainlink", "Monero", "Dogecoin", "Cosmos", "Algorand", "Tezos", "Stellar"]
PLACES = ["Texas", "Singapore", "Lagos", "Buenos Aires", "Seoul", "Zurich", "Nairobi", "Dubai", "Lisbon",
          "Jakarta", "Toronto", "Warsaw", "Manila", "Istanbul", "Oslo", "Lima"]
EVENTS = ["exchange outage", "token unlock", "network upgrade", "mining difficulty jump", "stablecoin depeg",
          "custody license", "ETF filing", "bridge exploit", "validator slashing", "fee spike",
          "airdrop dispute", "treasury purchase", "tax ruling", "payment pilot", "halving countdown",
          "liquidity crunch"]
SECTIONS = ["Markets", "Policy", "Technology", "Mining", "DeFi", "Business"]
AUTHORS = ["Dana Reyes", "Tomasz Wierzbicki", "Amara Okafor", "Lena Fischer", "Hiro Tanaka", "Priya Natarajan",
           "Mateo Alvarez", "Grace Whitfield"]

OPENERS = [
    "Traders in {place} woke up to a {event} that pushed {coin} into the headlines again.",
    "A {event} involving {coin} dominated conversations among desks in {place} this week.",
    "Local operators in {place} say the latest {event} tested how much stress {coin} can absorb.",
    "The {event} that hit {coin} on Tuesday began, by most accounts, with a quiet announcement from {place}.",
]
MIDDLES = [
    "Order books thinned out within minutes, and spreads on the main {coin} pairs widened to levels not seen since spring.",
    "Analysts who track on-chain flows counted an unusual number of wallets moving {coin} toward exchanges.",
    "One market maker described the session as orderly but nervous, with buyers stepping in at round numbers.",
    "Regulators in {place} declined to comment on the {event}, saying only that they monitor the situation.",
    "Developers behind {coin} published a short note explaining which nodes were affected and for how long.",
    "Funding rates on perpetual contracts flipped negative, a sign that short sellers were paying to stay in.",
    "Several payment firms in {place} paused {coin} withdrawals while they reconciled balances.",
    "Retail interest, measured by app downloads and search traffic, rose modestly rather than exploding.",
    "A spokesperson for a large custodian said client assets were never at risk during the {event}.",
    "Miners and validators reported that block production continued normally throughout the episode.",
    "Some investors used the dip to add to long-term positions, according to brokers in {place}.",
    "Critics argued that the {event} showed how concentrated {coin} liquidity has become on a handful of venues.",
    "Options traders bought protection for the coming month, lifting implied volatility on {coin}.",
    "The episode revived an old debate about whether {coin} governance can react quickly enough to shocks.",
    "Lawyers in {place} expect the {event} to feature in upcoming consultations on digital asset rules.",
    "Transaction fees briefly tripled as users rushed to move funds between wallets and exchanges.",
    "A research note circulated on Wednesday compared the {event} with a similar scare two years ago.",
    "Small businesses that accept {coin} in {place} said their customers barely noticed the disruption.",
]
CLOSERS = [
    "Whether the calm holds will depend on how quickly the underlying questions about the {event} are answered.",
    "For now, {coin} holders in {place} appear more curious than alarmed.",
    "The next test comes when monthly contracts expire at the end of the week.",
    "Observers will watch the next governance call closely for any change of course.",
]
COMMENT_LINES = [
    "I have been holding {coin} since the last cycle and this {event} does not worry me much.",
    "Does anyone know whether the {event} affected withdrawals from the smaller exchanges too?",
    "This is exactly why self custody matters. Keep your keys off the venues.",
    "The article skips over the fee angle, which was the real story for people moving {coin} that day.",
    "Good summary. I would add that liquidity in {place} has been thin for months already.",
    "Honestly the market shrugged this off faster than I expected.",
    "Source for the wallet numbers? I could not find the research note anywhere.",
    "People said the same thing last time and {coin} recovered within a week.",
    "Regulators will use the {event} as an excuse, mark my words.",
    "Nice.",
    "+1",
    "Thanks for writing this up, very clear explanation of what happened.",
]


@dataclass
class DemoComment:
    native_id: int
    parent: int  # 0 for top level
    author: str
    html: str  # comment content as rendered HTML
    date: datetime
    deleted: bool = False


class DrawnParagraphs(Sequence):
    """A generated story's paragraphs as the generator's draws (a few small integers), rendered on each read:
    a site of 20,000 stories holds 20,000 of these instead of 120,000 strings. Reads like a list."""

    __slots__ = ("i", "ctx", "opener", "mids", "closer")

    def __init__(self, i: int, ctx: dict, opener: int, mids: tuple[int, ...], closer: int):
        self.i, self.ctx, self.opener, self.mids, self.closer = i, ctx, opener, mids, closer

    def _render(self) -> list[str]:
        ctx, mids = self.ctx, [MIDDLES[m] for m in self.mids]
        return [
            _fill(OPENERS[self.opener], ctx) + " " + _fill(mids[0], ctx),
            " ".join(_fill(m, ctx) for m in mids[1:3]),
            " ".join(_fill(m, ctx) for m in mids[3:5]),
            " ".join(_fill(m, ctx) for m in mids[5:7]),
            " ".join(_fill(m, ctx) for m in mids[7:9]) + f" Story reference {self.i + 1}.",
            _fill(CLOSERS[self.closer], ctx),
        ]

    def __getitem__(self, k):
        return self._render()[k]

    def __len__(self) -> int:
        return 6

    def __iter__(self):
        return iter(self._render())

    def __add__(self, other) -> list[str]:
        return self._render() + list(other)

    def __radd__(self, other) -> list[str]:
        return list(other) + self._render()

    def __eq__(self, other) -> bool:
        return list(self) == list(other)


@dataclass
class CommentSpec:
    """A generated thread in a few bytes per comment: what the generator drew, from which the comments are
    rebuilt on every read (so a site of a million comments holds arrays, not a million objects)."""

    first_id: int
    ctx: dict
    parents: array  # index of each comment's parent in the thread, -1 for top level
    extras: array  # index into COMMENT_LINES[:9] of a second sentence, -1 for none


@dataclass
class DemoArticle:
    post_id: int
    slug: str
    title: str
    paragraphs: list[str]
    author: str
    published: datetime
    section: str
    tags: list[str]
    lang: str = "en"
    stored_comments: list[DemoComment] | None = None  # comments set explicitly (hand-written or changed)
    comment_spec: CommentSpec | None = None  # generated comments, rebuilt on each read
    summary: str = ""
    rest_enabled: bool = True
    modified: datetime | None = None
    rest_status: int | None = None  # set to make the comments API fail (tests of flaky revisits)
    rest_per_page: int | None = None  # this story's site caps REST pages lower than WordPress's 100

    @property
    def path(self) -> str:
        return f"/{self.published:%Y/%m}/{self.slug}/"

    @property
    def comments(self) -> list[DemoComment] | tuple[DemoComment, ...]:
        """The thread. Generated threads are rebuilt on each read and come as a tuple (read-only): change
        them through :meth:`own_comments`."""
        if self.stored_comments is not None:
            return self.stored_comments
        if self.comment_spec is None:
            return ()
        return tuple(build_comments(self, self.comment_spec))

    @comments.setter
    def comments(self, value) -> None:
        self.stored_comments, self.comment_spec = list(value), None

    def own_comments(self) -> list[DemoComment]:
        """The thread as a list kept on the article (for changes)."""
        if self.stored_comments is None:
            self.comments = self.comments
        return self.stored_comments


BASE_TIME = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


def _fill(template: str, ctx: dict) -> str:
    return template.format(**ctx)


def _slug(title: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:70]


def generate_article(i: int, rng: random.Random, n_comments: int, next_comment_id: list[int]) -> DemoArticle:
    coin, place = COINS[i % len(COINS)], PLACES[(i * 7) % len(PLACES)]
    event = EVENTS[(i * 3 + i // len(EVENTS)) % len(EVENTS)]
    ctx = {"coin": coin, "place": place, "event": event}
    title = f"{coin} {event} rattles traders in {place}" if i < len(COINS) else \
        f"{coin} {event} in {place}: what changed (part {i // len(COINS) + 1})"
    mids = tuple(rng.sample(range(len(MIDDLES)), 9))  # the same draws as sampling the sentences themselves
    opener = rng.choice(range(len(OPENERS)))
    paragraphs = DrawnParagraphs(i, ctx, opener, mids, rng.choice(range(len(CLOSERS))))
    published = BASE_TIME + timedelta(hours=7 * i, minutes=13 * (i % 5))
    art = DemoArticle(
        post_id=100 + i, slug=_slug(title), title=title, paragraphs=paragraphs,
        author=AUTHORS[i % len(AUTHORS)], published=published, section=SECTIONS[i % len(SECTIONS)],
        tags=[coin.lower(), event.split()[0]], summary=f"A {event} put {coin} under pressure in {place}.",
    )
    art.comment_spec = draw_comments(rng, n_comments, ctx, next_comment_id)
    return art


def draw_comments(rng: random.Random, n: int, ctx: dict, next_comment_id: list[int]) -> CommentSpec:
    """Draw a thread of ``n`` comments (ids from ``next_comment_id``, which advances)."""
    spec = CommentSpec(next_comment_id[0], ctx, array("i"), array("b"))
    next_comment_id[0] += n
    for k in range(n):
        parent = -1
        if k and rng.random() < 0.55:
            parent = rng.choice(range(k))  # the same draw as choosing among the comments so far
        spec.parents.append(parent)
        spec.extras.append(rng.choice(range(9)) if k % 4 == 3 else -1)
    return spec


def build_comments(art: DemoArticle, spec: CommentSpec) -> list[DemoComment]:
    out: list[DemoComment] = []
    for k, (parent, extra) in enumerate(zip(spec.parents, spec.extras)):
        cid = spec.first_id + k
        line = _fill(COMMENT_LINES[(k + art.post_id) % len(COMMENT_LINES)], spec.ctx)
        if extra >= 0:
            line += " " + _fill(COMMENT_LINES[extra], spec.ctx)
        out.append(DemoComment(cid, spec.first_id + parent if parent >= 0 else 0, f"reader{(cid * 31) % 97}",
                               f"<p>{line}</p>", art.published + timedelta(minutes=20 + 17 * k)))
    return out


def generate_comments(art: DemoArticle, rng: random.Random, n: int, ctx: dict,
                      next_comment_id: list[int]) -> list[DemoComment]:
    return build_comments(art, draw_comments(rng, n, ctx, next_comment_id))


SPANISH = DemoArticle(
    post_id=90, slug="la-mineria-de-bitcoin-en-paraguay-crece",
    title="La minería de bitcoin en Paraguay crece gracias a la energía hidroeléctrica",
    paragraphs=[
        "Las empresas mineras que operan cerca de la represa de Itaipú dicen que el precio de la electricidad "
        "sigue siendo el más bajo de la región, y por eso siguen instalando nuevas máquinas cada mes.",
        "Los vecinos de la zona tienen opiniones divididas: algunos celebran los empleos nuevos, mientras que "
        "otros temen que el ruido y el consumo eléctrico afecten a sus comunidades durante el verano.",
        "El gobierno estudia una ley que fijaría tarifas especiales para los centros de datos, aunque los "
        "legisladores todavía no se ponen de acuerdo sobre el impuesto que deberían pagar.",
        "Según los operadores, la dificultad de la red obliga a renovar los equipos con frecuencia, y las "
        "máquinas antiguas terminan vendiéndose a mineros más pequeños del interior del país.",
    ],
    author="Lucía Benítez", published=BASE_TIME + timedelta(days=3, hours=2), section="Minería",
    tags=["bitcoin", "minería", "paraguay"], lang="es",
    summary="Las granjas mineras se multiplican junto a la represa.",
)
SPANISH_COMMENTS = [
    (0, "carlos_py", "Vivo cerca de la represa y el ruido de los ventiladores se escucha por la noche."),
    (1, "marta.g", "Es verdad, pero también abrieron un comedor nuevo y contrataron a muchos jóvenes del barrio."),
    (0, "inversor22", "Me gustaría saber cuánto pagan realmente por cada kilovatio hora, nadie publica los contratos."),
]

# Comment texts for the awkward cases on the first generated article.
MOJIBAKE_COMMENT = ("The cafÃ© on my street now takes Lightning payments and the owner says tips went up. "
                    "Great news for small shops! 🚀🙂")
QUOTE_REPLY = "That is a fair point, but the wallets were moving before the announcement, not after it."
DELETED_PLACEHOLDER = "This comment was deleted by a moderator."

LATE_COMMENTS = [
    "Coming back to this a week later: the withdrawals were restored and nobody lost funds in the end.",
    "Late to the thread, but the follow-up report confirmed the outage was a configuration mistake.",
    "Still waiting for the promised post-mortem from the exchange, it has been days now.",
]
CORRECTION = ("Correction: an earlier version of this story misstated the size of the affected order books; "
              "the figures above have been updated after the exchange published its own numbers.")

PARTNER_FOOTER = ("More from Chain Wire Partners: weekly newsletter, podcast archive, events calendar and "
                  "careers. Chain Wire Partners is an independent network of partner sites.")
MAIN_FOOTER = "Block Ledger Daily. Crypto news written for the demo site of this project. About, Contact, Privacy."
