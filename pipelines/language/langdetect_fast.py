"""langdetect's own algorithm for many texts at once, vectorised with numpy; same answers as langdetect.

langdetect (the port of Google's language-detection) spends most of its time in a pure-Python loop:
per trial, draw an n-gram with ``random.choice`` and multiply a 55-entry probability list by its profile,
normalising after updates 0, 5, 10, ... until the top probability exceeds CONV_THRESHOLD. This module
keeps the library's profiles, text cleaning, n-gram extraction, smoothing and stopping rule, and
reproduces its random stream exactly: CPython's ``random`` is a Mersenne Twister, so numpy's MT19937
started from the same state yields the same 32-bit words; ``choice`` is rejection sampling on
``getrandbits`` and ``gauss`` is Box-Muller on ``random()``, both re-implemented on those words.

Every text is detected with a fresh generator seeded alike (as langdetect does), so all texts read the
same word stream, each from its own position. ``detect_batch`` advances all texts of a batch together:
each round draws the next CHUNK updates of every unfinished trial at once (the draws after the stopping
checkpoint are given back), so the per-call cost of numpy is paid per round, not per text. Running
products are taken in log space. The result of a text does not depend on the batch it is in (the
arithmetic is per text and in the same order); a test checks languages and probabilities against
langdetect's own Detector.
"""
from __future__ import annotations

import math
import random
import re

import numpy as np
from langdetect import detector_factory
from langdetect.detector import Detector
from langdetect.language import Language
from langdetect.utils.ngram import NGram

CHUNK = 41  # updates drawn per trial and round (most trials stop at update 16-56)
CUMSUM_LOOP_MIN = 8  # from this many texts a round, accumulate column by column (numpy's strided cumsum is slow)


class _WordStream:
    """The 32-bit output words of CPython's Random(seed), generated once and extended on demand."""

    def __init__(self, seed: int):
        internal = random.Random(seed).getstate()[1]
        self.bg = np.random.MT19937()
        self.bg.state = {"bit_generator": "MT19937",
                         "state": {"key": np.array(internal[:-1], dtype=np.uint32), "pos": internal[-1]}}
        self.words = self.bg.random_raw(16384)

    def upto(self, n: int) -> np.ndarray:
        if n > self.words.size:  # append only: positions already handed out stay valid
            self.words = np.concatenate([self.words, self.bg.random_raw(max(n - self.words.size, self.words.size))])
        return self.words


_STREAMS: dict[int, _WordStream] = {}


def _stream(seed: int) -> _WordStream:
    if seed not in _STREAMS:
        _STREAMS[seed] = _WordStream(seed)
    return _STREAMS[seed]


_MATRIX: dict[int, tuple[dict[str, int], np.ndarray]] = {}


def _profile_matrix(word_lang_prob_map: dict) -> tuple[dict[str, int], np.ndarray]:
    """All n-gram profiles as one (n-grams x languages) array, built once (about 40 MB)."""
    key = id(word_lang_prob_map)
    if key not in _MATRIX:
        ids = {w: i for i, w in enumerate(word_lang_prob_map)}
        _MATRIX.clear()
        _MATRIX[key] = (ids, np.array(list(word_lang_prob_map.values()), dtype=np.float64))
    return _MATRIX[key]


_NORMALISED: dict[int, str] = {}  # str.translate table: code point -> NGram.normalize(character)
_NORMALISED_SEEN: set[str] = set()
_WORD_IDS: dict[tuple[str, bool], list[int]] = {}  # (normalised word, space follows) -> its n-grams' rows
WORD_CACHE_SIZE = 200_000
_SPACE_RUNS = re.compile(" {2,}")
_LATIN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z' (includes [ \\ ] ^ _ `)
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")  # ch >= U+0300 (langdetect's block test never excludes any)


def _ngrams_of(chars: str, known: dict) -> list[str]:
    """langdetect's NGram buffer fed ``chars`` (already normalised) from a fresh state (after a space)."""
    result: list[str] = []
    grams, capital = " ", False
    for c in chars:
        last = grams[-1]
        if last == " ":
            grams, capital = " ", False
            if c == " ":
                continue
        elif len(grams) >= 3:
            grams = grams[1:]
        grams += c
        capital = c.isupper() and (last.isupper() or capital) if c.isupper() else False
        if capital:
            continue
        size = len(grams)
        for n in (1, 2, 3):
            if size < n:
                break
            w = grams[-n:]
            if w != " " and w in known:
                result.append(w)
    return result


