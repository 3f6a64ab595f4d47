"""langdetect's own algorithm, vectorised with numpy; same answers as langdetect's Detector.

langdetect (the port of Google's language-detection) spends most of its time in a pure-Python loop:
per trial, draw an n-gram with ``random.choice`` and multiply a 55-entry probability list by its profile,
normalising after updates 0, 5, 10, ... until the top probability exceeds CONV_THRESHOLD. This module
keeps the library's profiles, n-gram extraction, smoothing and stopping rule, and reproduces its random
stream exactly: CPython's ``random`` is a Mersenne Twister, so numpy's MT19937 started from the same
state yields the same 32-bit words; ``choice`` is rejection sampling on ``getrandbits`` and ``gauss`` is
Box-Muller on ``random()``, both re-implemented on those words. Running products are taken in log space.
A test checks that languages and probabilities equal langdetect's own.
"""
from __future__ import annotations

import math
import random
from functools import lru_cache

import numpy as np
from langdetect import detector_factory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import ErrorCode, LangDetectException
from langdetect.utils.ngram import NGram

CHUNK = 41  # updates drawn at once at the start of a trial (most trials converge within them)
CHUNK_MORE = 50


PREFIX_WORDS = 8192  # words of each seed's stream generated once and shared by every detection


@lru_cache(maxsize=8)
def _seed_prefix(seed: int) -> tuple[np.ndarray, dict]:
    """The first PREFIX_WORDS words of Random(seed)'s stream, and the generator state just after them."""
    internal = random.Random(seed).getstate()[1]
    bg = np.random.MT19937()
    bg.state = {"bit_generator": "MT19937", "state": {"key": np.array(internal[:-1], dtype=np.uint32),
                                                      "pos": internal[-1]}}
    words = bg.random_raw(PREFIX_WORDS)
    words.setflags(write=False)
    return words, bg.state


class _Stream:
    """The 32-bit output stream of CPython's Random(seed), read in bulk through numpy."""

    def __init__(self, seed: int):
        self.words, self._after_prefix = _seed_prefix(seed)
        self.bg: np.random.MT19937 | None = None
        self.at = 0
        self.gauss_next: float | None = None

    def _ensure(self, n: int) -> None:
        if self.at + n > self.words.size:  # append only: positions already handed out stay valid
            if self.bg is None:
                self.bg = np.random.MT19937()
                self.bg.state = self._after_prefix
            self.words = np.concatenate([self.words, self.bg.random_raw(max(1024, 2 * n))])

    def random(self) -> float:  # CPython genrand_res53
        self._ensure(2)
        a, b = int(self.words[self.at]) >> 5, int(self.words[self.at + 1]) >> 6
        self.at += 2
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:  # CPython Random.gauss(0, 1)
        z, self.gauss_next = self.gauss_next, None
        if z is None:
            x2pi = self.random() * 2 * math.pi
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self.random()))
            z = math.cos(x2pi) * g2rad
            self.gauss_next = math.sin(x2pi) * g2rad
        return z

    def choice_indices(self, n: int, count: int) -> np.ndarray:
        """``count`` draws of ``random.choice`` over a sequence of length n (indices), consuming the stream."""
        shift = 32 - n.bit_length()
        out: list[np.ndarray] = []
        got = 0
        while got < count:
            self._ensure(2 * (count - got) + 16)
            window = self.words[self.at:] >> np.uint64(shift)
            ok = np.nonzero(window < n)[0][: count - got]
            out.append(window[ok].astype(np.intp))
            got += ok.size
            self.at += int(ok[-1]) + 1 if got == count else window.size
        return np.concatenate(out) if len(out) > 1 else out[0]


_MATRIX: dict[int, tuple[dict[str, int], np.ndarray]] = {}


