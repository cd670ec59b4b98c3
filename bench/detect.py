"""Per-article detection time against 1k, 10k and 100k synthetic storylines, through the candidate index.

    python bench/detect.py [--sizes 1000,10000,100000] [--articles 500] [--repeats 3] [--limit 20]
                           [--query-keys 12] [--exhaustive 100] [--baseline] [--json]

Each size runs in its own child process (so its peak memory is its own), one after the other
in this run, on the same synthetic articles. A child builds that many synthetic storylines
(``StorylineState`` with profiles drawn from Zipf-like vocabularies of 50k terms and 10k
entities: 40-250 terms, up to 120 entities, two members and some known sentences), indexes
them in a ``CandidateIndex`` and then, ``--repeats`` times over every article, times what
detection does per article: features (from the article's text) + vectorize + the index query
+ ``detect.assess`` on every candidate returned. 70 % of the articles are written from one of
storylines 0-999 (present at every size), the rest from stories no storyline tracks.

Columns: ms/article (median over repeats) and its split (features+vectorize, index query,
assess); cands, candidates assessed an article; recall, share of the written-from storylines
among the candidates, first, ranked first by assess score, matched, assessed follow-up or
duplicate; exact, overlap of the candidates with those of the same query reading every
posting (first ``--exhaustive`` articles); longest, the longest posting list; build s, the
index's build time; index MB and states MB, resident memory the index and the storylines
added; peak MB, the child's peak resident memory. Figures are of this machine and this run:
compare rows, not runs. No figure here is asserted anywhere.

``--baseline`` also counts, per article, the candidates the previous index (a set of storylines
per key, every storyline sharing one of the article's top keys assessed) would have returned.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from operator import mul
from pathlib import Path
from typing import Any

from storywatch.storylines.detect import Member, Params, Stats, StorylineState, assess, vectorize
from storywatch.storylines.index import CandidateIndex, article_query, storyline_keys
from storywatch.storylines.language import aliases, language
from storywatch.storylines.text import features

ROOT = Path(__file__).resolve().parents[1]

SEED = 20310304
TERMS = 50_000
ENTITIES = 10_000
DOCUMENTS = 500_000  # the synthetic stream's size, for document frequencies
NOW = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
TARGETS = 1_000  # articles are written from storylines 0..999 (fewer if a size is smaller): in every size
UNRELATED_SHARE = 0.3  # articles on stories no storyline tracks

# --- the synthetic world -----------------------------------------------------------------------


def _vocabulary(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """Pronounceable invented words no stop word, alias or plural fold can touch (no final s)."""
    consonants, vowels, finals = "bcdfghjklmnprtvz", "aeiou", ["", "", "", "n", "r", "l", "t", "k", "m"]
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables)) + rng.choice(finals)
        if word in taken or word in language("en").stopwords or word.capitalize() in aliases():
            continue
        taken.add(word)
        words.append(word)
    return words


@dataclass(slots=True)
class Zipf:
    """Draws from a ranked vocabulary with probability ∝ 1 / rank^exponent."""

    words: list[str]
    cumulative: list[float]

    @classmethod
    def over(cls, words: list[str], exponent: float) -> Zipf:
        return cls(words, list(accumulate(1.0 / (r**exponent) for r in range(1, len(words) + 1))))

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=k)


class World:
    """Vocabularies, document frequencies and each storyline's (or stray story's) topic, from seeds."""

    def __init__(self) -> None:
        rng = random.Random(SEED)
        taken: set[str] = set()
        self.terms = _vocabulary(rng, TERMS, taken)
        self.entities = _vocabulary(rng, ENTITIES, taken)
        self.general = Zipf.over(self.terms, 1.0)  # everyday words
        self.topical = Zipf.over(self.terms, 0.75)  # what stories are about: flatter, rarer words
        self.names = Zipf.over(self.entities, 1.0)
        df: dict[str, int] = {}
        for rank, word in enumerate(self.terms, start=1):
            df[word] = int(DOCUMENTS * 0.08 / rank) + 1
        for rank, name in enumerate(self.entities, start=1):
            df[name] = df["e:" + name] = int(DOCUMENTS * 0.05 / rank**0.9) + 1
        self.df = df
        self.stats = Stats(df, DOCUMENTS)
        # Pre-drawn everyday words and names, their idf, and background weight factors.
        self._general_pool = self.general.draw(rng, 400_000)
        self._general_idf = [self.stats.idf(w) for w in self._general_pool]
        self._names_pool = self.names.draw(rng, 100_000)
        self._names_idf = [self.stats.idf("e:" + n) for n in self._names_pool]
        self._factors = [rng.uniform(0.05, 0.5) for _ in range(100_000)]

    def topic(self, story: int) -> tuple[list[str], list[str]]:
        """A story's core terms and names, the same for a storyline and the articles written from it."""
        rng = random.Random(SEED * 7919 + story)
        core = list(dict.fromkeys(self.topical.draw(rng, rng.randint(15, 40))))
        names = list(dict.fromkeys(self.names.draw(rng, rng.randint(2, 8))))
        return core, names

    def storyline(self, story: int) -> StorylineState:
        """A storyline as matching sees it after a few articles: fading sums of their weights.

        Its story's core terms and names weigh most; everyday words (a Zipf draw) fill the rest
        of the profile. Drawn from pre-drawn pools at random offsets: 100k of them in seconds.
        """
        rng = random.Random(SEED * 104729 + story)
        core, names = self.topic(story)
        idf = self.stats.idf
        terms: dict[str, float] = {}
        for word in core:
            terms[word] = idf(word) * rng.uniform(1.0, 3.0)
        for name in names:
            terms[name] = idf(name) * rng.uniform(0.8, 2.0)
        size = rng.randint(40, 250)
        terms = self._fill(rng, terms, size, self._general_pool, self._general_idf)
        entities = {name: idf("e:" + name) * rng.uniform(1.0, 3.0) for name in names}
        wanted = min(120, max(len(names), size // 5))
        entities = self._fill(rng, entities, wanted, self._names_pool, self._names_idf)
        listed = list(terms)
        members = []
        for m in range(2):
            at = rng.randrange(max(1, len(listed) - 35))
            members.append(
                Member(
                    article_id=story * 10 + m,
                    reference=f"synthetic-{story}-{m}",
                    title=f"story {story}, article {m}",
                    url=f"https://example.org/{story}/{m}",
                    published=None,
                    terms=_normalised({w: terms[w] for w in listed[at : at + 35]}),
                    entities=_normalised({n: entities[n] for n in names[: rng.randint(1, len(names))]}),
                )
            )
        keys = core + ["e:" + n for n in names]
        rng.shuffle(keys)
        sentences = []
        for _ in range(rng.randint(8, 16)):
            at = rng.randrange(len(keys))
            sentences.append(frozenset((keys + keys)[at : at + rng.randint(4, 8)]))
        return StorylineState(
            id=story,
            title=f"synthetic story {story}",
            terms=terms,
            entities=entities,
            members=members,
            sentences=sentences,
            last_article_at=NOW - timedelta(days=rng.uniform(0.0, 20.0)),
            size=rng.randint(1, 40),
        )

    def _fill(
        self, rng: random.Random, core: dict[str, float], size: int, pool: list[str], idfs: list[float]
    ) -> dict[str, float]:
        """``core`` topped up to about ``size`` keys with background ones: a random stretch of a pool."""
        span, factors = 3 * size, self._factors
        at, f = rng.randrange(len(pool) - span), rng.randrange(len(factors) - span)
        background = dict(zip(pool[at : at + span], map(mul, idfs[at : at + span], factors[f : f + span])))
        filled = dict(islice(background.items(), max(0, size - len(core))))
        filled.update(core)
        return filled

    def article(self, number: int, targets: int = TARGETS) -> tuple[int | None, str, str]:
        """(storyline it continues or None, title, text): 12-25 sentences of 8-18 words."""
        rng = random.Random(SEED * 15485863 + number)
        target: int | None = None
        if rng.random() < UNRELATED_SHARE:
            core, names = self.topic(10**9 + number)
        else:
            target = rng.randrange(targets)
            core, names = self.topic(target)
        fresh = list(dict.fromkeys(self.topical.draw(rng, 12)))  # what is new in this article

        def sentence(on_topic: bool) -> str:
            words = []
            for _ in range(rng.randint(8, 18)):
                roll = rng.random()
                if on_topic and roll < 0.35:
                    words.append(rng.choice(core))
                elif on_topic and roll < 0.45:
                    words.append(rng.choice(names).capitalize())
                elif roll < 0.55:
                    words.append(rng.choice(fresh))
                else:
                    words.append(self.general.draw(rng, 1)[0])
            words[0] = words[0].capitalize()
            return " ".join(words) + "."

        title = sentence(True).rstrip(".")
        body = [sentence(rng.random() < 0.8) for _ in range(rng.randint(12, 25))]
        return target, title, " ".join(body)


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {k: w / norm for k, w in vector.items()}


# --- one size, in a child process ----------------------------------------------------------------


def _rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def run_size(
    size: int,
    articles: int,
    repeats: int,
    limit: int,
    query_keys: int,
    exhaustive: int,
    baseline: bool,
    targets: int = TARGETS,
) -> dict[str, Any]:
    params = Params()
    started = time.perf_counter()
    world = World()
    texts = [world.article(n, min(targets, size)) for n in range(articles)]
    rss_world = _rss_mb()
    states = {i: world.storyline(i) for i in range(size)}
    built = time.perf_counter()
    rss_states = _rss_mb()
    index = CandidateIndex()
    for state in states.values():
        index.add(state.id, storyline_keys(state, params.index_features))
    indexed = time.perf_counter()
    rss_index = _rss_mb()
    lengths = sorted(index.posting_sizes().values())

    stats = world.stats
    timings: list[dict[str, float]] = []
    outcomes: list[tuple[int | None, list[int], str]] = []
    for repeat in range(repeats):
        spent = {"features": 0.0, "index": 0.0, "assess": 0.0}
        found = 0
        for target, title, text in texts:
            t0 = time.perf_counter()
            feats = features(title, text)
            vector = vectorize(feats, stats)
            t1 = time.perf_counter()
            ids = index.candidates(article_query(vector, query_keys), limit=limit)
            t2 = time.perf_counter()
            assessments = [assess(feats, vector, states[i], stats, NOW, params) for i in ids]
            t3 = time.perf_counter()
            spent["features"] += t1 - t0
            spent["index"] += t2 - t1
            spent["assess"] += t3 - t2
            found += len(ids)
            if repeat == 0:
                best = sorted(assessments, key=lambda a: (-a.score, a.storyline_id))
                role = next((a.role for a in assessments if a.storyline_id == target), "missed")
                outcomes.append((target, [a.storyline_id for a in best], role))
        timings.append({k: v / len(texts) * 1000 for k, v in spent.items()} | {"candidates": found / len(texts)})

    # How far the budgeted query is from reading every posting of its keys (same scores, no cut).
    agreement = []
    budget = index.budget
    for _target, title, text in texts[:exhaustive]:
        query = article_query(vectorize(features(title, text), stats), query_keys)
        bounded = index.candidates(query, limit=limit)
        index.budget = 10**12
        unbounded = index.candidates(query, limit=limit)
        index.budget = budget
        agreement.append(len(set(bounded) & set(unbounded)) / len(unbounded) if unbounded else 1.0)

    targeted = [(t, ranked, role) for t, ranked, role in outcomes if t is not None]
    result: dict[str, Any] = {
        "storylines": size,
        "articles": len(texts),
        "ms_article": statistics.median(sum(t[k] for k in ("features", "index", "assess")) for t in timings),
        "ms_features": statistics.median(t["features"] for t in timings),
        "ms_index": statistics.median(t["index"] for t in timings),
        "ms_assess": statistics.median(t["assess"] for t in timings),
        "candidates": statistics.median(t["candidates"] for t in timings),
        "recall": sum(t in ranked for t, ranked, _ in targeted) / max(1, len(targeted)),
        "first": sum(bool(ranked) and ranked[0] == t for t, ranked, _ in targeted) / max(1, len(targeted)),
        "matched": sum(role in ("follow-up", "duplicate") for _, _, role in targeted) / max(1, len(targeted)),
        "exact": statistics.mean(agreement) if agreement else float("nan"),
        "longest_list": lengths[-1] if lengths else 0,
        "keys": len(lengths),
        "postings": sum(lengths),
        "build_s": built - started,
        "index_s": indexed - built,
        "rss_states_mb": rss_states - rss_world,
        "rss_index_mb": rss_index - rss_states,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if baseline:
        old: dict[str, set[int]] = {}
        for state in states.values():
            for key in state.index_keys(params.index_features):
                old.setdefault(key, set()).add(state.id)
        counts = []
        for _, title, text in texts:
            vector = vectorize(features(title, text), stats)
            union: set[int] = set()
            for key in vector.top_keys(params.query_features):
                union |= old.get(key, set())
            counts.append(len(union))
        result["baseline_candidates"] = statistics.mean(counts)
    return result


# --- the table -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="storyline counts, comma-separated")
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the articles (median shown)")
    parser.add_argument("--limit", type=int, default=20, help="candidates assessed per article")
    parser.add_argument("--query-keys", type=int, default=Params().query_features, help="article features queried")
    parser.add_argument(
        "--exhaustive", type=int, default=100, help="articles also queried reading every posting (the 'exact' column)"
    )
    parser.add_argument("--baseline", action="store_true", help="also count the previous index's candidates")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--targets", type=int, default=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        figures = run_size(
            args.child,
            args.articles,
            args.repeats,
            args.limit,
            args.query_keys,
            args.exhaustive,
            args.baseline,
            args.targets,
        )
        print(json.dumps(figures))
        return

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    for size in sizes:
        command = [sys.executable, __file__, "--child", str(size), "--articles", str(args.articles)]
        command += ["--repeats", str(args.repeats), "--limit", str(args.limit), "--query-keys", str(args.query_keys)]
        command += ["--exhaustive", str(args.exhaustive), "--targets", str(min(TARGETS, *sizes))]
        if args.baseline:
            command.append("--baseline")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"size {size} failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {size} storylines done ({rows[-1]['build_s'] + rows[-1]['index_s']:.0f} s to build)", file=sys.stderr)

    print(
        f"{args.articles} articles, median of {args.repeats} passes, limit {args.limit}, "
        f"{args.query_keys} query keys, index budget {CandidateIndex().budget} postings, "
        f"rescore {CandidateIndex().rescore} x limit"
    )
    header = (
        f"{'storylines':>10} {'ms/article':>10} {'features':>8} {'index':>6} {'assess':>6} {'cands':>6} "
        f"{'recall':>6} {'first':>6} {'matched':>7} {'exact':>6} {'longest':>7} {'build s':>7} "
        f"{'index MB':>8} {'states MB':>9} {'peak MB':>8}"
    )
    if args.baseline:
        header += f" {'old cands':>9}"
    print(header)
    for r in rows:
        line = (
            f"{r['storylines']:>10} {r['ms_article']:>10.2f} {r['ms_features']:>8.2f} {r['ms_index']:>6.2f} "
            f"{r['ms_assess']:>6.2f} {r['candidates']:>6.1f} {r['recall']:>6.1%} {r['first']:>6.1%} "
            f"{r['matched']:>7.1%} {r['exact']:>6.1%} {r['longest_list']:>7} {r['index_s']:>7.1f} "
            f"{r['rss_index_mb']:>8.0f} {r['rss_states_mb']:>9.0f} {r['peak_mb']:>8.0f}"
        )
        if args.baseline:
            line += f" {r['baseline_candidates']:>9.0f}"
        print(line)
    by_size = {r["storylines"]: r for r in rows}
    low, high = min(by_size), max(by_size)
    if low != high:
        a, b = by_size[low], by_size[high]
        print(
            f"ratio {high}/{low}: {b['ms_article'] / a['ms_article']:.2f} per article "
            f"(index step alone {b['ms_index'] / a['ms_index']:.2f})"
        )
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
