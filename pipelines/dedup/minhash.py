"""MinHash signatures over word shingles, LSH band keys and signature similarity — pure, vectorised numpy.

Why our own code and not ``datasketch``: the same maths (one 64-bit hash per shingle, then one
universal hash per permutation, minimum per permutation) done as one numpy matrix operation per
document; ``benchmarks/dedup_quality.py`` measures both and prints the figures.

* Tokens are ``\\w+`` runs of :func:`crawler.ids.normalise_for_hash` text (case/NFKC/whitespace and
  punctuation do not matter). Each token is hashed once (xxh64, fixed seed); a shingle of ``k`` tokens
  is a polynomial combination of its token hashes, finished with the splitmix64 mixer.
* Permutation ``i`` is multiply-shift hashing ``(a_i * x + b_i) mod 2**64 >> 32`` with fixed odd
  ``a_i`` drawn from a seeded generator: signatures are identical on every machine and run, which the
  persistent dedup state relies on (``PARAMS`` is stored with it; a change invalidates stored signatures).
* LSH: the signature is cut into ``bands`` bands of ``rows`` values; a band key mixes the band number and the
  band's values (splitmix64), as a signed 64-bit int (SQLite INTEGER).
"""
from __future__ import annotations

import re

import numpy as np
import xxhash

from crawler.ids import normalise_for_hash

NUM_PERM = 128
BANDS, ROWS = 32, 4  # 32 x 4 = 128: pairs with Jaccard 0.5 become candidates with p = 0.87, 0.6 with 0.99
SHINGLE_WORDS = 5
SEED = 20261125
MAX_BUCKET = 100  # larger LSH buckets (boilerplate shared by many texts) are matched against one row
PARAMS = f"mh1-xxh64-ms-p{NUM_PERM}-b{BANDS}x{ROWS}-k{SHINGLE_WORDS}-s{SEED}"

_rng = np.random.Generator(np.random.PCG64(SEED))
_A = (_rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)  # odd multipliers
_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_POW = np.uint64(0x9E3779B97F4A7C15)
_WORD = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(normalise_for_hash(text or ""))


def normalised_tokens(normalised: str) -> list[str]:
    """``tokens`` of a text already passed through ``normalise_for_hash``."""
    return _WORD.findall(normalised)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (vectorised, wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def shingle_hashes(words: list[str], k: int = SHINGLE_WORDS) -> np.ndarray:
    """Unique 64-bit hashes of the word k-grams (one shingle of all words when there are fewer than k)."""
    return np.unique(_shingles(words, k))


def _shingles(words: list[str], k: int = SHINGLE_WORDS) -> np.ndarray:
    """The word k-gram hashes, repeats included (a signature is the same either way)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    th = np.fromiter((xxhash.xxh64_intdigest(w.encode("utf-8"), SEED) for w in words), dtype=np.uint64,
                     count=len(words))
    k = min(k, len(th))
    n = len(th) - k + 1
    with np.errstate(over="ignore"):
        acc = np.zeros(n, dtype=np.uint64)
        for j in range(k):
            acc = acc * _POW + th[j:j + n]
        return _mix(acc)


def signature(hashes: np.ndarray) -> np.ndarray:
    """MinHash signature (uint32[NUM_PERM]) of a set of shingle hashes; all-ones for the empty set."""
    if hashes.size == 0:
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        h = (_A[:, None] * hashes[None, :] + _B[:, None]) >> np.uint64(32)
    return h.min(axis=1).astype(np.uint32)


def signatures(word_lists: list[list[str]], k: int = SHINGLE_WORDS) -> np.ndarray:
    """Signatures (docs x NUM_PERM, uint32) of several documents' words in one matrix operation; row i
    equals ``signature(shingle_hashes(word_lists[i]))``."""
    parts = [_shingles(words, k) for words in word_lists]
    sizes = np.array([p.size for p in parts], dtype=np.int64)
    out = np.full((len(parts), NUM_PERM), 0xFFFFFFFF, dtype=np.uint32)
    filled = np.flatnonzero(sizes)
    if filled.size:
        flat = np.concatenate([parts[i] for i in filled])
        with np.errstate(over="ignore"):
            h = (_A[:, None] * flat[None, :] + _B[:, None]) >> np.uint64(32)
        starts = np.concatenate([[0], np.cumsum(sizes[filled])[:-1]])
        out[filled] = np.minimum.reduceat(h, starts, axis=1).T.astype(np.uint32)
    return out


def text_signature(text: str, k: int = SHINGLE_WORDS) -> np.ndarray:
    return signature(shingle_hashes(tokens(text), k))


def band_keys_matrix(sigs: np.ndarray) -> np.ndarray:
    """LSH bucket keys, one per band, for a (docs x NUM_PERM) signature matrix: int64 (docs x BANDS)."""
    v = np.ascontiguousarray(sigs, dtype=np.uint32).astype(np.uint64).reshape(-1, BANDS, ROWS)
    with np.errstate(over="ignore"):
        acc = np.broadcast_to(np.arange(BANDS, dtype=np.uint64) + np.uint64(SEED), v.shape[:2])
        for j in range(ROWS):
            acc = _mix(acc * _POW + v[:, :, j])
    return acc.view(np.int64)


def band_keys(sig: np.ndarray) -> list[int]:
    """One LSH bucket key per band (signed 64-bit ints; the band number is part of the key)."""
    return band_keys_matrix(sig.reshape(1, -1))[0].tolist()


def candidate_pairs(keys: np.ndarray, max_bucket: int = MAX_BUCKET) -> np.ndarray:
    """Unique pairs (i < j) of rows sharing a bucket key; (m x 2) int64. In a bucket of more than
    ``max_bucket`` rows (shared boilerplate) each row is paired with the bucket's first row only, which
    keeps the work linear; rows are expected in a deterministic order (e.g. sorted by id)."""
    n, bands = keys.shape
    flat, rows = keys.ravel(), np.repeat(np.arange(n), bands)
    order = np.lexsort((rows, flat))
    flat, rows = flat[order], rows[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    sizes = np.diff(np.r_[starts, flat.size])
    parts = [np.zeros((0, 2), dtype=np.int64)]
    for st, sz in zip(starts[sizes > 1], sizes[sizes > 1]):
        members = rows[st:st + sz]
        if sz <= max_bucket:
            a, b = np.triu_indices(sz, 1)
            parts.append(np.stack([members[a], members[b]], axis=1))
        else:
            parts.append(np.stack([np.full(sz - 1, members[0]), members[1:]], axis=1))
    return np.unique(np.concatenate(parts), axis=0)


def verify(sigs: np.ndarray, pairs: np.ndarray, threshold: float, chunk: int = 100_000) -> np.ndarray:
    """Boolean mask of the pairs whose estimated Jaccard similarity is at least ``threshold``."""
    out = np.zeros(len(pairs), dtype=bool)
    for i in range(0, len(pairs), chunk):
        p = pairs[i:i + chunk]
        out[i:i + chunk] = np.count_nonzero(sigs[p[:, 0]] == sigs[p[:, 1]], axis=1) >= threshold * NUM_PERM
    return out


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two shingle sets: share of equal signature values."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two shingle-hash sets (for tests and the evaluation)."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def to_bytes(sig: np.ndarray) -> bytes:
    return np.ascontiguousarray(sig, dtype="<u4").tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)