def _profile_matrix(word_lang_prob_map: dict) -> tuple[dict[str, int], np.ndarray]:
    """All n-gram profiles as one (n-grams x languages) array, built once (about 40 MB)."""
    key = id(word_lang_prob_map)
    if key not in _MATRIX:
        ids = {w: i for i, w in enumerate(word_lang_prob_map)}
        _MATRIX.clear()
        _MATRIX[key] = (ids, np.array(list(word_lang_prob_map.values()), dtype=np.float64))
    return _MATRIX[key]


_NORMALISED: dict[str, str] = {}  # character -> NGram.normalize(character)
_WORD_NGRAMS: dict[tuple[str, bool], list[str]] = {}  # (normalised word, space follows) -> its n-grams
WORD_CACHE_SIZE = 200_000


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
    def _extract_ngrams(self):
        """langdetect's n-grams of the text, computed word by word with a cache.

        langdetect's NGram buffer restarts at every (normalised) space, so the n-grams a word yields depend
        only on the word itself and on whether a space follows it; both are cached. Output order and content
        are exactly langdetect's."""
        normalise, cache = NGram.normalize, _NORMALISED
        chars = []
        for ch in self.text:
            c = cache.get(ch)
            if c is None:
                c = cache[ch] = normalise(ch)
            chars.append(c)
        words = "".join(chars).split(" ")
        result: list[str] = []
        last = len(words) - 1
        for i, word in enumerate(words):
            if word:
                result.extend(self._word_ngrams(word, i < last))
        return result

    def _word_ngrams(self, word: str, space_follows: bool) -> list[str]:
        key = (word, space_follows)
        grams = _WORD_NGRAMS.get(key)
        if grams is None:
            grams = _WORD_NGRAMS[key] = _ngrams_of(word + (" " if space_follows else ""), self.word_lang_prob_map)
            if len(_WORD_NGRAMS) > WORD_CACHE_SIZE:
                _WORD_NGRAMS.clear()
        return grams

    def _detect_block(self):
        self.cleaning_text()
        ngrams = self._extract_ngrams()
        if not ngrams:
            raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
        ids, profiles = _profile_matrix(self.word_lang_prob_map)
        positions = np.fromiter(map(ids.__getitem__, ngrams), dtype=np.intp, count=len(ngrams))
        stream = _Stream(self.seed)
        langprob = np.zeros(len(self.langlist))
        for _ in range(self.n_trial):
            weight = (self.alpha + stream.gauss() * self.ALPHA_WIDTH) / self.BASE_FREQ
            langprob += self._trial(profiles, positions, weight, stream) / self.n_trial
        self.langprob = langprob.tolist()

    def _trial(self, profiles: np.ndarray, positions: np.ndarray, weight: float, stream: _Stream) -> np.ndarray:
        logp = np.log(np.asarray(self._init_probability(), dtype=np.float64))
        done = 0  # updates folded into logp so far
        while True:
            chunk = CHUNK if done == 0 else CHUNK_MORE
            mark = stream.at
            picks = positions[stream.choice_indices(len(positions), chunk)]
            cum = logp + np.cumsum(np.log(weight + profiles[picks]), axis=0)
            rows = np.arange((-done) % 5, chunk, 5)  # local rows of global updates i with i % 5 == 0
            pts = cum[rows]
            maxp = 1.0 / np.exp(pts - pts.max(axis=1)[:, None]).sum(axis=1)
            stop = np.nonzero((maxp > self.CONV_THRESHOLD) | (done + rows >= self.ITERATION_LIMIT))[0]
            last = int(rows[stop[0]]) if stop.size else int(rows[-1])
            if last + 1 < chunk:  # give back the draws langdetect would not have made
                stream.at = mark
                stream.choice_indices(len(positions), last + 1)
            final = cum[last]
            done += last + 1
            if stop.size:
                p = np.exp(final - final.max())
                return p / p.sum()
            logp = final - (final.max() + np.log(np.exp(final - final.max()).sum()))  # langdetect normalises


def make_detector(text: str, seed: int = 0) -> FastDetector:
    detector_factory.init_factory()
    factory = detector_factory._factory
    factory.seed = seed
    det = FastDetector(factory)
    det.append(text)
    return det
