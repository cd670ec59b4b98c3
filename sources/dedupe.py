"""Near-duplicates: the same wire copy under another outlet's URL, found by MinHash over word shingles.

Exact duplicates are caught by the articles' unique canonical URL; this catches syndicated
copies whose URL differs and whose text differs only by a byline, a headline or a trimmed
paragraph. Short texts (headlines only) are left alone: too little text to tell a copy from
two outlets covering the same event.
"""

from __future__ import annotations

import re

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 64
SHINGLE_WORDS = 5
THRESHOLD = 0.7  # estimated Jaccard of shingle sets at which a text is a copy (trimmed copies ~0.75)
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures must be read back with the same
MIN_WORDS = 60

_WORD = re.compile(r"\w+", re.UNICODE)


def signature(text: str) -> MinHash | None:
    """The text's MinHash over 5-word shingles, or None when it is too short to judge."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    minhash.update_batch([" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)])
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype="<u8").tobytes()


def from_bytes(data: bytes) -> MinHash:
    values = np.frombuffer(data, dtype="<u8").astype(minhash_dtype())
    return MinHash(num_perm=NUM_PERM, seed=1, hashvalues=values, scheme=SCHEME)


def minhash_dtype() -> np.dtype:
    return MinHash(num_perm=1, seed=1, scheme=SCHEME).hashvalues.dtype


class NearDuplicates:
    """An LSH index of known articles' signatures; ``original_of`` finds the earliest copy's source."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self._signatures: dict[int, MinHash] = {}

    def add(self, article_id: int, minhash: MinHash) -> None:
        if article_id not in self._signatures:
            self._lsh.insert(article_id, minhash)
            self._signatures[article_id] = minhash

    def original_of(self, minhash: MinHash) -> int | None:
        """The oldest known article this text copies (estimated Jaccard ≥ THRESHOLD), if any."""
        matches = [
            key for key in self._lsh.query(minhash) if self._signatures[key].jaccard(minhash) >= THRESHOLD
        ]
        return min(matches) if matches else None
