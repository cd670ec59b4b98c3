"""Online story discovery experiments on the labelled streams in /work/shared/data/streams/.

    python bench/cluster_experiments.py [METHOD ...] [--sets a,b] [--validate]
    python bench/cluster_experiments.py --grid 'cos:{"threshold": 0.3, "merge": 0.3}'

Every method is single-pass, in stream order, deterministic, with no look-ahead and no gold labels
at run time: each article either joins the best-scoring existing cluster or starts a new one (the
``merge`` option may then fold that cluster into another, using only what has been seen so far).
Features are storywatch's own (``storylines.text.features``); document frequencies are learned from
the stream so far, counting the current article first, as ``storylines.service`` does. The clock is
the number of articles seen so far (``Stats.documents`` in the engine), not the timestamps.

Methods (``METHODS`` names the parameter sets of the report; ``--validate`` adds the mean over the
``VALIDATION`` re-orderings, which guard against tuning to one order):

* ``cos``  TF-IDF cosine to a cluster centroid (sum of members' unit vectors), or max / mix with the
           last members; optional size boost, quiet factors (absolute, or relative to the cluster's
           own mean gap between articles), term-pair features and online merging of clusters.
* ``dmm``  one-pass Dirichlet-multinomial mixture (MStream / GSDMM conditional, argmax of "join z" vs
           "new cluster"), with optional fading (absolute half-life or relative to the mean gap),
           a stream-frequency prior, biterms.

Each run takes about a second per stream; the whole report about a minute.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict
from pathlib import Path

from storywatch.evaluation.scoring import cluster_scores
from storywatch.storylines.text import features

ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT.parent / "shared" / "data" / "streams"  # ../shared beside the checkout
SETS = ("mstream_news", "mstream_newsT", "uci6k_mixed")


# ----------------------------------------------------------------------------------------------
# data


class Doc:
    __slots__ = ("entities", "id", "keys", "terms")

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
    "mstream_news~perm2",
    "mstream_news~T8-1",
    "mstream_news~T32-1",
    "uci6k_mixed~perm1",
    "uci6k_mixed~perm2",
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
        stories = sorted(set(gold.values()))
        rng.shuffle(stories)
        order = {g: i for i, g in enumerate(stories)}
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


def doc_pairs(doc: Doc) -> list[str]:
    ts = sorted(doc.terms)
    return [a + "|" + b for i, a in enumerate(ts) for b in ts[i + 1 :]]


def vector(
    doc: Doc, stats: Stats, entity_weight: float, bm25: bool = False, pairs: float = 0.0, combo: bool = False
) -> dict[str, float]:
    """Unit TF-IDF vector over terms and "e:" entities (entities scaled by entity_weight).

    With ``pairs`` > 0 the article's term pairs (co-occurrence "biterms") join as features, weighted by
    ``pairs`` times their own idf.
    """
    v: dict[str, float] = {}
    if pairs:
        for k in doc_pairs(doc):
            v[k] = pairs * stats.idf(k)
    for k, n in doc.terms.items():
        v[k] = (1.0 + math.log(n)) * stats.idf(k)
    for k, n in doc.entities.items():
        v["e:" + k] = (1.0 if combo else entity_weight) * (1.0 + math.log(n)) * stats.idf("e:" + k)
    if combo:  # the engine's ArticleVector: terms and entities each normalised on their own
        out: dict[str, float] = {}
        for part in (False, True):
            keys = [k for k in v if k.startswith("e:") == part and "|" not in k]
            norm = math.sqrt(sum(v[k] ** 2 for k in keys)) or 1.0
            out.update({k: v[k] / norm for k in keys})
        return out
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
    pairs: float = 0.0,  # weight of term-pair features (0 = none)
    size_pow: float = 0.0,  # score *= size ** size_pow
    single_bonus: float = 0.0,  # score *= 1 + single_bonus for one-article clusters
    merge: float = 0.0,  # if > 0: after a join, merge the cluster with another whose centroid cosine >= merge
    combo: bool = False,  # the engine's similarity: 0.6 term cosine + 0.4 entity cosine where both have entities
    limit: int = 0,  # if > 0: only the `limit` best clusters by raw similarity are scored (engine: candidates=20)
    index_top: int = 0,  # if > 0: a cluster is indexed only under its top-k centroid keys, as the engine's index
    trim: int = 0,  # if > 0: centroid keeps its top-k keys (engine: profile_terms = 250)
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
    dead: set[int] = set()
    parent: dict[int, int] = {}
    out = []
    lam = math.log(2) / half_life if half_life else 0.0
    for t, doc in enumerate(docs):
        stats.count(doc.keys)
        if pairs:
            stats.count(doc_pairs(doc))
            stats.documents -= 1
        v = vector(doc, stats, entity_weight, bm25, pairs, combo)
        cands: set[int] = set()
        for k in v:
            cands |= index.get(k, set())
        cands -= dead
        best, best_s = -1, -1e9
        if limit and len(cands) > limit:
            raw = []
            for c in cands:
                cen = centroids[c]
                raw.append(
                    (
                        -(
                            combo_cosine(v, cen)
                            if combo
                            else sum(w * cen.get(k, 0.0) for k, w in v.items()) / math.sqrt(sqnorm[c])
                        ),
                        c,
                    )
                )
            cands = {c for _, c in sorted(raw)[:limit]}
        for c in sorted(cands):
            cen = centroids[c]
            fade = math.exp(-lam * (t - stamp[c])) if lam else 1.0
            s_cen = 0.0
            if combo:
                s_cen = combo_cosine(v, cen)
            elif mode in ("centroid", "mix"):
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
            if size_pow:
                s *= sizes[c] ** size_pow
            if single_bonus and sizes[c] == 1:
                s *= 1.0 + single_bonus
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
            if trim and len(cen) > trim:
                kept = dict(sorted(cen.items(), key=lambda kv: (-kv[1], kv[0]))[:trim])
                cen.clear()
                cen.update(kept)
                sqnorm[c] = sum(x * x for x in cen.values())
            keys = sorted(cen, key=lambda k: (-cen[k], k))[:index_top] if index_top else v
            for k in keys:
                index[k].add(c)
            stamp[c] = last[c] = t
            sizes[c] += 1
            if mode != "centroid":
                recent[c] = [*recent[c], v][-members:]
            if merge:
                pool = set(cands) if limit else None  # the engine merges among the article's candidates
                c = _merge_step(c, centroids, sqnorm, sizes, first, last, index, dead, parent, merge, v, combo, pool)
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
    LAST_RUN["merges"] = len(parent)
    if parent:

        def root(c: int) -> int:
            while c in parent:
                c = parent[c]
            return c

        out = [root(c) for c in out]
    return out


def combo_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """storylines.detect.ArticleVector.similarity on "e:"-prefixed dicts: 0.6 terms + 0.4 entities."""
    dot = [0.0, 0.0]
    na = [0.0, 0.0]
    nb = [0.0, 0.0]
    for k, w in a.items():
        i = k.startswith("e:")
        na[i] += w * w
        x = b.get(k)
        if x:
            dot[i] += w * x
    for k, w in b.items():
        nb[k.startswith("e:")] += w * w
    ct = dot[0] / math.sqrt(na[0] * nb[0]) if na[0] and nb[0] else 0.0
    if na[1] and nb[1]:
        return 0.6 * ct + 0.4 * dot[1] / math.sqrt(na[1] * nb[1])
    return ct


LAST_RUN: dict[str, int] = {}


def _merge_step(
    c, centroids, sqnorm, sizes, first, last, index, dead, parent, threshold, v, combo=False, pool=None
) -> int:
    """Merge cluster c with the most similar live cluster (centroid cosine) if it passes threshold.

    The candidates are the clusters sharing a feature with the article (or ``pool``).
    """
    cen = centroids[c]
    cands: set[int] = set()
    if pool is not None:
        cands = set(pool)
    else:
        for k in v:
            cands |= index.get(k, set())
    cands -= dead
    cands.discard(c)
    best, best_s = -1, -1.0  # the most similar, ties to the smaller id
    nc = math.sqrt(sqnorm[c])
    for o in sorted(cands):
        co = centroids[o]
        if combo:
            s = combo_cosine(cen, co)
        else:
            a, b = (cen, co) if len(cen) < len(co) else (co, cen)
            s = sum(w * b.get(k, 0.0) for k, w in a.items()) / (nc * math.sqrt(sqnorm[o]))
        if s > best_s:
            best, best_s = o, s
    if best < 0 or best_s < threshold:
        return c
    keep, gone = (c, best) if sizes[c] >= sizes[best] else (best, c)
    ck, cg = centroids[keep], centroids[gone]
    for k, w in cg.items():
        ck[k] = ck.get(k, 0.0) + w
        index[k].add(keep)
    sqnorm[keep] = sum(x * x for x in ck.values())
    sizes[keep] += sizes[gone]
    first[keep] = min(first[keep], first[gone])
    last[keep] = max(last[keep], last[gone])
    dead.add(gone)
    parent[gone] = keep
    centroids[gone] = {}
    return keep


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
    v0: int = 0,  # V = max(distinct features so far, v0)
    min_shared: int = 1,  # a cluster is a candidate when it shares this many features
    size_power: float = 1.0,  # prior m_z ** size_power
    rel_fade: float = 0.0,  # if > 0: counts scaled at scoring time by exp(-gap / (rel_fade * mean_gap_z))
    gap0: float = 0.0,  # prior articles added to a cluster's age when estimating its mean gap
    grace: float = 0.0,  # gap (articles) that costs nothing under rel_fade
    rel_grace: float = 0.0,  # under rel_fade: a gap of this many mean gaps costs nothing
    fade_prior_only: bool = False,  # rel_fade scales m_z only, not the word counts
    index_top: int = 0,  # if > 0: a cluster is indexed only under its top-k words (by count), as the engine's index
    active_alpha: bool = False,  # new-cluster weight alpha * (sum of faded m_z + 1) instead of alpha * D
    mu: float = 0.0,  # if > 0: Dirichlet prior beta + mu * p_stream(w) (stream word frequencies)
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
        V = max(len(stats.df), v0)
        vb = V * beta
        D = t + 1
        new_w = alpha_const if alpha_const else alpha * D
        if active_alpha:
            mass = 1.0
            for c in range(len(m)):
                f = math.exp(-lam * (t - stamp[c])) if lam else 1.0
                if rel_fade:
                    mean_gap = (t - first[c] + gap0) / joins[c]
                    f *= math.exp(-max(0.0, t - stamp[c] - grace - rel_grace * mean_gap) / (rel_fade * mean_gap))
                mass += m[c] * f
            new_w = alpha * mass
        if idf_power:
            idfs = [stats.idf(w) for w in words]
            mean = sum(idfs) / len(idfs) if idfs else 1.0
            scale = [(x / mean) ** idf_power for x in idfs]
        else:
            scale = [1.0] * N
        if mu:  # prior pseudo-counts beta + mu * p_stream(w): the stream's own word distribution so far
            tokens += N
            vb = V * beta + mu
            base = [beta + mu * stats.df[w] / tokens for w in words]
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
            if f < 1e-9:
                continue
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
        keys = sorted(cw, key=lambda k: (-cw[k], k))[:index_top] if index_top else words
        for w in keys:
            index[w].add(c)
        stamp[c] = t
        out.append(c)
    return out


# ----------------------------------------------------------------------------------------------


def evaluate(name: str, method: str, params: dict) -> dict:
    docs, gold = load(name)
    t0 = time.time()
    run = {"cos": run_cos, "dmm": run_dmm}[method]
    LAST_RUN.clear()
    labels = run(docs, **params)
    pred = {d.id: c for d, c in zip(docs, labels)}
    s = cluster_scores({d.id: gold[d.id] for d in docs}, pred)
    return {
        "nmi": round(s["nmi"], 3),
        "pf1": round(s["pairwise_f1"], 3),
        "bf1": round(s["bcubed_f1"], 3),
        "k": s["predicted_clusters"],
        "sec": round(time.time() - t0, 1),
        "merges": LAST_RUN.get("merges", 0),
    }


_REC = {"threshold": 0.3, "size_mult": 0.5, "rel_quiet": 3, "rel_grace": 4, "gap0": 200, "entity_weight": 0.0}
METHODS: dict[str, tuple[str, dict]] = {
    # cosine to a centroid, one threshold
    "cos-baseline": ("cos", {"threshold": 0.1}),  # the README's plain baseline
    "cos-0.2": ("cos", {"threshold": 0.2}),
    "cos-bm25": ("cos", {"threshold": 0.12, "bm25": True}),
    "cos-max": ("cos", {"threshold": 0.3, "mode": "max"}),
    "cos-mix": ("cos", {"threshold": 0.2, "mode": "mix"}),
    "cos-pairs": ("cos", {**_REC, "merge": 0.3, "pairs": 0.6}),
    "cos-quiet1000": ("cos", {"threshold": 0.1, "quiet": 1000}),
    "cos-size": ("cos", {"threshold": 0.2, "size_mult": 0.2}),
    "cos-size-relquiet": ("cos", {**_REC, "threshold": 0.25, "size_mult": 0.8}),
    # one-pass Dirichlet-multinomial mixture
    "dmm-mstream": ("dmm", {"alpha": 0.1, "beta": 0.03}),
    "dmm-a0.3": ("dmm", {"alpha": 0.3, "beta": 0.03}),
    "dmm-halflife300": ("dmm", {"alpha": 0.3, "beta": 0.03, "half_life": 300}),
    "dmm-streamprior": ("dmm", {"alpha": 0.15, "beta": 0.03, "mu": 30, "rel_fade": 1, "rel_grace": 4, "gap0": 200}),
    "dmm-biterms": ("dmm", {"alpha": 0.1, "beta": 0.03, "biterms": "both"}),
    "dmm-relfade": (
        "dmm",
        {"alpha": 0.15, "beta": 0.03, "rel_fade": 1, "rel_grace": 4, "gap0": 200, "entities": False},
    ),
    # recommended: size-boosted cosine, relative quiet factor, online merge
    "rec-nomerge": ("cos", dict(_REC)),
    "rec": ("cos", {**_REC, "merge": 0.3}),
    "rec-engine-sim": ("cos", {**_REC, "merge": 0.3, "combo": True}),
    "rec-engine-index": ("cos", {**_REC, "merge": 0.3, "limit": 20, "index_top": 40, "trim": 250}),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("methods", nargs="*", help="names from METHODS (default: all)")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--validate", action="store_true", help="also the mean over the VALIDATION orders")
    ap.add_argument("--grid", help="ad-hoc run: METHOD:json-params, e.g. 'dmm:{\"alpha\":0.03}'")
    args = ap.parse_args()
    sets = args.sets.split(",")
    todo = (
        [(f"adhoc {args.grid}", *_parse(args.grid))]
        if args.grid
        else [(k, *METHODS[k]) for k in (args.methods or METHODS)]
    )
    print(
        "each cell: NMI / pairwise F1 / BCubed F1 / clusters"
        + ("; last: mean over VALIDATION" if args.validate else "")
    )
    print(f"{'method':20s} " + " ".join(f"{s:>24s}" for s in sets) + ("  validation mean" if args.validate else ""))
    for label, method, params in todo:
        cells = []
        for s in sets:
            r = evaluate(s, method, params)
            cells.append(f"{r['nmi']:.3f} {r['pf1']:.3f} {r['bf1']:.3f} {r['k']:4d}")
        if args.validate:
            rs = [evaluate(s, method, params) for s in VALIDATION]
            cells.append(" ".join(f"{sum(r[k] for r in rs) / len(rs):.3f}" for k in ("nmi", "pf1", "bf1")))
            cells[-1] += f" min {min(r['nmi'] for r in rs):.3f}"
        print(f"{label:20s} " + " ".join(f"{c:>24s}" for c in cells), flush=True)


def _parse(spec: str) -> tuple[str, dict]:
    method, _, js = spec.partition(":")
    return method, json.loads(js or "{}")


if __name__ == "__main__":
    main()
