"""WordNet embeddings ("wnet2vec", Saedi et al. 2018): graph -> random walk -> PPMI -> PCA,
cached per settings."""
from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from ..atomic import remove_stale_temporaries
from ..linalg import _torch_setup, pca_reduce, random_walk_ppmi
from .cache import _EMBEDDING_VERSION, _default_cache_dir, _wordnet_fingerprint, embeddings_cache_key
from .graph import _weights, select_vocabulary, wordnet_graph
from .reader import _normalise, _resolve_root, lemma_key, load_wordnet

if TYPE_CHECKING:  # pragma: no cover
    from gensim.models import KeyedVectors

    from .graph import WordNetGraph

__all__ = ["wordnet_embeddings"]

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
    settings = _embedding_settings(n_words, dim, alpha, words, weights, tdtype, method, seed, base)
    folder = (Path(cache_dir) if cache_dir is not None else _default_cache_dir()) / embeddings_cache_key(settings)
    say = _reporter(progress)
    if use_cache:
        hit = _load_cached(folder)
        if hit is not None:
            say(f"cache hit {folder}")
            return _keyed_vectors(*hit)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    wn = load_wordnet(base)
    graph = wordnet_graph(wn, weights, use_cache=use_cache)
    timings["graph_s"] = time.perf_counter() - t0
    say(f"graph {graph!r} in {timings['graph_s']:.1f} s")
    t = time.perf_counter()
    sub = _embedding_vocabulary(wn, graph, words, n_words, dim)
    n, isolated = len(sub), int((sub.degree == 0).sum())
    timings["vocabulary_s"] = time.perf_counter() - t
    gb = n * n * torch.finfo(tdtype).bits / 8 / 1e9
    if dev.type == "cpu" and n > 20000:
        warnings.warn(
            f"WordNet embeddings of {n} words on the CPU: {gb:.0f} GB per dense matrix and hours "
            "of computation; use device='cuda' (or fewer words)",
            stacklevel=2,
        )
    say(f"{n} words ({isolated} without an edge inside the vocabulary); dense {n}x{n} "
        f"{settings['dtype']} on {dev}: {gb:.2f} GB per matrix")
    vectors = _wnet2vec(sub, alpha, dim, seed, dev, tdtype, method, progress, timings, say)
    timings["total_s"] = time.perf_counter() - t0
    say(f"total {timings['total_s']:.1f} s")

    info = dict(settings, n_vocabulary=n, n_isolated=isolated, device=str(dev), timings=timings)
    if use_cache:
        _save_cached(folder, list(sub.words), vectors, info)
    return _keyed_vectors(list(sub.words), vectors, info)


def _reporter(progress: bool) -> Callable[[str], None]:
    """``say(message)``: a progress line on stdout when ``progress``, else nothing."""

    def say(message: str) -> None:
        if progress:
            print(f"WordNet embeddings: {message}", flush=True)

    return say


def _embedding_settings(
    n_words: int | None, dim: int, alpha: float, words: Sequence[str] | None, weights: dict[str, float],
    tdtype: Any, method: str, seed: int, base: Path,
) -> dict[str, Any]:
    """Every setting that changes the vectors (hashed into the cache key, stored beside them)."""
    # in the given order (it is the order of the vocabulary, and so of the PCA's input)
    seeds_norm = None if words is None else list(dict.fromkeys(w for w in map(_normalise, words) if w))
    return {
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


def _embedding_vocabulary(
    wn: Any, graph: "WordNetGraph", words: Sequence[str] | None, n_words: int | None, dim: int
) -> "WordNetGraph":
    """The subgraph of the vocabulary: the seed ``words`` WordNet knows first, then by degree."""
    seeds = None
    if words is not None:
        seeds = [k.lower() for w in words if (k := lemma_key(wn, w)) is not None and k.lower() in graph]
    sub = graph.subgraph(select_vocabulary(graph, n_words, seeds))
    if len(sub) <= dim:
        raise ValueError(f"the vocabulary has {len(sub)} words: too few for dim={dim}")
    return sub


def _wnet2vec(
    sub: "WordNetGraph", alpha: float, dim: int, seed: int, dev: Any, tdtype: Any, method: str,
    progress: bool, timings: dict[str, float], say: Callable[[str], None],
) -> np.ndarray:
    """Saedi et al.'s computation on the vocabulary's graph: random walk + PPMI, then PCA to
    ``dim``; float32 ``(n, dim)``. Records its timings."""
    import torch

    t = time.perf_counter()
    X = random_walk_ppmi(sub.adjacency, alpha, device=dev, dtype=tdtype, method=method, progress=progress)
    timings["random_walk_ppmi_s"] = time.perf_counter() - t
    say(f"random walk + PPMI in {timings['random_walk_ppmi_s']:.1f} s")
    t = time.perf_counter()
    Y = pca_reduce(X, dim, seed=seed, inplace=True)
    del X
    vectors = Y.to("cpu", torch.float64).numpy().astype(np.float32)
    timings["pca_s"] = time.perf_counter() - t
    say(f"PCA to {dim} in {timings['pca_s']:.1f} s")
    return vectors