class FastDetector(Detector):
    """langdetect's Detector with its text preparation done by regular expressions and caches."""

    def append(self, text):
        """Detector.append: URLs and e-mail addresses blanked, Vietnamese normalised, cut at
        max_text_length, runs of spaces collapsed to one."""
        text = self.URL_RE.sub(" ", text)
        text = self.MAIL_RE.sub(" ", text)
        text = NGram.normalize_vi(text)
        self.text += _SPACE_RUNS.sub(" ", text[:self.max_text_length])

    def cleaning_text(self):
        """Detector.cleaning_text: drop Latin letters from text that is mostly another script."""
        latin = len(_LATIN.findall(self.text))
        if latin * 2 < len(_NON_LATIN.findall(self.text)):
            self.text = _LATIN.sub("", self.text)

    def _extract_ngrams(self):
        """langdetect's n-grams of the text (as strings), exactly its order and content."""
        names = list(_profile_matrix(self.word_lang_prob_map)[0])
        return [names[i] for i in self.gram_ids()]

    def gram_ids(self) -> list[int]:
        """Row numbers in the profile matrix of langdetect's n-grams of the text, computed word by word.

        langdetect's NGram buffer restarts at every (normalised) space, so the n-grams a word yields depend
        only on the word itself and on whether a space follows it; both are cached."""
        table = _NORMALISED
        new = set(self.text).difference(_NORMALISED_SEEN)
        if new:
            table.update({ord(ch): NGram.normalize(ch) for ch in new})
            _NORMALISED_SEEN.update(new)
        words = self.text.translate(table).split(" ")
        ids = _profile_matrix(self.word_lang_prob_map)[0]
        cache, known = _WORD_IDS, self.word_lang_prob_map
        result: list[int] = []
        last = len(words) - 1
        for i, word in enumerate(words):
            if word:
                key = (word, i < last)
                grams = cache.get(key)
                if grams is None:
                    grams = cache[key] = [ids[g] for g in _ngrams_of(word + (" " if i < last else ""), known)]
                    if len(cache) > WORD_CACHE_SIZE:
                        cache.clear()
                result.extend(grams)
        return result

    def _detect_block(self):
        self.langprob = detect_batch_probs([self])[0]


def make_detector(text: str, seed: int = 0) -> FastDetector:
    detector_factory.init_factory()
    factory = detector_factory._factory
    factory.seed = seed
    det = FastDetector(factory)
    det.append(text)
    return det


def detect_batch(texts: list[str], seed: int = 0) -> list[list[Language]]:
    """langdetect's ``get_probabilities()`` for every text (an empty list where a text has no features)."""
    dets = [make_detector(t, seed) for t in texts]
    return [d._sort_probability(p) if p is not None else [] for d, p in zip(dets, detect_batch_probs(dets))]


def _gauss(words: np.ndarray, at: int) -> tuple[float, float, int]:
    """CPython Random.gauss(0, 1) with no cached value: (z, the cached next value, new position)."""
    a, b, c, d = (int(w) for w in words[at:at + 4])
    x2pi = ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0) * (2 * math.pi)
    g2rad = math.sqrt(-2.0 * math.log(1.0 - ((c >> 5) * 67108864.0 + (d >> 6)) * (1.0 / 9007199254740992.0)))
    return math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad, at + 4


def detect_batch_probs(dets: list[FastDetector]) -> list[list[float] | None]:
    """Language probabilities (langdetect's ``langprob``) of prepared detectors; None where no features."""
    if not dets:
        return []
    d0 = dets[0]
    profiles = _profile_matrix(d0.word_lang_prob_map)[1]
    grams = []
    for det in dets:
        det.cleaning_text()
        grams.append(det.gram_ids())
    live = [i for i, g in enumerate(grams) if g]
    out: list[list[float] | None] = [None] * len(dets)
    if not live:
        return out
    lens = np.array([len(grams[i]) for i in live], dtype=np.int64)
    flat = np.array([w for i in live for w in grams[i]], dtype=np.intp)
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]])
    probs = _run_trials(d0, profiles, flat, offsets, lens, dets[live[0]].seed)
    for j, i in enumerate(live):
        out[i] = probs[j].tolist()
    return out


