"""wordfreq's word lists as MARISA tries cached on disk, so a process does not decode them.

The features ask wordfreq how common a word is (:func:`storywatch.storylines.text._zipf`) and
the frequency prior asks it in four languages (:func:`storywatch.storylines.detect.prior_share`).
wordfreq answers from a dict of the whole list, built on first use: 1.6 million words for
English, German, French and Spanish, about 1.3 s of every process that detects, one-off
replays and scheduled runs alike (and decoding a cached copy is no faster: the cost is making
the strings).

Here each list is turned, once per machine and wordfreq version, into a trie of each word's
frequency band, kept in the user's cache folder (``~/.cache/storywatch/wordfreq/``) and
memory-mapped afterwards, which takes a millisecond. :func:`wordfreq` hands out the wordfreq
module with its ``get_frequency_dict`` answering from those tries. wordfreq's own lookup
(tokenizing, digits, several tokens, rounding) is unchanged and reads the same frequency for
every word, so every figure it returns is the one it returned before (``tests/test_text.py``
compares them). Without marisa-trie, wordfreq is used as it comes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import platformdirs
import wordfreq as _wordfreq

RECORD = "<H"
"""A word's record: its band, wordfreq's index into the list (centibels below 1, at most 65,535)."""


class FrequencyTrie(Mapping[str, float]):
    """One wordfreq list read from a trie: ``word -> frequency``, as ``get_frequency_dict`` gives."""

    def __init__(self, trie: Any) -> None:
        self._trie = trie

    def __getitem__(self, word: str) -> float:
        found = self._trie.get(word)
        if not found:
            raise KeyError(word)
        band: int = found[0][0]
        return float(_wordfreq.cB_to_freq(-band))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and word in self._trie

    def __iter__(self) -> Iterator[str]:
        return iter(self._trie.keys())

    def __len__(self) -> int:
        return len(self._trie)


def cache_dir() -> Path:
    """Where the tries are kept: one folder per wordfreq version, whose lists they copy."""
    version = metadata.version("wordfreq")
    return Path(platformdirs.user_cache_dir("storywatch")) / "wordfreq" / version


@cache
def frequency_trie(lang: str, wordlist: str = "best", match_cutoff: None = None) -> Mapping[str, float]:
    """The list wordfreq would read for ``lang`` as a trie: built and saved the first time, then mapped.

    Raises LookupError, as wordfreq does, for a language it has no list for.
    """
    import marisa_trie

    path = cache_dir() / f"{wordlist}_{lang}.marisa"
    trie = marisa_trie.RecordTrie(RECORD)
    try:
        return FrequencyTrie(trie.mmap(str(path)))
    except (OSError, RuntimeError, ValueError):  # not built yet, or a file another process left half-written
        pass
    bands = _wordfreq.get_frequency_list(lang, wordlist)
    built = marisa_trie.RecordTrie(RECORD, ((word, (band,)) for band, words in enumerate(bands) for word in words))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its place and renamed over it: a process that maps the file meanwhile
    # sees the whole old one or the whole new one.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        built.save(partial)
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    return FrequencyTrie(marisa_trie.RecordTrie(RECORD).mmap(str(path)))


@cache
def wordfreq() -> ModuleType:
    """The wordfreq module, its frequency lists read from the cached tries when marisa-trie is there."""
    try:
        import marisa_trie  # noqa: F401
    except ImportError:
        return _wordfreq
    # wordfreq's lookups call it by this name; a Mapping serves them as its dict did.
    _wordfreq.get_frequency_dict = frequency_trie  # type: ignore[assignment]
    return _wordfreq
