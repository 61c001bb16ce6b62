"""Similarity of words through their WordNet senses: Lin, Resnik (information content),
path and Wu-Palmer; a word pair takes its best pair of senses."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np

from .reader import _synsets

if TYPE_CHECKING:  # pragma: no cover
    from nltk.corpus.reader.wordnet import Synset, WordNetCorpusReader

__all__ = ["MEASURES", "similarity_matrix", "word_similarity"]

#: Similarity measures understood by :func:`word_similarity` / :func:`similarity_matrix`.
MEASURES = ("lin", "resnik", "path", "wup")
_IC_MEASURES = ("lin", "resnik")


def _check_measure(measure: str, ic: dict | None, pos: str | None) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if measure in _IC_MEASURES:
        if ic is None:
            raise ValueError(
                f"{measure!r} needs an information-content table (ic=load_information_content())"
            )
        if pos not in ("n", "v"):
            raise ValueError(f"{measure!r} is defined for nouns ('n') or verbs ('v') only, got pos={pos!r}")
    elif pos is None:
        raise ValueError("give one part of speech (pos='n', 'v', 'a' or 'r')")


def _synset_similarity(s1: "Synset", s2: "Synset", measure: str, ic: dict | None) -> float:
    if measure == "lin":
        try:
            return float(s1.lin_similarity(s2, ic))
        except ZeroDivisionError:  # both the root (IC 0): the same concept
            return 1.0
    if measure == "resnik":
        return float(s1.res_similarity(s2, ic))
    value = s1.path_similarity(s2) if measure == "path" else s1.wup_similarity(s2)
    return 0.0 if value is None else float(value)


def word_similarity(
    wn: "WordNetCorpusReader",
    w1: str,
    w2: str,
    measure: str = "lin",
    ic: dict | None = None,
    pos: str | None = "n",
) -> float:
    """WordNet similarity of two words: the best over their senses.

    ``sim(w1, w2) = max_{s1 ∈ S(w1), s2 ∈ S(w2)} sim(s1, s2)`` over the synsets
    ``S(w)`` of part of speech ``pos`` (WordNet knows concepts, not words; the max
    picks the pair of senses that are closest, the usual convention):

    * ``"lin"``: ``2 IC(lcs) / (IC(s1) + IC(s2))`` (Lin 1998), in ``[0, 1]``;
    * ``"resnik"``: ``IC(lcs)`` (Resnik 1995), in ``[0, ∞)``;
    * ``"path"``: ``1 / (1 + shortest hypernym-path length)``;
    * ``"wup"``: Wu-Palmer, ``2 depth(lcs) / (depth(s1) + depth(s2))``;

    ``lcs`` the most informative common subsumer (hypernym or instance hypernym,
    the synsets themselves included); values are NLTK's. ``ic`` (from
    :func:`load_information_content`) is required for Lin and Resnik, which are
    defined for nouns and verbs.

    Returns ``nan`` when either word has no synset of that part of speech, so an
    unknown word is never mistaken for an unrelated one (``0``).
    """
    _check_measure(measure, ic, pos)
    S1, S2 = _synsets(wn, w1, pos), _synsets(wn, w2, pos)
    if not S1 or not S2:
        return math.nan
    return max(_synset_similarity(a, b, measure, ic) for a in S1 for b in S2)


def _ancestors(ss: "Synset") -> list["Synset"]:
    """The synset and all its (instance) hypernyms - NLTK's ``common_hypernyms`` set."""
    out = [ss]
    seen = {ss}
    todo = [ss]
    while todo:
        nxt = []
        for s in todo:
            for h in s.hypernyms() + s.instance_hypernyms():
                if h not in seen:
                    seen.add(h)
                    out.append(h)
                    nxt.append(h)
        todo = nxt
    return out


