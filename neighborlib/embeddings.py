"""Word vectors and the semantic embedding of metadata.

Tesan, Coscia, Ballan (ICPR 2020, arXiv:1910.05770) map an image's binary metadata
vector ``o ∈ {0, 1}^τ`` through word embeddings, their Eq. 6::

    ρ(o; β) = Σ_i o_i β(t_i)

the sum of the word vectors ``β(t_i)`` of the tags present, and look for cosine
neighbourhoods in that space (:func:`neighborlib.neighbours.cosine_neighbours`).
For a whole metadata matrix ``Z`` of shape ``(N, τ)`` this is one sparse-dense
product ``Z @ B``, where row ``i`` of ``B`` (``(τ, d)``) is the vector of tag ``t_i``,
or zeros when the tag has no vector (out of vocabulary, OOV).

Two pretrained resources are known, both shipped as files fetched by
:mod:`neighborlib.resources` (never downloaded at run time):

* ``"word2vec"`` - word2vec GoogleNews 300-d, the 26,423-word subset with unit-norm
  vectors distributed with Bolukbasi et al.'s debiasing code (binary word2vec format).
  Multi-word phrases appear joined by ``_`` (``pit_bull``), a few words capitalised.
* ``"glove"`` - GloVe 6B 50-d (Wikipedia + Gigaword, 400,000 lower-case words), an
  ``(400000, 50)`` float32 ``.npy`` array whose row ``i`` is the word in row ``i`` of
  the ``index`` column of the companion parquet file. Vectors are not normalised.

Token lookup (everywhere in this module): a token is looked up as it is, then
lower-cased; nothing else (no lemmatisation, no splitting of compounds such as
``blackandwhite``). Lemmatise the vocabulary beforehand if you want plural tags to
meet singular vectors. Tokens prefixed by their metadata kind (``"tags:dog"``, see
``SocialImageDataset.combined_tokens``) are looked up literally and so are OOV.

Nothing is cached: each :func:`load_word_vectors` call reads the files again
(about 0.15 s for word2vec, 0.2-1 s for GloVe); keep the returned object.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, Union

import numpy as np
import pandas as pd
import scipy.sparse as sp
from gensim.models import KeyedVectors

from .data.base import DataFormatError
from .data.mirflickr import RELEVANT_SUFFIX

__all__ = [
    "WORD_VECTOR_RESOURCES",
    "OOVReport",
    "coverage_table",
    "embed_metadata",
    "has_vector",
    "label_vectors",
    "label_word_vectors",
    "label_words",
    "load_word_vectors",
    "lookup",
    "nearest_words",
]

#: word-vector name -> (resource name, file names) as known to :mod:`neighborlib.resources`.
WORD_VECTOR_RESOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "word2vec": ("word2vec-bolukbasi", ("GoogleNews-vectors-negative300-bolukbasi.bin",)),
    "glove": ("glove-6b-50d", ("glove_6B_50d_emb.npy", "glove_6B_index.parquet")),
}

_GLOVE_WORD_COLUMN = "index"
_WORD_SPLIT = re.compile(r"[_\s\-]+")

PathLike = Union[str, os.PathLike]
Resource = Union[KeyedVectors, Callable[[str], bool]]


# ----------------------------------------------------------------------------- loading


def _resource_file(resource: str, filename: str) -> Path:
    from .resources import resource_file  # imported late: optional until the resources are set up

    return Path(resource_file(resource, filename))


def _file(path: PathLike | None, resource: str, filename: str) -> Path:
    """``filename`` inside folder ``path``, ``path`` itself if it is a file, or the resource file."""
    if path is None:
        return _resource_file(resource, filename)
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"word-vector path not found: {p}")
    if p.is_dir():
        p = p / filename
    elif p.name != filename:  # a sibling file of the same resource was given: use its folder
        p = p.parent / filename
    if not p.is_file():
        raise FileNotFoundError(f"word-vector file not found: {p}")
    return p


def _load_word2vec(path: PathLike | None) -> KeyedVectors:
    resource, (filename,) = WORD_VECTOR_RESOURCES["word2vec"]
    if path is not None and Path(path).is_file():
        f = Path(path)
    else:
        f = _file(path, resource, filename)
    try:
        return KeyedVectors.load_word2vec_format(str(f), binary=True)
    except (ValueError, EOFError, UnicodeDecodeError) as exc:
        raise DataFormatError(f, f"not a binary word2vec file ({exc})") from exc


def _load_glove(path: PathLike | None) -> KeyedVectors:
    resource, (emb_name, index_name) = WORD_VECTOR_RESOURCES["glove"]
    emb_file = _file(path, resource, emb_name)
    index_file = _file(path, resource, index_name)
    vectors = np.load(emb_file, allow_pickle=False)
    if vectors.ndim != 2:
        raise DataFormatError(emb_file, f"expected a 2-d array, got shape {vectors.shape}")
    table = pd.read_parquet(index_file)
    if _GLOVE_WORD_COLUMN not in table.columns:
        raise DataFormatError(
            index_file, f"no {_GLOVE_WORD_COLUMN!r} column (columns: {list(table.columns)})"
        )
    words = [str(w) for w in table[_GLOVE_WORD_COLUMN].tolist()]
    if len(words) != vectors.shape[0]:
        raise DataFormatError(
            index_file, f"{len(words)} words for {vectors.shape[0]} vectors in {emb_file.name}"
        )
    key_to_index = {w: i for i, w in enumerate(words)}
    if len(key_to_index) != len(words):
        raise DataFormatError(index_file, f"{len(words) - len(key_to_index)} duplicated words")
    # Build the KeyedVectors directly: add_vectors would copy and re-check 400k keys one by one.
    kv = KeyedVectors(vectors.shape[1], count=0, dtype=np.float32)
    kv.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kv.index_to_key = words
    kv.key_to_index = key_to_index
    return kv


def load_word_vectors(name: str = "word2vec", path: PathLike | None = None) -> KeyedVectors:
    """Pretrained word vectors as a gensim :class:`~gensim.models.KeyedVectors` (float32).

    Args:
        name: ``"word2vec"`` (GoogleNews 300-d, Bolukbasi 26,423-word subset, unit norms)
            or ``"glove"`` (GloVe 6B 50-d, 400,000 words).
        path: where the files are; ``None`` asks :func:`neighborlib.resources.resource_file`.
            For ``"word2vec"`` the ``.bin`` file or its folder; for ``"glove"`` the folder
            holding ``glove_6B_50d_emb.npy`` and ``glove_6B_index.parquet`` (or either file).

    A new object is read on every call (nothing is cached); keep it.
    """
    if name == "word2vec":
        return _load_word2vec(path)
    if name == "glove":
        return _load_glove(path)
    raise ValueError(f"unknown word vectors {name!r}; choose one of {sorted(WORD_VECTOR_RESOURCES)}")


# ----------------------------------------------------------------------------- lookup


def lookup(vectors: KeyedVectors, token: str) -> int | None:
    """Row of ``token`` in ``vectors``: the token as is, else lower-cased, else ``None``."""
    i = vectors.key_to_index.get(token)
    if i is None:
        low = token.lower()
        if low != token:
            i = vectors.key_to_index.get(low)
    return i


def has_vector(vectors: KeyedVectors, token: str) -> bool:
    """Whether :func:`lookup` finds ``token``."""
    return lookup(vectors, token) is not None


def _tokens_of(vocabulary) -> list[str]:
    tokens = getattr(vocabulary, "tokens", vocabulary)  # a neighborlib Vocabulary or a plain sequence
    return [str(t) for t in tokens]


# ----------------------------------------------------------------------------- ρ(o; β)


@dataclass(frozen=True)
class OOVReport:
    """How much of a vocabulary and of a metadata matrix the word vectors cover.

    Attributes:
        n_tokens: vocabulary size τ.
        n_covered: vocabulary tokens with a vector (see :func:`lookup`).
        coverage: ``n_covered / n_tokens`` (1.0 for an empty vocabulary).
        covered_mass: fraction of the tag occurrences in ``Z`` (sum of its entries; for
            binary ``Z`` the number of (image, tag) pairs) that fall on covered tokens
            (1.0 when ``Z`` is empty).
        oov: the tokens without a vector, in vocabulary order.
        images_without_vector: images with at least one tag but no covered tag - their
            embedding is the zero vector although they have metadata.
        n_images: ``N``.
        images_without_metadata: images with no tag at all (zero embedding as well).
    """

    n_tokens: int
    n_covered: int
    coverage: float
    covered_mass: float
    oov: tuple[str, ...]
    images_without_vector: int
    n_images: int = 0
    images_without_metadata: int = 0

    def __str__(self) -> str:
        head = ", ".join(self.oov[:8]) + (", ..." if len(self.oov) > 8 else "")
        return (
            f"{self.n_covered}/{self.n_tokens} tokens have a vector ({self.coverage:.1%}); "
            f"{self.covered_mass:.1%} of tag occurrences covered; "
            f"{self.images_without_vector} of {self.n_images} images have tags but no vector, "
            f"{self.images_without_metadata} have no tags"
            + (f"; OOV: {head}" if self.oov else "")
        )


def embed_metadata(
    Z,
    vocabulary: Sequence[str],
    vectors: KeyedVectors,
    normalise: bool = False,
) -> tuple[np.ndarray, OOVReport]:
    """Semantic embedding ρ(o; β) = Σ_i o_i β(t_i) of every row of ``Z`` (Eq. 6 of Tesan et al.).

    Args:
        Z: ``(N, τ)`` metadata matrix (binary CSR from ``Vocabulary.encode``; any
            scipy sparse matrix or dense array is accepted, its entries used as weights o_i).
        vocabulary: the τ tokens of the columns of ``Z`` (a ``Vocabulary`` or a sequence).
        vectors: word vectors; each token is looked up as is, then lower-cased.
        normalise: L2-normalise each row (rows that are zero stay zero).

    Returns:
        ``(X, report)``: ``X`` the ``(N, d)`` float32 embedding, computed as ``Z @ B`` with
        ``B`` the ``(τ, d)`` matrix of token vectors (zero rows for OOV tokens), and an
        :class:`OOVReport`. Images whose tags are all OOV get a zero row, which
        ``cosine_neighbours`` treats like empty metadata.
    """
    tokens = _tokens_of(vocabulary)
    Z = sp.csr_matrix(Z, dtype=np.float32)  # a copy when conversion is needed; never modifies the input
    if Z.shape[1] != len(tokens):
        raise ValueError(f"Z has {Z.shape[1]} columns but the vocabulary has {len(tokens)} tokens")
    rows = [lookup(vectors, t) for t in tokens]
    covered = np.array([r is not None for r in rows], dtype=bool)
    d = int(vectors.vector_size)
    B = np.zeros((len(tokens), d), dtype=np.float32)
    if covered.any():
        B[covered] = vectors.vectors[[r for r in rows if r is not None]]
    X = np.asarray(Z @ B, dtype=np.float32)
    if normalise:
        norm = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
        X = (X / np.where(norm == 0, 1.0, norm)[:, None]).astype(np.float32, copy=False)

    nz = Z.data != 0
    row_of = np.repeat(np.arange(Z.shape[0]), np.diff(Z.indptr))[nz]
    cols = Z.indices[nz]
    has_tag = np.bincount(row_of, minlength=Z.shape[0]) > 0
    has_cov = np.bincount(row_of, weights=covered[cols], minlength=Z.shape[0]) > 0
    total = float(np.abs(Z.data).sum())
    mass = float(np.abs(Z.data[nz][covered[cols]]).sum())
    report = OOVReport(
        n_tokens=len(tokens),
        n_covered=int(covered.sum()),
        coverage=float(covered.mean()) if tokens else 1.0,
        covered_mass=mass / total if total > 0 else 1.0,
        oov=tuple(t for t, c in zip(tokens, covered) if not c),
        images_without_vector=int((has_tag & ~has_cov).sum()),
        n_images=int(Z.shape[0]),
        images_without_metadata=int((~has_tag).sum()),
    )
    return X, report


# ----------------------------------------------------------------------------- labels


def label_words(label: str) -> list[str]:
    """Words of a label name: a trailing ``_r1`` (MIRFlickr "relevant") is stripped, then
    the name is split on ``_``, ``-`` and white space (``"plant_life"`` -> ``["plant", "life"]``)."""
    if label.endswith(RELEVANT_SUFFIX):
        label = label[: -len(RELEVANT_SUFFIX)]
    return [w for w in _WORD_SPLIT.split(label) if w]


def label_vectors(label_names: Sequence[str], vectors: KeyedVectors) -> tuple[np.ndarray, list[str]]:
    """One vector per label: the mean of the vectors of its words (see :func:`label_words`).

    Words without a vector are left out of the mean; a label none of whose words has a
    vector gets a zero row and is listed in ``missing``. Multi-word labels are always
    averaged over their words, even where the resource has a phrase vector.

    Returns:
        ``(V, missing)``: ``V`` of shape ``(L, d)`` float32 in the order of ``label_names``,
        ``missing`` the label names (as given) with a zero row.
    """
    V = np.zeros((len(label_names), int(vectors.vector_size)), dtype=np.float32)
    missing: list[str] = []
    for j, name in enumerate(label_names):
        rows = [r for r in (lookup(vectors, w) for w in label_words(name)) if r is not None]
        if rows:
            V[j] = vectors.vectors[rows].astype(np.float64).mean(axis=0)
        else:
            missing.append(name)
    return V, missing


def _wordnet_stand_in(vectors: KeyedVectors, wn, label: str) -> tuple[list[int], str] | None:
    """The first WordNet lemma with a vector: the label's first noun sense that is not a
    person, then its hypernyms breadth first (a lemma of several words counts when each
    word has a vector). Hypernyms of one synset are visited in the order of their names."""
    phrase = "_".join(label_words(label)).lower()
    senses = wn.synsets(phrase, "n") if phrase else []
    if not senses:
        return None
    person = wn.synset("person.n.01")
    things = [ss for ss in senses if not any(person in path for path in ss.hypernym_paths())]
    frontier, seen, depth = [(things or senses)[0]], set(), 0
    while frontier:
        for ss in frontier:
            for lemma in ss.lemma_names():
                if lemma.lower() == phrase:
                    continue
                rows = [lookup(vectors, w) for w in label_words(lemma)]
                if rows and all(r is not None for r in rows):
                    how = "synonym" if depth == 0 else f"hypernym (+{depth})"
                    return rows, f"WordNet {how}: {lemma.replace('_', ' ')}"
        seen.update(frontier)
        # hypernyms() iterates a set of pointers (its order changes with the process's hash
        # seed): sorted by name, the stand-in is the same in every run
        frontier = [h for ss in frontier for h in sorted(ss.hypernyms(), key=lambda x: x.name()) if h not in seen]
        depth += 1
    return None


def label_word_vectors(
    label_names: Sequence[str], vectors: KeyedVectors, wn=None, normalise: bool = True
) -> tuple[np.ndarray, pd.DataFrame]:
    """One vector per label, with a documented treatment of labels the resource lacks.

    In order, the first that applies:

    1. ``"words"``: every word of the label (:func:`label_words`) has a vector - their mean
       (:func:`label_vectors`' rule: ``"plant_life"`` is the mean of plant and life);
    2. ``"WordNet ..."`` (when ``wn``, a WordNet reader, is given): the first lemma with a
       vector among the label's first noun sense and then its hypernyms, breadth first
       (word2vec's 26,423 words have no "zebra": its hypernym "equine" stands in). A label
       names a thing in a photo, so senses that are people are passed over ("toaster":
       one who proposes a toast);
    3. ``"partial"``: the mean of the words that have a vector (``"potted plant"`` -> plant);
    4. ``"none"``: a zero row.

    Args:
        normalise: scale every non-zero row to unit length (GloVe's norms vary with word
            frequency; chapter 7's margin then means the same for both resources).

    Returns:
        ``(V, table)``: ``V`` float32 ``(L, d)`` in the order of ``label_names``; ``table`` one
        row per label (index ``label``) with columns ``source`` and ``words`` (those averaged).
    """
    V = np.zeros((len(label_names), int(vectors.vector_size)), dtype=np.float32)
    rows_out = []
    for j, name in enumerate(label_names):
        words = label_words(name)
        rows = [lookup(vectors, w) for w in words]
        found = [r for r in rows if r is not None]
        if found and len(found) == len(rows):
            use, source = found, "words"
        elif wn is not None and (stand_in := _wordnet_stand_in(vectors, wn, name)) is not None:
            use, source = stand_in
        elif found:
            use, source = found, "partial"
        else:
            use, source = [], "none"
        if use:
            v = vectors.vectors[use].astype(np.float64).mean(axis=0)
            V[j] = v / np.linalg.norm(v) if normalise and np.linalg.norm(v) > 0 else v
        rows_out.append({"label": name, "source": source,
                         "words": ", ".join(vectors.index_to_key[r] for r in use)})
    return V, pd.DataFrame(rows_out).set_index("label")


# ----------------------------------------------------------------------------- coverage


def _predicate(resource) -> Callable[[str], bool]:
    if isinstance(resource, KeyedVectors):
        return lambda t: lookup(resource, t) is not None
    if callable(resource):
        return resource
    if hasattr(resource, "__contains__"):  # a set of words
        return lambda t: t in resource
    raise TypeError(
        f"a resource must be KeyedVectors, a callable or a container, got {type(resource).__name__}"
    )


def coverage_table(
    tokens: Sequence[str],
    resources: Mapping[str, Resource],
    counts: Sequence[float] | None = None,
    n_examples: int = 5,
) -> pd.DataFrame:
    """How many of ``tokens`` each resource covers - "coverage of tags per resource".

    Args:
        tokens: the tokens (e.g. a vocabulary's tags).
        resources: name -> ``KeyedVectors`` (covered: :func:`lookup` finds it), a predicate
            ``token -> bool`` (e.g. a WordNet membership test) or a set of words.
        counts: optional per-token occurrence counts; adds a ``covered_mass`` column
            (fraction of occurrences on covered tokens).
        n_examples: how many uncovered tokens (in token order) to show per resource.

    Returns:
        One row per resource (index ``resource``) with columns ``n_tokens``, ``covered``,
        ``fraction``, [``covered_mass``,] ``missing_examples`` (comma-separated).
    """
    tokens = _tokens_of(tokens)
    if counts is not None:
        w = np.asarray(counts, dtype=np.float64)
        if w.shape != (len(tokens),):
            raise ValueError(f"counts has shape {w.shape}, expected ({len(tokens)},)")
    records = []
    for name, resource in resources.items():
        pred = _predicate(resource)
        ok = np.array([bool(pred(t)) for t in tokens], dtype=bool)
        rec = {
            "resource": name,
            "n_tokens": len(tokens),
            "covered": int(ok.sum()),
            "fraction": float(ok.mean()) if tokens else float("nan"),
        }
        if counts is not None:
            rec["covered_mass"] = float(w[ok].sum() / w.sum()) if w.sum() > 0 else float("nan")
        rec["missing_examples"] = ", ".join([t for t, c in zip(tokens, ok) if not c][:n_examples])
        records.append(rec)
    columns = ["resource", "n_tokens", "covered", "fraction"]
    columns += ["covered_mass"] if counts is not None else []
    columns += ["missing_examples"]
    return pd.DataFrame.from_records(records, columns=columns).set_index("resource")


def nearest_words(vectors: KeyedVectors, word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words with the highest cosine similarity to ``word`` (itself excluded).

    ``word`` is looked up as is, then lower-cased; a ``KeyError`` names it when absent.
    """
    i = lookup(vectors, word)
    if i is None:
        raise KeyError(f"{word!r} has no vector")
    return [(w, float(s)) for w, s in vectors.most_similar(vectors.index_to_key[i], topn=k)]
