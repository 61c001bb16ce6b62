"""Tag vocabularies and binary metadata matrices.

The LTN paper keeps the τ most frequent tags of the *training* set (τ = 5000 on
NUS-WIDE, 457 "usual" tags on MIRFlickr) and represents an image's metadata by a
binary vector z ∈ {0, 1}^τ. Frequency is document frequency (the number of
images carrying a token); ties are broken alphabetically so a vocabulary is a
pure function of its inputs.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["Vocabulary", "simple_lemmatise", "vocabulary_shift", "document_frequency"]

Lemmatiser = Callable[[str], str]


def simple_lemmatise(token: str) -> str:
    """A small rule-based English lemmatiser for tags (plural stripping).

    ``"flowers" -> "flower"``, ``"puppies" -> "puppy"``, ``"glasses" -> "glass"``;
    words ending in ``ss``, ``us`` or ``is`` and short words are left alone.
    It is deliberately conservative; a WordNet lemmatiser can be passed instead
    wherever a ``lemmatiser`` argument is taken.
    """
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("sses", "shes", "ches", "xes")):
        return token[:-2]
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _normalise(tokens: Iterable[str], lemmatiser: Lemmatiser | None) -> set[str]:
    if lemmatiser is None:
        return set(tokens)
    return {lemmatiser(t) for t in tokens}


def document_frequency(
    token_lists: Sequence[Sequence[str]],
    index: np.ndarray | None = None,
    lemmatiser: Lemmatiser | None = None,
) -> Counter:
    """Number of images (restricted to ``index`` if given) that carry each token."""
    rows = range(len(token_lists)) if index is None else index
    counts: Counter = Counter()
    for i in rows:
        counts.update(_normalise(token_lists[i], lemmatiser))
    return counts


def _ranked(counts: Counter, min_count: int = 1) -> list[str]:
    """Tokens by descending count, ties alphabetical."""
    return [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= min_count]


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """An ordered token vocabulary mapping token lists to binary vectors.

    Attributes:
        tokens: the vocabulary, column order of :meth:`encode`.
        lemmatiser: applied to every token before lookup (``None``: tokens as given).
    """

    tokens: tuple[str, ...]
    lemmatiser: Lemmatiser | None = None
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = {t: i for i, t in enumerate(self.tokens)}
        if len(index) != len(self.tokens):
            raise ValueError("vocabulary tokens must be unique")
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self._index

    def __repr__(self) -> str:
        head = ", ".join(self.tokens[:5])
        return f"Vocabulary({len(self)} tokens: {head}{', ...' if len(self) > 5 else ''})"

    def index_of(self, token: str) -> int:
        return self._index[token]

    @classmethod
    def top_frequent(
        cls,
        token_lists: Sequence[Sequence[str]],
        size: int | None,
        index: np.ndarray | None = None,
        min_count: int = 1,
        lemmatiser: Lemmatiser | None = None,
    ) -> "Vocabulary":
        """The ``size`` most frequent tokens among the images at ``index`` (τ in the LTN paper).

        Args:
            token_lists: ``N`` token sequences.
            size: τ; ``None`` keeps every token with at least ``min_count`` images.
            index: images to count over - pass the *training* indices so the
                test set never shapes the vocabulary.
            min_count: drop tokens on fewer images (MIRFlickr's usual 457-tag
                vocabulary is ``min_count=50`` over all 25k images).
            lemmatiser: e.g. :func:`simple_lemmatise`.
        """
        ranked = _ranked(document_frequency(token_lists, index, lemmatiser), min_count)
        return cls(tuple(ranked if size is None else ranked[:size]), lemmatiser)

    def encode(self, token_lists: Sequence[Sequence[str]]) -> sp.csr_matrix:
        """Binary metadata matrix ``Z``, shape ``(N, τ)``, float32 CSR with sorted indices.

        ``Z[i, j] = 1`` iff image ``i`` carries token ``j`` (after lemmatisation);
        repeated and out-of-vocabulary tokens are ignored.
        """
        indptr = [0]
        indices: list[int] = []
        for toks in token_lists:
            cols = sorted({self._index[t] for t in _normalise(toks, self.lemmatiser) if t in self._index})
            indices.extend(cols)
            indptr.append(len(indices))
        n = len(token_lists)
        data = np.ones(len(indices), dtype=np.float32)
        return sp.csr_matrix(
            (data, np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(n, len(self)),
        )


def vocabulary_shift(
    token_lists: Sequence[Sequence[str]],
    overlap: float,
    seed: int = 0,
    n_top: int = 10_000,
    index: np.ndarray | None = None,
    lemmatiser: Lemmatiser | None = None,
) -> tuple[Vocabulary, Vocabulary]:
    """Train and test vocabularies for the LTN paper's vocabulary-shift experiment.

    The ``n_top`` most frequent tokens are shuffled (seeded) and cut into halves
    A and B of ``h = n_top // 2``. The train vocabulary is A; the test vocabulary
    shares ``round(overlap * h)`` tokens with A and takes the rest from B:
    ``overlap = 0`` gives disjoint halves, ``overlap = 1`` the same half.

    Returns:
        ``(train_vocab, test_vocab)``, each of ``h`` tokens.
    """
    if not 0.0 <= overlap <= 1.0:
        raise ValueError(f"overlap must be in [0, 1], got {overlap}")
    ranked = _ranked(document_frequency(token_lists, index, lemmatiser))[:n_top]
    if len(ranked) < 2:
        raise ValueError("need at least two distinct tokens for a vocabulary shift")
    perm = np.random.default_rng(seed).permutation(len(ranked))
    h = len(ranked) // 2
    shared = int(round(overlap * h))
    a = [ranked[i] for i in perm[:h]]
    b = [ranked[i] for i in perm[h : 2 * h]]
    test = a[:shared] + b[: h - shared]
    return Vocabulary(tuple(a), lemmatiser), Vocabulary(tuple(test), lemmatiser)