def similarity_matrix(
    wn: "WordNetCorpusReader",
    words: Sequence[str],
    measure: str = "lin",
    ic: dict | None = None,
    pos: str | None = "n",
    progress: bool = False,
) -> np.ndarray:
    """``(n, n)`` float64 matrix of :func:`word_similarity` over a word (tag, label) list.

    Same values as :func:`word_similarity` (max over sense pairs; ``nan`` rows and
    columns for words WordNet does not know), symmetric.

    Lin and Resnik are vectorised: with ``A(s)`` the ancestors of synset ``s`` and
    the concepts ``c`` ranked by IC, the subsumer IC of ``(a, b)`` is the largest
    ``IC(c)`` over ``c ∈ A(a) ∩ A(b)`` (0 if none), computed for one synset ``a``
    against all synsets at once by walking ``A(a)`` in decreasing IC. The cost is
    about ``|U|² · depth`` array operations for ``|U|`` distinct synsets - about a
    second for 1000 tags on one core. ``"path"`` and ``"wup"`` call NLTK for every
    pair of distinct synsets (about 50-100 µs each): fine for a few hundred words.
    """
    _check_measure(measure, ic, pos)
    words = list(words)
    n = len(words)
    sets = [_synsets(wn, w, pos) for w in words]
    uniq: dict[Any, int] = {}
    for S in sets:
        for s in S:
            uniq.setdefault(s, len(uniq))
    U = list(uniq)
    out = np.full((n, n), np.nan)
    if not U:
        return out
    # columns ordered by (word, synset) so a row over U reduces to words with reduceat
    known = [i for i in range(n) if sets[i]]
    col_syn = np.array([uniq[s] for i in known for s in sets[i]], dtype=np.int64)
    starts = np.cumsum([0] + [len(sets[i]) for i in known[:-1]])

    if measure in _IC_MEASURES:
        row_fn = _ic_rows(U, measure, ic)
    else:
        cache: dict[tuple[int, int], float] = {}

        def row_fn(a: int) -> np.ndarray:
            row = np.empty(len(U))
            for b, sb in enumerate(U):
                k = (a, b) if a <= b else (b, a)
                if k not in cache:
                    cache[k] = _synset_similarity(U[a], sb, measure, ic)
                row[b] = cache[k]
            return row

    it: Iterable[int] = known
    if progress:
        from tqdm import tqdm

        it = tqdm(known, desc=f"WordNet {measure} similarity", unit="word")
    for i in it:
        best = np.max(np.stack([row_fn(uniq[s]) for s in sets[i]]), axis=0)
        out[i, known] = np.maximum.reduceat(best[col_syn], starts)
    # exact symmetry (max over pairs is symmetric; rows were computed independently)
    return np.fmax(out, out.T)


def _ic_rows(U: list, measure: str, ic: dict):
    """A function ``a -> (|U|,)`` Lin or Resnik values of synset ``U[a]`` against all of ``U``."""
    from nltk.corpus.reader.wordnet import information_content

    concept: dict[Any, int] = {}
    anc_idx: list[np.ndarray] = []
    for s in U:
        ids = [concept.setdefault(c, len(concept)) for c in _ancestors(s)]
        anc_idx.append(np.array(ids, dtype=np.int64))
    concepts = list(concept)
    c_ic = np.array([information_content(c, ic) for c in concepts])
    own_ic = np.array([information_content(s, ic) for s in U])
    # members[c]: the synsets of U that have concept c among their ancestors
    members: list[list[int]] = [[] for _ in concepts]
    for a, ids in enumerate(anc_idx):
        for c in ids:
            members[c].append(a)
    members_arr = [np.array(m, dtype=np.int64) for m in members]
    # ancestors of each synset by decreasing IC (ties by concept id: deterministic)
    order = [ids[np.lexsort((ids, -c_ic[ids]))] for ids in anc_idx]

    def row(a: int) -> np.ndarray:
        lcs = np.zeros(len(U))  # no common subsumer: IC 0, as in NLTK
        done = np.zeros(len(U), dtype=bool)
        for c in order[a]:
            m = members_arr[c]
            new = m[~done[m]]
            if new.size:
                lcs[new] = c_ic[c]
                done[new] = True
        if measure == "resnik":
            return lcs
        denom = own_ic[a] + own_ic
        with np.errstate(divide="ignore", invalid="ignore"):
            lin = 2.0 * lcs / denom
        lin[denom == 0] = 1.0  # both the root (IC 0): the same concept
        return lin

    return row
