"""Tag semantics for weakly-supervised annotation: WordNet tag vocabularies and tag affinities.

The weakly-supervised tag-refinement paper (``shared/papers/003``, "Semantic
Dependency" and "Data Preprocessing") builds its tag set and a tag-pair look-up
table ξ as follows:

* **Preprocessing** (:func:`weak_vocabulary`): lemmatise every tag to its dictionary
  form, drop the tags WordNet does not know, keep the tags on at least 0.1 % of
  the images (Table 1: 444 tags, 2.7 tags per image on MIRFlickr-25K).
* **Context distance** (:func:`normalised_google_distance`, Eq. 3): the normalised
  Google distance of Cilibrasi & Vitányi (2007), counted over images instead of
  web pages.
* **Knowledge-base distance** (:func:`wordnet_distance`): ``1 - Lin`` similarity
  (information content of the least common subsumer and of the two synsets).
* **Affinity** (:func:`tag_affinity`, Eq. 4-5): ``dist = dist_ctx + α dist_KB`` and
  ``ξ = exp(-dist² / σ)``, the weights of the semantic-dependency loss (Eq. 6-8).

WordNet lookups reuse :func:`neighborlib.wordnet.lemma_key` (normalisation and
``morphy``) and :func:`neighborlib.wordnet.similarity_matrix`; vocabularies are
:class:`neighborlib.data.Vocabulary` objects. Nothing here holds module state.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .data.vocab import Vocabulary, _ranked, document_frequency
from .wordnet.reader import lemma_key
from .wordnet.similarity import similarity_matrix

if TYPE_CHECKING:  # pragma: no cover
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

__all__ = [
    "normalised_google_distance",
    "tag_affinity",
    "weak_vocabulary",
    "wordnet_distance",
    "wordnet_lemmatiser",
]


# ----------------------------------------------------------------------------- vocabulary


def wordnet_lemmatiser(wn: "WordNetCorpusReader") -> Callable[[str], str | None]:
    """A lemmatiser mapping a raw tag to its WordNet lemma, ``None`` when WordNet does not know it.

    ``tag -> lemma_key(wn, tag, pos=None)``: the tag lower-cased (spaces to ``_``)
    when it is itself a lemma, else its base form by WordNet's ``morphy``, trying
    noun, verb, adjective, adverb in turn (``"dogs" -> "dog"``, ``"Clouds" ->
    "cloud"``, ``"nikond70s" -> None``). Each call of this factory returns a new
    function with its own memo (a dict in the closure): a tag is looked up once.
    """
    memo: dict[str, str | None] = {}

    def lemmatise(tag: str) -> str | None:
        try:
            return memo[tag]
        except KeyError:
            lemma = memo[tag] = lemma_key(wn, tag, pos=None)
            return lemma

    return lemmatise


def _threshold(min_fraction: float, n_images: int) -> int:
    """``ceil(min_fraction · n_images)``, with ``min_fraction`` read as the decimal it prints as.

    ``Fraction(repr(x))`` avoids binary rounding pushing an exact bound up by one
    (``0.1 * 30 == 3.0000000000000004`` in floating point, whose ceil is 4).
    """
    return math.ceil(Fraction(repr(float(min_fraction))) * n_images)


def weak_vocabulary(
    token_lists: Sequence[Sequence[str]],
    wn: "WordNetCorpusReader",
    index: np.ndarray | Sequence[int] | None = None,
    min_fraction: float = 0.001,
    keep: Iterable[str] = (),
) -> Vocabulary:
    """The paper's preprocessed tag set ("Data Preprocessing"; Table 1's ``C``).

    1. every tag is lemmatised to its WordNet dictionary form
       (:func:`wordnet_lemmatiser`); tags WordNet does not know are dropped;
    2. a lemma is kept when it is carried by **at least** ``min_fraction · N`` of the
       ``N`` counted images (``>=``, the bound included): for integer counts that
       is ``f(t) >= ceil(min_fraction · N)``. Frequency is document frequency (an
       image carrying ``"dog"`` and ``"dogs"`` counts once for ``dog``);
    3. the lemmas of ``keep`` (e.g. the label names' tags) are appended, in the
       order given, when not already there - whatever their count.

    Args:
        token_lists: ``N_all`` raw tag sequences, one per image.
        wn: a WordNet reader (:func:`neighborlib.wordnet.load_wordnet`).
        index: images to count over (the training part); ``None``: all images.
            ``N = len(index)`` (or ``N_all``).
        min_fraction: the occurrence threshold as a fraction of ``N`` (the paper's
            0.1 %); read as the decimal it prints as, so ``0.1 · 30`` gives 3.
        keep: words to force into the vocabulary (lemmatised like the tags).

    Returns:
        A :class:`~neighborlib.data.Vocabulary` ordered by descending document
        frequency, ties alphabetical (as :meth:`Vocabulary.top_frequent`), then
        the ``keep`` lemmas. Its ``lemmatiser`` maps a raw tag to its lemma and a
        tag WordNet does not know to ``""``, which is never a token, so
        :meth:`Vocabulary.encode` ignores it.

    Raises:
        ValueError: ``min_fraction`` outside ``[0, 1]``; a ``keep`` word WordNet
            does not know (all such words are named).
    """
    if not (0.0 <= float(min_fraction) <= 1.0):
        raise ValueError(f"min_fraction must be in [0, 1], got {min_fraction!r}")
    lemmatise = wordnet_lemmatiser(wn)

    def to_token(tag: str) -> str:
        lemma = lemmatise(tag)
        return "" if lemma is None else lemma

    keep = list(keep)
    unknown = [w for w in keep if lemmatise(w) is None]
    if unknown:
        raise ValueError(f"keep words not in WordNet: {unknown}")

    if index is not None:
        index = np.asarray(index)
        if index.ndim != 1:
            raise ValueError(f"index must be one-dimensional, got shape {index.shape}")
    n_images = len(token_lists) if index is None else len(index)
    counts = document_frequency(token_lists, index, to_token)
    counts.pop("", None)
    tokens = _ranked(counts, max(1, _threshold(min_fraction, n_images)))
    present = set(tokens)
    for word in keep:
        lemma = to_token(word)
        if lemma not in present:
            tokens.append(lemma)
            present.add(lemma)
    return Vocabulary(tuple(tokens), to_token)


# ----------------------------------------------------------------------------- distances


def normalised_google_distance(G: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Context distance of the paper's Eq. 3: the normalised Google distance over images.

    With ``f(t_i)`` the number of images carrying tag ``i``, ``f(t_i, t_j)`` the
    number carrying both, and ``N`` the number of images (rows of ``G``)::

        dist_ctx(t_i, t_j) = (max(log f_i, log f_j) - log f_ij) / (log N - min(log f_i, log f_j))

    (Cilibrasi & Vitányi 2007, images in place of web pages). It is ``+inf`` for
    tags that never co-occur (``f_ij = 0``), ``0`` on the diagonal, and ``0`` for
    two tags that are both on every image (where the formula is ``0/0``).

    Args:
        G: ``(N, C)`` binary image-tag matrix, numpy or scipy sparse (e.g.
            :meth:`Vocabulary.encode`).

    Returns:
        ``(C, C)`` float64 symmetric matrix, values in ``[0, ∞]``.

    Raises:
        ValueError: ``G`` is not 2-D, not binary (NaN included), has no rows, or
            has tags on no image (``f = 0``; the columns are named).
    """
    if G.ndim != 2:
        raise ValueError(f"G must be a 2-D (N, C) matrix, got shape {G.shape}")
    n, c = G.shape
    if n == 0:
        raise ValueError("G has no rows (images)")
    if sp.issparse(G):
        G = sp.csr_matrix(G, dtype=np.float64, copy=True)  # the caller's matrix is left alone
        G.sum_duplicates()
        values = G.data
    else:
        G = np.asarray(G, dtype=np.float64)
        values = G
    bad = ~((values == 0) | (values == 1))
    if bad.any():
        raise ValueError(
            f"G must be binary (0/1); found {np.unique(values[bad])[:5].tolist()} "
            f"({int(bad.sum())} entries)"
        )
    if sp.issparse(G):
        f = np.asarray(G.sum(axis=0)).ravel()
        f_ij = (G.T @ G).toarray()
    else:
        f = G.sum(axis=0)
        f_ij = G.T @ G
    empty = np.flatnonzero(f == 0)
    if empty.size:
        raise ValueError(f"tags on no image (f = 0) in columns {empty[:20].tolist()}: Eq. 3 is undefined")

    log_f = np.log(f)
    hi = np.maximum.outer(log_f, log_f)
    lo = np.minimum.outer(log_f, log_f)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = hi - np.log(f_ij)  # +inf where f_ij = 0
        den = math.log(n) - lo  # 0 only when both tags are on every image (then num = 0)
        dist = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    dist[f_ij == 0] = np.inf
    np.fill_diagonal(dist, 0.0)
    return dist


def wordnet_distance(
    wn: "WordNetCorpusReader",
    words: Sequence[str],
    ic: dict,
    pos: str = "n",
) -> np.ndarray:
    """Knowledge-base distance ``dist_KB = 1 - Lin`` similarity (the paper's ``dist_KB``, Eq. 4).

    Lin similarity ``2 IC(lcs) / (IC(s_1) + IC(s_2))`` of the best pair of senses
    of part of speech ``pos`` (:func:`neighborlib.wordnet.similarity_matrix` with
    ``measure="lin"``). A word without a sense of that part of speech gets Lin 0
    (distance 1) against every other word.

    Args:
        wn: a WordNet reader.
        words: ``C`` words (tags, lemmas).
        ic: an information-content table (:func:`neighborlib.wordnet.load_information_content`).
        pos: ``"n"`` or ``"v"`` (Lin is defined for nouns and verbs).

    Returns:
        ``(C, C)`` float64 symmetric matrix in ``[0, 1]``, diagonal 0.
    """
    lin = similarity_matrix(wn, words, "lin", ic, pos)
    dist = 1.0 - np.nan_to_num(lin, nan=0.0)
    np.clip(dist, 0.0, 1.0, out=dist)
    np.fill_diagonal(dist, 0.0)
    return dist


def _first_nan(a: np.ndarray) -> tuple[int, int]:
    i, j = np.argwhere(np.isnan(a))[0]
    return int(i), int(j)


def tag_affinity(
    context_distance: np.ndarray,
    kb_distance: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, float]:
    """Tag-pair affinity ξ of the paper's Eq. 4-5, the weights of the semantic-dependency loss (Eq. 6).

    ``dist = dist_ctx + α · dist_KB`` (Eq. 4) and ``ξ_ij = exp(-dist_ij² / σ)`` (Eq. 5).
    The paper says "σ is the medium value of ξ", which is circular; it is read here as
    the **median of the squared distance** ``dist²`` over the finite off-diagonal pairs
    (the usual heat-kernel bandwidth). ``ξ = 0`` where ``dist`` is infinite (tags that
    never co-occur) and on the diagonal: a tag paired with itself adds nothing to
    Eq. 6 (``‖p'_i - p'_i‖ = 0``) and Eq. 7 sums ``i ≠ j`` only.

    Args:
        context_distance: ``(C, C)`` ``dist_ctx`` (:func:`normalised_google_distance`).
        kb_distance: ``(C, C)`` ``dist_KB`` (:func:`wordnet_distance`).
        alpha: ``α >= 0``, the weight of the knowledge-base distance.

    Returns:
        ``(ξ, σ)``: ``(C, C)`` float64 symmetric matrix in ``[0, 1]`` and the float σ.

    Raises:
        ValueError: non-square or mismatched shapes; a NaN (the first pair is
            named); asymmetric distances; ``alpha`` negative or not finite; no
            finite off-diagonal pair, or a median ``dist²`` of 0.
    """
    ctx = np.asarray(context_distance, dtype=np.float64)
    kb = np.asarray(kb_distance, dtype=np.float64)
    for name, a in (("context_distance", ctx), ("kb_distance", kb)):
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"{name} must be a square (C, C) matrix, got shape {a.shape}")
    if ctx.shape != kb.shape:
        raise ValueError(f"shape mismatch: context_distance {ctx.shape} vs kb_distance {kb.shape}")
    for name, a in (("context_distance", ctx), ("kb_distance", kb)):
        if np.isnan(a).any():
            i, j = _first_nan(a)
            raise ValueError(f"{name} is NaN at pair (row {i}, column {j})")
        if not np.allclose(a, a.T):
            raise ValueError(f"{name} must be symmetric")
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")

    dist = ctx if alpha == 0 else ctx + alpha * kb  # alpha = 0: no 0·inf
    if np.isnan(dist).any():  # +inf and -inf summed
        i, j = _first_nan(dist)
        raise ValueError(f"dist_ctx + alpha·dist_KB is NaN (inf - inf) at pair (row {i}, column {j})")
    dist = 0.5 * (dist + dist.T)  # exactly symmetric
    sq = dist**2
    off = ~np.eye(len(dist), dtype=bool)
    finite = sq[off & np.isfinite(sq)]
    if finite.size == 0:
        raise ValueError("no finite off-diagonal distance: σ (the median dist²) is undefined")
    sigma = float(np.median(finite))
    if sigma <= 0:
        raise ValueError("the median squared distance σ is 0: Eq. 5 is undefined (too many identical tags?)")
    xi = np.exp(-sq / sigma)  # exp(-inf) = 0 for tags that never co-occur
    np.fill_diagonal(xi, 0.0)
    return xi, sigma
