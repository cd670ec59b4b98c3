"""Near-duplicates: the same wire copy under another outlet's URL, found by MinHash over word shingles.

Exact duplicates are caught by the articles' unique canonical URL; this catches syndicated
copies whose URL differs and whose text differs only by a byline, a headline or a trimmed
paragraph. Short texts (headlines only) are left alone: too little text to tell a copy from
two outlets covering the same event.

:func:`link_near_duplicates` is the pipeline step: it runs on each batch of newly stored
articles, in the transaction that stored them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH
from sqlalchemy.orm import Session

from storywatch.storage import articles as article_store

NUM_PERM = 64
SHINGLE_WORDS = 5
THRESHOLD = 0.7  # estimated Jaccard of shingle sets at which a text is a copy (trimmed copies ~0.75)
SCHEME = "affine32"  # datasketch's hashing scheme; stored signatures must be read back with the same
MIN_WORDS = 60
WINDOW = timedelta(days=14)  # how far back a syndicated copy's original is looked for

_WORD = re.compile(r"\w+", re.UNICODE)


def signature(text: str) -> MinHash | None:
    """The text's MinHash over 5-word shingles, or None when it is too short to judge."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    minhash = MinHash(num_perm=NUM_PERM, seed=1, scheme=SCHEME)
    minhash.update_batch(
        [" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)]
    )
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    return np.asarray(minhash.hashvalues, dtype="<u8").tobytes()


def from_bytes(data: bytes) -> MinHash:
    values = np.frombuffer(data, dtype="<u8").astype(minhash_dtype())
    return MinHash(num_perm=NUM_PERM, seed=1, hashvalues=values, scheme=SCHEME)


def minhash_dtype() -> np.dtype[np.unsignedinteger[Any]]:
    dtype: np.dtype[np.unsignedinteger[Any]] = MinHash(num_perm=1, seed=1, scheme=SCHEME).hashvalues.dtype
    return dtype


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
        matches = [key for key in self._lsh.query(minhash) if self._signatures[key].jaccard(minhash) >= THRESHOLD]
        return min(matches) if matches else None


def link_near_duplicates(session: Session, article_ids: Sequence[int]) -> dict[int, int]:
    """Link each exact or syndicated copy among new articles to its original; returns {copy: original}.

    Originals are looked for among articles published up to :data:`WINDOW` before the batch,
    and in the batch itself in publication order, so the first outlet's copy is the original.
    """
    new = article_store.articles_in_publication_order(session, article_ids)
    if not new:
        return {}
    links: dict[int, int] = {}
    # Exact copies first: the same text (case and spacing aside) under another URL.
    first_by_hash = article_store.first_with_hashes(session, {a.content_hash for a in new}, excluding=article_ids)
    for article in new:
        if article.partial or len(article.text.split()) < MIN_WORDS:
            continue  # "Subscribe to read more" from two sites is not one story
        original = first_by_hash.setdefault(article.content_hash, article.id)
        if original != article.id:
            article.duplicate_of_id = links[article.id] = original
    signed = [(a, signature(a.text)) for a in new if a.id not in links]
    if not any(m is not None for _, m in signed):
        return links
    earliest = min((a.published_at for a, _ in signed if a.published_at), default=None)
    index = NearDuplicates()
    since = earliest - WINDOW if earliest is not None else None
    for article_id, data in article_store.signatures_since(session, since, excluding=article_ids):
        index.add(article_id, from_bytes(data))
    for article, minhash in signed:
        if minhash is None:
            continue
        copied = index.original_of(minhash)
        if copied is not None:
            article.duplicate_of_id = links[article.id] = copied
        article.minhash = to_bytes(minhash)
        index.add(article.id, minhash)
    return links
