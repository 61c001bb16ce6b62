"""The WordNet word graph of Saedi et al. (2018): lemmas linked by their strongest relation,
cached on disk; and the choice of a vocabulary (seeds first, then by degree)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..atomic import atomic_write, remove_stale_temporaries
from ..memo import BoundedMemo
from .cache import _EMBEDDING_VERSION, _default_cache_dir, _wordnet_fingerprint, embeddings_cache_key
from .reader import load_wordnet

if TYPE_CHECKING:  # pragma: no cover
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

__all__ = ["DEFAULT_RELATION_WEIGHTS", "WordNetGraph", "select_vocabulary", "wordnet_graph"]

#: Edge weights of the WordNet graph behind :func:`wordnet_embeddings` (relation -> weight).
#:
#: Saedi et al. (2018) weight hypernymy, hyponymy and antonymy (and synonymy) 1 and
#: meronymy/holonymy 0.8 (their reference code, ``pMatrix_builder``: ``"@", "@i",
#: "~", "~i", "!"`` -> 1; ``"%m", "%s", "%p", "#m", "#s", "#p"`` -> 0.8; words of
#: one synset -> 1). We add ``similar_to`` at weight 1: it is how WordNet organises
#: adjectives (a satellite adjective points at the head of its cluster), i.e. the
#: adjectival counterpart of hyponymy; without it most adjectives would have only
#: their synonyms and an occasional antonym. Instance hypernymy/hyponymy count as
#: hypernymy/hyponymy (as in the reference code). Further relations can be switched
#: on by passing ``relation_weights`` with a positive weight for any of
#: ``also_sees, entailments, causes, verb_groups, attributes`` (synset level) or
#: ``derivationally_related_forms, pertainyms`` (lemma level). (The configuration
#: shipped with the reference code, ``main.py``, instead sets ``equal_weight = True``
#: with every relation type: all weights 1.)
DEFAULT_RELATION_WEIGHTS: Mapping[str, float] = MappingProxyType({
    "synonym": 1.0,
    "hypernyms": 1.0,
    "hyponyms": 1.0,
    "instance_hypernyms": 1.0,
    "instance_hyponyms": 1.0,
    "antonyms": 1.0,
    "similar_tos": 1.0,
    "part_meronyms": 0.8,
    "part_holonyms": 0.8,
    "member_meronyms": 0.8,
    "member_holonyms": 0.8,
    "substance_meronyms": 0.8,
    "substance_holonyms": 0.8,
})  # fmt: skip
_SYNSET_RELATIONS = frozenset(
    {
        "hypernyms", "hyponyms", "instance_hypernyms", "instance_hyponyms", "similar_tos",
        "part_meronyms", "part_holonyms", "member_meronyms", "member_holonyms",
        "substance_meronyms", "substance_holonyms", "also_sees", "entailments", "causes",
        "verb_groups", "attributes",
    }
)  # fmt: skip
_LEMMA_RELATIONS = frozenset({"antonyms", "derivationally_related_forms", "pertainyms"})


@dataclass(frozen=True, eq=False)
class WordNetGraph:
    """The word graph of WordNet: nodes are lemmas, edges their strongest relation.

    Attributes:
        words: node names, sorted; lower-case lemma names with ``_`` (all parts of speech).
        adjacency: ``(n, n)`` symmetric CSR float64, ``M[i, j]`` the largest weight of a
            relation between any synset (lemma, for lexical relations) of ``words[i]``
            and any of ``words[j]``; zero diagonal.
        relation_weights: the weights used (relation name -> weight).
    """

    words: tuple[str, ...]
    adjacency: sp.csr_matrix
    relation_weights: Mapping[str, float]
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def __repr__(self) -> str:
        return f"WordNetGraph({len(self)} words, {self.adjacency.nnz // 2} edges)"

    def index_of(self, word: str) -> int:
        return self._index[word]

    @property
    def degree(self) -> np.ndarray:
        """Number of distinct related words of each word (nonzeros of its row)."""
        return np.diff(self.adjacency.indptr)

    def subgraph(self, index: Sequence[int] | np.ndarray) -> "WordNetGraph":
        """The graph induced on the words at ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        sub = self.adjacency[index][:, index].tocsr()
        sub.sort_indices()
        return WordNetGraph(tuple(self.words[i] for i in index), sub, self.relation_weights)