def _run_trials(d0: FastDetector, profiles: np.ndarray, flat: np.ndarray, offsets: np.ndarray,
                lens: np.ndarray, seed: int) -> np.ndarray:
    """langdetect's trial loop for B texts at once; returns (B, languages) averaged probabilities."""
    stream = _stream(seed)
    nb, nl, n_trial = lens.size, profiles.shape[1], d0.n_trial
    shifts = (32 - np.array([int(n).bit_length() for n in lens], dtype=np.uint64)).astype(np.uint64)
    lens_u = lens.astype(np.uint64)
    init = np.log(np.asarray(d0._init_probability(), dtype=np.float64))
    at = np.zeros(nb, dtype=np.int64)
    done = np.zeros(nb, dtype=np.int64)
    trial = np.zeros(nb, dtype=np.int64)
    weight = np.zeros(nb)
    logp = np.tile(init, (nb, 1))
    langprob = np.zeros((nb, nl))
    gauss_next: list[float | None] = [None] * nb

    def start_trial(k: int) -> None:
        z = gauss_next[k]
        if z is None:
            words = stream.upto(int(at[k]) + 4)
            z, gauss_next[k], at[k] = _gauss(words, int(at[k]))
        else:
            gauss_next[k] = None
        weight[k] = (d0.alpha + z * d0.ALPHA_WIDTH) / d0.BASE_FREQ
        logp[k] = init
        done[k] = 0

    for k in range(nb):
        start_trial(k)
    active = np.arange(nb)
    steps = np.arange(0, CHUNK + 5, 5)
    while active.size:
        b = active.size
        rows_b = np.arange(b)
        window = 2 * CHUNK + 32
        while True:  # rejection sampling of CHUNK choices per text
            words = stream.upto(int(at[active].max()) + window)
            vals = words[at[active][:, None] + np.arange(window)] >> shifts[active][:, None]
            ok = vals < lens_u[active][:, None]
            counts = ok.sum(axis=1)
            if counts.min() >= 5:  # enough for a checkpoint in every text (short only with ~1e-20 odds)
                break
            window *= 4
        r, c = np.nonzero(ok)
        rank = np.arange(r.size) - np.repeat(np.cumsum(counts) - counts, counts)
        keep = rank < CHUNK
        r, c, rank = r[keep], c[keep], rank[keep]
        choice = np.zeros((b, CHUNK), dtype=np.intp)
        col = np.zeros((b, CHUNK), dtype=np.int64)
        choice[r, rank] = vals[r, c].astype(np.intp)
        col[r, rank] = c
        got = np.minimum(counts, CHUNK)

        cum = np.log(weight[active][:, None, None] + profiles[flat[offsets[active][:, None] + choice]])
        cum[:, 0] += logp[active]
        if b >= CUMSUM_LOOP_MIN:
            for j in range(1, CHUNK):
                cum[:, j] += cum[:, j - 1]
        else:
            np.cumsum(cum, axis=1, out=cum)

        d = done[active]
        rowidx = ((-d) % 5)[:, None] + steps  # local rows of global updates i with i % 5 == 0
        valid = rowidx < got[:, None]
        pts = cum[rows_b[:, None], np.minimum(rowidx, CHUNK - 1)]
        maxp = 1.0 / np.exp(pts - pts.max(axis=2, keepdims=True)).sum(axis=2)
        stop = valid & ((maxp > d0.CONV_THRESHOLD) | (d[:, None] + rowidx >= d0.ITERATION_LIMIT))
        stopped = stop.any(axis=1)
        last_m = np.where(stopped, stop.argmax(axis=1), valid.sum(axis=1) - 1)
        last = rowidx[rows_b, last_m]
        at[active] += col[rows_b, last] + 1  # draws after the checkpoint are given back
        done[active] += last + 1
        final = cum[rows_b, last]
        top = final.max(axis=1, keepdims=True)
        expd = np.exp(final - top)
        cont = ~stopped
        if cont.any():  # langdetect normalises at the checkpoint and goes on
            logp[active[cont]] = final[cont] - (top[cont] + np.log(expd[cont].sum(axis=1, keepdims=True)))
        if stopped.any():
            fin = active[stopped]
            p = expd[stopped]
            langprob[fin] += (p / p.sum(axis=1, keepdims=True)) / n_trial
            trial[fin] += 1
            for k in fin[trial[fin] < n_trial].tolist():
                start_trial(k)
        active = active[trial[active] < n_trial]
    return langprob
