"""Online story discovery experiments on the labelled streams in /work/shared/data/streams/.

    python bench/cluster_experiments.py [METHOD ...] [--sets a,b] [--json]

Every method is single-pass, in stream order, deterministic, with no look-ahead and no gold labels
at run time: each article either joins the best-scoring existing cluster or starts a new one.
Features are storywatch's own (``storylines.text.features``); document frequencies are learned from
the stream so far, counting the current article first, as ``storylines.service`` does. The stream
clock is the number of articles seen so far (``Stats.documents`` in the engine).

Methods (see ``METHODS`` at the bottom for the exact parameter sets):

* ``cos``     TF-IDF cosine to a cluster centroid (sum of members' unit vectors), join if >= threshold.
* ``cosmax``  max cosine to the cluster's last members, or a mix with the centroid cosine.
* ``dmm``     one-pass Dirichlet-multinomial mixture (MStream / GSDMM score), argmax of
              "join cluster z" vs "new cluster", with optional fading of old evidence.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storylines.scoring import cluster_scores  # noqa: E402
from storylines.text import features  # noqa: E402

DATA = Path("/work/shared/data/streams")
SETS = ("mstream_news", "mstream_newsT", "uci6k_mixed")


# ----------------------------------------------------------------------------------------------
# data


class Doc:
    __slots__ = ("id", "terms", "entities", "keys")

    def __init__(self, ident: str, terms: dict[str, int], entities: dict[str, int]) -> None:
        self.id = ident
        self.terms = terms
        self.entities = entities
        # binary feature set: terms as they are, entities prefixed "e:" (as the engine's Stats keys)
        self.keys = sorted(set(terms) | {"e:" + e for e in entities})


_CACHE: dict[str, tuple[list[Doc], dict[str, str]]] = {}

# Validation streams: the same articles in other orders (the gold labels only decide the order, as
# the README's News-T was made), to check that parameters are not tuned to one ordering.
#   <set>~perm<seed>       a seeded random order (stationary stories)
#   <set>~T<parts>-<seed>  sorted by story, cut into <parts> parts, each part shuffled (News-T recipe)
VALIDATION = (
    "mstream_news~perm1",
    "mstream_news~T8-1",
    "mstream_news~T32-1",
    "uci6k_mixed~perm1",
    "uci6k_mixed~T16-1",
)


def _variant(name: str) -> tuple[list[Doc], dict[str, str]]:
    import random

    base, _, spec = name.partition("~")
    docs, gold = load(base)
    docs = list(docs)
    if spec.startswith("perm"):
        random.Random(int(spec[4:])).shuffle(docs)
    elif spec.startswith("T"):
        parts, seed = (int(x) for x in spec[1:].split("-"))
        rng = random.Random(seed)
        order = {g: i for i, g in enumerate(sorted(set(gold.values()), key=lambda g: rng.random()))}
        docs.sort(key=lambda d: order[gold[d.id]])  # stable: keeps the stream order inside a story
        size = math.ceil(len(docs) / parts)
        out = []
        for i in range(0, len(docs), size):
            chunk = docs[i : i + size]
            rng.shuffle(chunk)
            out.extend(chunk)
        docs = out
    else:
        raise ValueError(name)
    return docs, gold


def load(name: str) -> tuple[list[Doc], dict[str, str]]:
    if "~" in name:
        if name not in _CACHE:
            _CACHE[name] = _variant(name)
        return _CACHE[name]
    if name not in _CACHE:
        docs = []
        with open(DATA / f"{name}.archive.jsonl", encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                f = features(o.get("title") or "", o.get("text") or "")
                docs.append(Doc(o["id"], dict(f.terms), dict(f.entities)))
        gold = {}
        with open(DATA / f"{name}.gold.jsonl", encoding="utf-8") as fh:
            for line in fh:
                o = json.loads(line)
                gold[o["id"]] = o["cluster"]
        _CACHE[name] = (docs, gold)
    return _CACHE[name]


class Stats:
    """Stream document frequencies, smoothed idf as in storylines.detect.Stats."""

    def __init__(self) -> None:
        self.df: dict[str, int] = defaultdict(int)
        self.documents = 0

    def count(self, keys) -> None:
        self.documents += 1
        for k in keys:
            self.df[k] += 1

    def idf(self, key: str) -> float:
        return math.log((1 + self.documents) / (1 + self.df.get(key, 0))) + 1.0


# ----------------------------------------------------------------------------------------------
# cosine methods


def vector(doc: Doc, stats: Stats, entity_weight: float, bm25: bool = False) -> dict[str, float]:
    """Unit TF-IDF vector over terms and "e:" entities (entities scaled by entity_weight)."""
    v: dict[str, float] = {}
    for k, n in doc.terms.items():
        v[k] = (1.0 + math.log(n)) * stats.idf(k)
    for k, n in doc.entities.items():
        v["e:" + k] = entity_weight * (1.0 + math.log(n)) * stats.idf("e:" + k)
    if bm25:  # idf only, binary tf (short texts)
        v = {k: (stats.idf(k) if not k.startswith("e:") else entity_weight * stats.idf(k)) for k in v}
    norm = math.sqrt(sum(w * w for w in v.values())) or 1.0
    return {k: w / norm for k, w in v.items()}


def run_cos(
    docs: list[Doc],
    threshold: float = 0.3,
    mode: str = "centroid",  # centroid | max | mix
    mix: float = 0.5,  # weight of centroid cosine in "mix"
    members: int = 40,  # last members kept for "max"
    entity_weight: float = 1.0,
    half_life: float = 0.0,  # in articles; centroid evidence fades, 0 = never
    quiet: float = 0.0,  # in articles; score *= exp(-(gap)/quiet) for the gap since the cluster last moved
    size_prior: float = 0.0,  # score += size_prior * log(size)
    bm25: bool = False,
    rel_quiet: float = 0.0,  # if > 0: score *= exp(-gap / (rel_quiet * mean_gap_z)), mean gap of the cluster's joins
    gap0: float = 0.0,  # prior articles added to a cluster's age when estimating its mean gap
    size_mult: float = 0.0,  # score *= 1 + size_mult * log(size)
    rel_grace: float = 0.0,  # under rel_quiet: a gap of this many mean gaps costs nothing
) -> list[int]:
    stats = Stats()
    centroids: list[dict[str, float]] = []
    sqnorm: list[float] = []
    stamp: list[int] = []  # stream clock when last faded/updated
    last: list[int] = []
    first: list[int] = []
    sizes: list[int] = []
    recent: list[list[dict[str, float]]] = []
    index: dict[str, set[int]] = defaultdict(set)
    out = []
    lam = math.log(2) / half_life if half_life else 0.0
    for t, doc in enumerate(docs):
        stats.count(doc.keys)
        v = vector(doc, stats, entity_weight, bm25)
        cands: set[int] = set()
        for k in v:
            cands |= index.get(k, set())
        best, best_s = -1, -1e9
        for c in sorted(cands):
            cen = centroids[c]
            fade = math.exp(-lam * (t - stamp[c])) if lam else 1.0
            s_cen = 0.0
            if mode in ("centroid", "mix"):
                dot = sum(w * cen.get(k, 0.0) for k, w in v.items()) * fade
                s_cen = dot / (math.sqrt(sqnorm[c]) * fade) if sqnorm[c] else 0.0
            s_max = 0.0
            if mode in ("max", "mix"):
                for m in recent[c]:
                    d = sum(w * m.get(k, 0.0) for k, w in v.items())
                    if d > s_max:
                        s_max = d
            s = s_cen if mode == "centroid" else s_max if mode == "max" else mix * s_cen + (1 - mix) * s_max
            if quiet:
                s *= math.exp(-(t - last[c]) / quiet)
            if rel_quiet:
                mean_gap = (t - first[c] + gap0) / sizes[c]
                s *= math.exp(-max(0.0, t - last[c] - rel_grace * mean_gap) / (rel_quiet * mean_gap))
            if size_mult:
                s *= 1.0 + size_mult * math.log(sizes[c])
            if size_prior:
                s += size_prior * math.log(sizes[c])
            if s > best_s:
                best, best_s = c, s
        if best >= 0 and best_s >= threshold:
            c = best
            if lam:
                f = math.exp(-lam * (t - stamp[c]))
                for k in centroids[c]:
                    centroids[c][k] *= f
                sqnorm[c] *= f * f
            cen = centroids[c]
            for k, w in v.items():
                old = cen.get(k, 0.0)
                cen[k] = old + w
                sqnorm[c] += (old + w) ** 2 - old * old
                index[k].add(c)
            stamp[c] = last[c] = t
            sizes[c] += 1
            if mode != "centroid":
                recent[c] = [*recent[c], v][-members:]
        else:
            c = len(centroids)
            centroids.append(dict(v))
            sqnorm.append(sum(w * w for w in v.values()))
            stamp.append(t)
            last.append(t)
            first.append(t)
            sizes.append(1)
            recent.append([v] if mode != "centroid" else [])
            for k in v:
                index[k].add(c)
        out.append(c)
    return out


# ----------------------------------------------------------------------------------------------
# one-pass Dirichlet-multinomial mixture (MStream-like)


def run_dmm(
    docs: list[Doc],
    alpha: float = 0.03,  # new-cluster weight: alpha * D (D = articles so far) as in MStream, or
    alpha_const: float = 0.0,  # a constant CRP concentration if > 0
    beta: float = 0.03,
    entities: bool = True,  # entities as extra words ("e:" keys)
    half_life: float = 0.0,  # in articles: all counts of a cluster fade with this half-life; 0 = never
    idf_power: float = 0.0,  # word log-likelihood ratios scaled by (idf/mean idf)**p (0 = plain DMM)
    vocab: str = "seen",  # V: "seen" = distinct features so far
    min_shared: int = 1,  # a cluster is a candidate when it shares this many features
    size_power: float = 1.0,  # prior m_z ** size_power
    rel_fade: float = 0.0,  # if > 0: counts scaled at scoring time by exp(-gap / (rel_fade * mean_gap_z))
    gap0: float = 0.0,  # prior articles added to a cluster's age when estimating its mean gap
    grace: float = 0.0,  # gap (articles) that costs nothing under rel_fade
    rel_grace: float = 0.0,  # under rel_fade: a gap of this many mean gaps costs nothing
    fade_prior_only: bool = False,  # rel_fade scales m_z only, not the word counts
    mu: float = 0.0,  # if > 0: Dirichlet prior mu * p_stream(w) (stream word frequencies) instead of beta
    biterms: str = "",  # "" unigrams; "only" word pairs as tokens (BTM / DP-BMM); "both" unigrams and pairs
) -> list[int]:
    """Argmax of the GSDMM/MStream conditional, one pass, binary words.

    log p(join z)  = log m_z + sum_w log(n_zw + beta) - sum_{i=1..N} log(n_z + V beta + i - 1)
    log p(new)     = log(alpha D)  + N log beta     - sum_{i=1..N} log(V beta + i - 1)
    """
    stats = Stats()
    m: list[float] = []  # documents (faded)
    n: list[float] = []  # words (faded)
    nw: list[dict[str, float]] = []
    stamp: list[int] = []
    first: list[int] = []
    joins: list[int] = []
    index: dict[str, set[int]] = defaultdict(set)
    out = []
    lam = math.log(2) / half_life if half_life else 0.0
    tokens = 0
    for t, doc in enumerate(docs):
        stats.count(doc.keys)
        words = doc.keys if entities else sorted(doc.terms)
        if biterms:
            pairs = [a + "|" + b for i, a in enumerate(words) for b in words[i + 1 :]] or list(words)
            words = pairs if biterms == "only" else [*words, *pairs]
        N = len(words)
        V = len(stats.df)
        vb = V * beta
        D = t + 1
        new_w = alpha_const if alpha_const else alpha * D
        if idf_power:
            idfs = [stats.idf(w) for w in words]
            mean = sum(idfs) / len(idfs) if idfs else 1.0
            scale = [(x / mean) ** idf_power for x in idfs]
        else:
            scale = [1.0] * N
        if mu:  # base measure: the stream's own word distribution so far
            tokens += N
            vb = mu
            scale = [sc * 1.0 for sc in scale]
            base = [mu * stats.df[w] / tokens for w in words]
        else:
            base = [beta] * N
        log_new = math.log(new_w) - sum(math.log(vb + i) for i in range(N))
        # the N log beta term of "new" is cancelled by writing join as sum log(1 + n_zw/beta)
        cand_count: dict[int, int] = defaultdict(int)
        for w in words:
            for c in index.get(w, ()):
                cand_count[c] += 1
        best, best_s = -1, log_new
        for c in sorted(cand_count):
            if cand_count[c] < min_shared:
                continue
            f = math.exp(-lam * (t - stamp[c])) if lam else 1.0
            if rel_fade:
                mean_gap = (t - first[c] + gap0) / joins[c]
                f *= math.exp(-max(0.0, t - stamp[c] - grace - rel_grace * mean_gap) / (rel_fade * mean_gap))
            mz, nz, cw = m[c] * f, n[c] * f, nw[c]
            if fade_prior_only:
                nz, f = n[c], 1.0
            s = size_power * math.log(mz)
            for w, sc, b in zip(words, scale, base):
                x = cw.get(w)
                if x:
                    s += sc * math.log1p(x * f / b)
            s -= sum(math.log(nz + vb + i) for i in range(N))
            if s > best_s:
                best, best_s = c, s
        if best < 0:
            c = len(m)
            m.append(0.0)
            n.append(0.0)
            nw.append({})
            stamp.append(t)
            first.append(t)
            joins.append(0)
        else:
            c = best
            if lam:
                f = math.exp(-lam * (t - stamp[c]))
                m[c] *= f
                n[c] *= f
                cw = nw[c]
                for k in cw:
                    cw[k] *= f
        m[c] += 1
        n[c] += N
        joins[c] += 1
        cw = nw[c]
        for w in words:
            cw[w] = cw.get(w, 0.0) + 1
            index[w].add(c)
        stamp[c] = t
        out.append(c)
    return out


# ----------------------------------------------------------------------------------------------


def evaluate(name: str, method: str, params: dict) -> dict:
    docs, gold = load(name)
    t0 = time.time()
    run = {"cos": run_cos, "dmm": run_dmm}[method]
    labels = run(docs, **params)
    pred = {d.id: c for d, c in zip(docs, labels)}
    s = cluster_scores({d.id: gold[d.id] for d in docs}, pred)
    return {
        "nmi": round(s["nmi"], 3),
        "pf1": round(s["pairwise_f1"], 3),
        "bf1": round(s["bcubed_f1"], 3),
        "k": s["predicted_clusters"],
        "sec": round(time.time() - t0, 1),
    }


METHODS: dict[str, tuple[str, dict]] = {}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("methods", nargs="*", help="names from METHODS (default: all)")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--grid", help="ad-hoc run: METHOD:json-params, e.g. 'dmm:{\"alpha\":0.03}'")
    args = ap.parse_args()
    sets = args.sets.split(",")
    todo = [(f"adhoc {args.grid}", *_parse(args.grid))] if args.grid else [
        (k, *METHODS[k]) for k in (args.methods or METHODS)
    ]
    print(f"{'method':34s} " + " ".join(f"{s:>28s}" for s in sets))
    for label, method, params in todo:
        cells = []
        for s in sets:
            r = evaluate(s, method, params)
            cells.append(f"{r['nmi']:.3f} {r['pf1']:.3f} {r['bf1']:.3f} {r['k']:5d} {r['sec']:4.0f}s")
        print(f"{label:34s} " + " ".join(f"{c:>28s}" for c in cells), flush=True)


def _parse(spec: str) -> tuple[str, dict]:
    method, _, js = spec.partition(":")
    return method, json.loads(js or "{}")


if __name__ == "__main__":
    main()