#: Memoised graphs (about 10 MB each), per (WordNet folder, weights): the two most recent.
_GRAPHS: BoundedMemo[WordNetGraph] = BoundedMemo(2)


def _weights(relation_weights: Mapping[str, float] | None) -> dict[str, float]:
    weights = dict(DEFAULT_RELATION_WEIGHTS if relation_weights is None else relation_weights)
    known = _SYNSET_RELATIONS | _LEMMA_RELATIONS | {"synonym"}
    unknown = set(weights) - known
    if unknown:
        raise ValueError(f"unknown WordNet relations {sorted(unknown)}; known: {sorted(known)}")
    for name, w in weights.items():
        if not (math.isfinite(w) and w >= 0):
            raise ValueError(f"relation weight must be finite and >= 0, got {name}={w}")
    return {k: float(v) for k, v in sorted(weights.items()) if v > 0}


def wordnet_graph(
    wn: "WordNetCorpusReader | None" = None,
    relation_weights: Mapping[str, float] | None = None,
    root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
) -> WordNetGraph:
    """The WordNet word graph of Saedi et al. (2018) over every lemma of WordNet 3.0.

    Nodes are the lemma names (nouns, verbs, adjectives, adverbs; lower-cased, so
    ``"Mercury"`` and ``"mercury"`` are one word: 147,306 words in WordNet 3.0).
    For every synset ``s`` and every relation ``r`` with weight ``w_r > 0`` (see
    :data:`DEFAULT_RELATION_WEIGHTS`) each lemma of ``s`` is linked to each lemma of
    every synset ``r(s)`` (``"synonym"``: to the other lemmas of ``s``; lexical
    relations such as antonymy link the lemmas WordNet names, e.g. ``good``/``bad``
    but not ``good``/``badness``). Then

        M[i, j] = max { w_r : word i and word j are linked by r },

    made symmetric (``M = max(M, Mᵀ)``; WordNet lists most relations in both
    directions anyway) with a zero diagonal. Saedi et al.'s reference code *adds*
    the weights of parallel links instead; the strongest relation keeps ``M`` in
    the weights' range and makes a word's row independent of how many senses
    connect it to a neighbour.

    Building it parses all 117,659 synsets with NLTK (about 20 s), so the graph is
    memoised per (WordNet folder, weights) (the two most recent) and, with ``use_cache``, stored as
    ``<cache_dir>/<key>.npz`` (``cache_dir`` defaulting to
    ``neighborlib.data.cache_root() / "wordnet_graph"``; ``key`` hashes the weights,
    a fingerprint of the WordNet files and this code's version): later loads take
    well under a second.
    """
    weights = _weights(relation_weights)
    if wn is None:
        wn = load_wordnet(root)
    base = Path(str(wn.root)).parent.parent  # <root>/corpora/wordnet -> <root>
    key = (str(wn.root), tuple(weights.items()))
    if key in _GRAPHS:
        return _GRAPHS.get(key)
    path = None
    if use_cache:
        name = embeddings_cache_key(
            {
                "graph_version": _EMBEDDING_VERSION,
                "relation_weights": weights,
                "wordnet": _wordnet_fingerprint(base),
            }
        )
        folder = Path(cache_dir) if cache_dir is not None else _default_cache_dir("wordnet_graph")
        path = folder / f"{name}.npz"
        graph = _load_graph(path, weights)
        if graph is not None:
            return _GRAPHS.put(key, graph)

    words = sorted({name.lower() for name in wn.all_lemma_names()})
    index = {w: i for i, w in enumerate(words)}
    by_weight: dict[float, tuple[list[int], list[int]]] = {}

    def link(w: float, a: list[int], b: list[int]) -> None:
        rows, cols = by_weight.setdefault(w, ([], []))
        for i in a:
            rows.extend([i] * len(b))
            cols.extend(b)

    syn_rel = [(r, w) for r, w in weights.items() if r in _SYNSET_RELATIONS]
    lem_rel = [(r, w) for r, w in weights.items() if r in _LEMMA_RELATIONS]
    names_of: dict[Any, list[int]] = {}

    def ids(ss: Any) -> list[int]:
        got = names_of.get(ss)
        if got is None:
            got = names_of[ss] = sorted({index[n.lower()] for n in ss.lemma_names()})
        return got

    for ss in wn.all_synsets():
        own = ids(ss)
        if "synonym" in weights and len(own) > 1:
            link(weights["synonym"], own, own)
        for rel, w in syn_rel:
            for other in getattr(ss, rel)():
                link(w, own, ids(other))
        if lem_rel:
            for lemma in ss.lemmas():
                i = [index[lemma.name().lower()]]
                for rel, w in lem_rel:
                    targets = [index[t.name().lower()] for t in getattr(lemma, rel)()]
                    if targets:
                        link(w, i, targets)

    n = len(words)
    M = sp.csr_matrix((n, n))
    for w, (rows, cols) in by_weight.items():
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        E = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
        E.data[:] = w  # duplicates summed by the constructor: reset to the weight
        M = M.maximum(E)
    M = M.maximum(M.T).tolil()
    M.setdiag(0)
    M = M.tocsr()
    M.eliminate_zeros()
    M.sort_indices()
    graph = WordNetGraph(tuple(words), M, weights)
    if path is not None:
        _save_graph(path, graph)
    return _GRAPHS.put(key, graph)


def _save_graph(path: Path, graph: WordNetGraph) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    A = graph.adjacency
    atomic_write(
        path,
        lambda fh: np.savez_compressed(
            fh,
            words=np.frombuffer("\n".join(graph.words).encode("utf-8"), dtype=np.uint8),
            indptr=A.indptr, indices=A.indices, data=A.data,
        ),
    )  # fmt: skip


def _load_graph(path: Path, weights: dict[str, float]) -> WordNetGraph | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            words = tuple(z["words"].tobytes().decode("utf-8").split("\n"))
            n = len(words)
            A = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(n, n))
    except Exception:  # truncated / unreadable: rebuild
        return None
    return WordNetGraph(words, A, weights)


def select_vocabulary(
    graph: WordNetGraph, n_words: int | None, seeds: Sequence[str] | None = None
) -> np.ndarray:
    """Indices (into ``graph.words``) of the embedding vocabulary.

    * ``seeds=None``: the ``n_words`` words with the most related words (largest
      degree in the full graph; ties alphabetical), ordered so - Saedi et al.
      keep the 60,000 best connected lemmas of WordNet. ``n_words=None``: all words.
    * ``seeds`` (lemma keys present in ``graph``): the seeds, in the given order,
      then their neighbourhood breadth-first - all words at distance 1 (by
      decreasing degree, ties alphabetical), then distance 2, ... - until
      ``n_words`` words (never fewer than the seeds; fewer than ``n_words`` if the
      seeds' connected components are exhausted). ``n_words=None``: seeds and
      their direct neighbours.
    """
    deg = graph.degree
    n = len(graph)
    rank = np.lexsort((np.arange(n), -deg))  # words are sorted, so index order is alphabetical
    if seeds is None:
        return rank if n_words is None else rank[: max(0, int(n_words))]
    pos_in_rank = np.empty(n, dtype=np.int64)
    pos_in_rank[rank] = np.arange(n)
    chosen: list[int] = []
    taken = np.zeros(n, dtype=bool)
    for w in seeds:
        i = graph.index_of(w)
        if not taken[i]:
            taken[i] = True
            chosen.append(i)
    limit = (len(chosen) + n) if n_words is None else max(int(n_words), len(chosen))
    A = graph.adjacency
    frontier = np.array(chosen, dtype=np.int64)
    depth = 0
    while len(chosen) < limit and frontier.size:
        if n_words is None and depth == 1:
            break
        nbrs = np.unique(A[frontier].indices)
        nbrs = nbrs[~taken[nbrs]]
        nbrs = nbrs[np.argsort(pos_in_rank[nbrs], kind="stable")]
        nbrs = nbrs[: limit - len(chosen)]
        taken[nbrs] = True
        chosen.extend(nbrs.tolist())
        frontier = nbrs
        depth += 1
    return np.asarray(chosen, dtype=np.int64)
