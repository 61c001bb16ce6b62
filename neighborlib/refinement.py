"""Chapter 6's tag set and protocol methods: weakly-supervised annotation and tag refinement.

The paper (``shared/papers/003``) learns from the user tags only; the labels are used to
evaluate, and here also to choose hyperparameters on the validation part (the protocol's
rule). Every method below is a protocol method (``method(data) -> (test scores, choices)``,
:mod:`neighborlib.protocol`) on the splits of :data:`~neighborlib.protocol.WEAK_FRACTIONS`
over every image, and returns scores of the benchmark's *labels*: a method scores the ``C``
tags of a :class:`TagSet` and :meth:`TagSet.label_scores` reads each label off the tags that
stand for it (the paper evaluates "on tags which are manually corrected", the labels).

Two tasks, one set of splits:

* **annotation** (Tables 2-3): a method sees the photos and tags of the training part only
  and scores the test photos;
* **refinement** (Tables 4-5): a method sees the photos and tags of *every* image ("we train
  our model on the entire dataset") and refines the test images' tags; the labels of the
  validation part still choose the hyperparameters, and the test part is scored.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
import torch

from .data.vocab import Vocabulary, document_frequency
from .methods import init_generator
from .metrics import mean_average_precision
from .models import TagProp
from .models.minibatch import SGDConfig, fit_multilabel, predict_logits
from .models.refine import cca_knn, random_guess, rpca, tag_cooccur, tag_vote
from .models.weak import DynamicBatches, TagNet, WeakConfig, WeakFit, candidate_sets, fit_weak
from .neighbours import cosine_neighbours
from .protocol import Benchmark, SplitData
from .seeding import stream
from .tagsemantics import normalised_google_distance, tag_affinity, weak_vocabulary, wordnet_distance, wordnet_lemmatiser

if TYPE_CHECKING:  # pragma: no cover
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

__all__ = [
    "LABEL_TAGS", "TASKS", "TagSet", "cca", "context_distance", "label_word", "knn", "multi_cnn", "neighbour_relevance", "random_guess_method", "rpca_method", "tag_cooccur_method",
    "tag_set", "tag_vote_method", "tagprop_tags", "user_tags_method", "weak_model",
]

#: The two tasks: what a method may see.
TASKS = ("annotation", "refinement")

#: Labels whose tag is not their own name: label -> the tags that stand for it (its score is
#: the largest of theirs). Every other label stands for the lemma of its name, or else of its
#: last word ("dining table" -> "table"). MIRFlickr's owners say "woman" and "girl" far more
#: than "female" (and WordNet's ``morphy`` leaves "men" and "women" as lemmas of their own);
#: COCO's captions say "plane", "sofa", "phone".
LABEL_TAGS: dict[str, tuple[str, ...]] = {
    "female": ("female", "woman", "women", "girl"),
    "male": ("male", "man", "men", "boy"),
    "people": ("people", "person"),
    "airplane": ("airplane", "plane", "jet"),
    "motorcycle": ("motorcycle", "motorbike"),
    "couch": ("couch", "sofa"),
    "tv": ("tv", "television"),
    "cell phone": ("phone", "cellphone"),
    "donut": ("donut", "doughnut"),
    "hair drier": ("dryer", "drier"),
    "teddy bear": ("teddy",),
    "hot dog": ("hotdog",),
}


def label_word(name: str) -> str:
    """``"clouds_r1" -> "clouds"`` (MIRFlickr's relevant-label suffix)."""
    return name[:-3] if name.endswith("_r1") else name


def _label_candidates(name: str) -> tuple[str, ...]:
    word = label_word(name)
    if word in LABEL_TAGS:
        return LABEL_TAGS[word]
    parts = word.split()
    return (word,) if len(parts) == 1 else ("_".join(parts), parts[-1])


@dataclass(frozen=True, eq=False)
class TagSet:
    """The preprocessed user tags of a benchmark and the tags standing for its labels.

    Attributes:
        bench: the benchmark.
        vocabulary: the ``C`` tags (lemmatised, in WordNet, on >= 0.1 % of the images).
        G: ``(N, C)`` binary user tags of every image (float32 CSR).
        label_columns: per label, the columns of its tags (empty: no tag stands for it).
        kb_distance: ``(C, C)`` ``1 - Lin`` WordNet distance of the tags (Eq. 4's ``dist_KB``).
    """

    bench: Benchmark
    vocabulary: Vocabulary
    G: sp.csr_matrix
    label_columns: tuple[tuple[int, ...], ...]
    kb_distance: np.ndarray

    @property
    def n_tags(self) -> int:
        return self.G.shape[1]

    @property
    def label_tag_columns(self) -> np.ndarray:
        """The sorted distinct columns of every label's tags."""
        return np.unique(np.concatenate([np.asarray(c, dtype=np.int64) for c in self.label_columns] + [np.zeros(0, int)]))

    def tags(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), C)`` float32 dense user tags."""
        return self.G[rows].toarray()

    def label_scores(self, tag_scores: np.ndarray) -> np.ndarray:
        """``(Q, C)`` tag scores -> ``(Q, L)`` label scores: each label the largest score of
        its tags (0 for a label no tag stands for)."""
        s = np.asarray(tag_scores, dtype=np.float64)
        if s.ndim != 2 or s.shape[1] != self.n_tags:
            raise ValueError(f"tag scores must be (Q, {self.n_tags}), got {s.shape}")
        out = np.zeros((len(s), len(self.label_columns)))
        for j, cols in enumerate(self.label_columns):
            if cols:
                out[:, j] = s[:, list(cols)].max(axis=1)
        return out

    def label_names(self) -> list[str]:
        """``"label: tag, tag"`` per label (the table of which tags stand for which label)."""
        return [f"{label_word(n)}: {', '.join(self.vocabulary.tokens[c] for c in cols) or '-'}"
                for n, cols in zip(self.bench.dataset.label_names, self.label_columns)]


def tag_set(bench: Benchmark, wn: "WordNetCorpusReader", ic: dict, min_fraction: float = 0.001) -> TagSet:
    """The paper's preprocessing of ``bench``'s tags (Table 1), over all its images.

    The paper filters the tags on the whole set ("0.1% of total image number"), so the
    vocabulary is fitted once on every image's tags (no label is read). A label none of whose
    tags (:data:`LABEL_TAGS`) passes the filter keeps its most frequent tag if any image
    carries it; a label no image's tag stands for gets no column (its scores are 0).
    """
    tokens = bench.tokens
    lemma = wordnet_lemmatiser(wn)
    base = weak_vocabulary(tokens, wn, min_fraction=min_fraction)
    counts = document_frequency(tokens, lemmatiser=lemma)
    keep = []
    for name in bench.dataset.label_names:
        lemmas = [t for t in (lemma(c) for c in _label_candidates(name)) if t]
        if not any(t in base for t in lemmas):
            seen = [t for t in lemmas if counts.get(t, 0) > 0]
            keep.extend(sorted(seen, key=lambda t: -counts[t])[:1])
    vocab = weak_vocabulary(tokens, wn, min_fraction=min_fraction, keep=tuple(dict.fromkeys(keep))) if keep else base
    columns = []
    for name in bench.dataset.label_names:
        cols = [vocab.index_of(t) for t in (lemma(c) for c in _label_candidates(name)) if t and t in vocab]
        columns.append(tuple(dict.fromkeys(cols)))
    G = vocab.encode(tokens).tocsr()
    return TagSet(bench, vocab, G, tuple(columns), wordnet_distance(wn, list(vocab.tokens), ic))


# ----------------------------------------------------------------------------- shared pieces


def _pool(data: SplitData, task: str) -> np.ndarray:
    """The images a method of ``task`` learns from: the training part, or every image of the split."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {TASKS}")
    if task == "annotation":
        return data.train
    return np.sort(np.concatenate([data.train, data.val, data.test]))


def _features(data: SplitData) -> np.ndarray:
    if data.features is None:
        raise ValueError("chapter 6's visual methods need the run's features (pass features= to run_protocol)")
    return data.features


def _standardised(data: SplitData, task: str) -> torch.Tensor:
    """Every image's features standardised by the pool's mean and deviation (float32), cached."""
    def compute() -> torch.Tensor:
        X = _features(data)
        pool = X[_pool(data, task)]
        mu, sd = pool.mean(0), pool.std(0)
        return torch.as_tensor(((X - mu) / np.where(sd > 0, sd, 1.0)).astype(np.float32))

    return data.cached(("weak_standardised", task), compute)


def _val_map(ts: TagSet, data: SplitData, tag_scores_val: np.ndarray) -> float:
    return mean_average_precision(ts.label_scores(tag_scores_val), data.Y("val"))


def _choose(ts: TagSet, data: SplitData, options: Mapping[Any, np.ndarray]) -> tuple[Any, float]:
    """The option whose ``(n_val, C)`` validation tag scores give the best label mAP (the first on ties)."""
    scored = {k: _val_map(ts, data, v) for k, v in options.items()}
    best = max(scored, key=lambda k: scored[k])
    return best, scored[best]


def _visual_neighbours(data: SplitData, task: str, k_max: int) -> dict[str, np.ndarray]:
    """Cosine neighbours (global indices, nearest first) of the val and test images among the pool,
    an image never its own neighbour; cached per split and task."""
    def search() -> dict[str, np.ndarray]:
        X = _features(data)
        pool = _pool(data, task)
        out = {}
        for part in ("val", "test"):
            q = getattr(data, part)
            k = min(k_max, len(pool) - (task == "refinement"))
            table = cosine_neighbours(X[q], X[pool], M=k + (task == "refinement"), exclude_self=False)
            idx = pool[table.indices]
            if task == "refinement":  # drop the query itself, which is in the pool
                keep = idx != q[:, None]
                idx = np.stack([row[m][:k] for row, m in zip(idx, keep)])
            out[part] = idx
        return out

    return data.cached(("weak_visual_neighbours", task, k_max), search)


# ----------------------------------------------------------------------------- baselines


def random_guess_method(ts: TagSet, repeats: int = 80):
    """RandomGuess: the mean of ``repeats`` uniform random tag scores (stream ``"sampling"``,
    keyed by the split and 80); no choice on validation. Only the tags that stand for labels
    are drawn (the others are never read: 80 draws of all 797 of MIRFlickr's tags for 17,500
    test images would be a billion numbers)."""
    def method(data: SplitData):
        rng = stream(data.seed, "sampling", data.split.index, 80)
        cols = ts.label_tag_columns
        scores = np.zeros((len(data.test), ts.n_tags))
        scores[:, cols] = random_guess(len(data.test), len(cols), repeats, rng=rng)
        return ts.label_scores(scores), {}

    return method


def user_tags_method(ts: TagSet):
    """UserTags (refinement): the test images' own tags, unrefined."""
    def method(data: SplitData):
        return ts.label_scores(ts.tags(data.test)), {}

    return method


def knn(ts: TagSet, ks: Sequence[int] = (25, 50, 100, 200), task: str = "annotation"):
    """KNN (Makadia et al. 2010): a tag's score is its frequency among the ``k`` visually nearest
    pool images (cosine on the backbone features); ``k`` chosen on validation."""
    def method(data: SplitData):
        nbr = _visual_neighbours(data, task, max(ks))
        zero = np.zeros(ts.n_tags)  # TagVote without its prior counts the neighbours' votes

        def vote(part: str, k: int) -> np.ndarray:
            return tag_vote(nbr[part][:, :k], ts.G, zero) / k

        opts = {k: vote("val", k) for k in ks if k <= nbr["val"].shape[1]}
        k, val = _choose(ts, data, opts)
        return ts.label_scores(vote("test", k)), {"k": k, "val mAP": val}

    return method


def tag_vote_method(ts: TagSet, ks: Sequence[int] = (25, 50, 100, 200)):
    """TagVote (Li, Snoek and Worring 2009), refinement: neighbour votes minus the prior ``k P(t)``
    over the visual neighbours among every image; ``k`` chosen on validation."""
    def method(data: SplitData):
        pool = _pool(data, "refinement")
        nbr = _visual_neighbours(data, "refinement", max(ks))
        G = ts.G
        prior = np.asarray(G[pool].mean(0)).ravel()
        opts = {k: tag_vote(nbr["val"][:, :k], G, prior) for k in ks if k <= nbr["val"].shape[1]}
        k, val = _choose(ts, data, opts)
        return ts.label_scores(tag_vote(nbr["test"][:, :k], G, prior)), {"k": k, "val mAP": val}

    return method


def tag_cooccur_method(ts: TagSet, ms: Sequence[int] = (10, 25, 50)):
    """TagCooccur (Sigurbjörnsson and van Zwol 2008), refinement: tags promoted by their
    co-occurrence with the image's own tags over every image; ``m`` chosen on validation."""
    def method(data: SplitData):
        pool = ts.G[_pool(data, "refinement")]
        opts = {m: tag_cooccur(ts.G[data.val], pool, m=m) for m in ms}
        m, val = _choose(ts, data, opts)
        return ts.label_scores(tag_cooccur(ts.G[data.test], pool, m=m)), {"m": m, "val mAP": val}

    return method


def rpca_method(ts: TagSet, lams: Sequence[float] = (4.0, 8.0)):
    """RPCA (Zhu, Yan and Ma 2010's low-rank + sparse error core), refinement: the low-rank part
    ``L`` of every image's tag matrix; ``λ`` is ``lams`` times the default ``1/sqrt(max(N, C))``,
    chosen on validation. The default itself and twice it give ``L = 0`` on a tag matrix this
    sparse (``L = 0`` is the exact answer whenever ``λ ||G||₂ <= 1``; MIRFlickr's ``||G||₂`` is
    about 47 for ``1/λ = 158``), hence the grid from 4. (16 keeps a rank of 1,360 of COCO-person's
    1,532 tags: no longer low-rank, and twice the time.)"""
    def method(data: SplitData):
        pool = _pool(data, "refinement")
        pos = {int(g): r for r, g in enumerate(pool)}
        rows = {p: np.array([pos[int(i)] for i in getattr(data, p)]) for p in ("val", "test")}
        G = ts.G[pool]
        base = 1.0 / np.sqrt(max(G.shape))
        fits = {f: rpca(G, lam=f * base)[0] for f in lams}
        opts = {f: L[rows["val"]] for f, L in fits.items()}
        f, val = _choose(ts, data, opts)
        return ts.label_scores(fits[f][rows["test"]]), {"lambda x": f, "val mAP": val}

    return method


def cca(ts: TagSet, dims: Sequence[int] = (64, 128), k: int = 50):
    """CCA (Murthy, Maji and Manmatha 2015's CCA-KNN), annotation: neighbours in the canonical
    space of features and tags of the training part; the dimension chosen on validation."""
    def method(data: SplitData):
        X = _features(data)
        Xtr, Gtr = X[data.train], ts.tags(data.train)
        opts = {d: cca_knn(Xtr, Gtr, X[data.val], dim=d, k=k) for d in dims}
        d, val = _choose(ts, data, opts)
        return ts.label_scores(cca_knn(Xtr, Gtr, X[data.test], dim=d, k=k)), {"dim": d, "val mAP": val}

    return method


def tagprop_tags(ts: TagSet, ks: Sequence[int] = (25, 50, 100), task: str = "annotation"):
    """TagProp (Guillaumin et al. 2009, σTagProp, rank-based) predicting the user tags from the
    visually nearest training images. It is fitted on the tags that stand for labels, the only
    ones scored (``K × C`` floats per image for all the tags, 797 on MIRFlickr, would not fit a CI machine);
    ``K`` chosen on validation."""
    def method(data: SplitData):
        X = _features(data)
        cols = ts.label_tag_columns
        k_max = max(ks)
        own = data.train[cosine_neighbours(X[data.train], None, M=k_max, exclude_self=True).indices]
        nbr = _visual_neighbours(data, "annotation", k_max)
        T = ts.G[:, cols].toarray().astype(bool)

        def full(scores: np.ndarray) -> np.ndarray:
            out = np.zeros((len(scores), ts.n_tags))
            out[:, cols] = scores
            return out

        fits, opts = {}, {}
        for k in ks:
            fits[k] = TagProp(sigmoid=True).fit(T[own[:, :k]], T[data.train])
            opts[k] = full(fits[k].predict(T[nbr["val"][:, :k]]))
        k, val = _choose(ts, data, opts)
        return ts.label_scores(full(fits[k].predict(T[nbr["test"][:, :k]]))), {"K": k, "val mAP": val}

    return method


# ----------------------------------------------------------------------------- φ0 and the model


def _probabilities(model: TagNet, X: torch.Tensor) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-predict_logits(model, [X], batch_size=4096)))


def _phi0(ts: TagSet, data: SplitData, task: str, hidden: int, config: SGDConfig, device: str) -> tuple[TagNet, dict]:
    """``φ0``: a :class:`TagNet` trained on the pool's user tags by the logistic loss, its epoch
    chosen by the validation labels' mAP; cached per split, task and settings."""
    def train() -> tuple[dict, dict]:
        X = _standardised(data, task).to(device)
        pool = _pool(data, task)
        G = torch.as_tensor(ts.tags(pool), device=device)
        model = TagNet(X.shape[1], ts.n_tags, hidden, generator=init_generator(data)).to(device)
        val_X = X[torch.as_tensor(data.val, device=device)]
        start = time.perf_counter()
        fit = fit_multilabel(model, ([X[torch.as_tensor(pool, device=device)]], G), None, config=config,
                             score_val=lambda m: _val_map(ts, data, _probabilities(m, val_X)),
                             seed=data.seed, keys=(data.split.index, TASKS.index(task)), desc="phi0")
        info = {"epoch": fit.best_epoch, "val mAP": fit.best_val_map, "s": round(time.perf_counter() - start, 1)}
        return {k: v.detach().clone() for k, v in fit.model.state_dict().items()}, info

    state, info = data.cached(("weak_phi0", task, hidden, config, device), train)
    X = _standardised(data, task)
    model = TagNet(X.shape[1], ts.n_tags, hidden).to(device)
    model.load_state_dict(state)
    return model.eval(), info


def multi_cnn(ts: TagSet, task: str = "annotation", hidden: int = 512, config: SGDConfig = SGDConfig(),
              device: str = "cpu"):
    """Multi-CNN: ``φ0`` itself (the paper's baseline with "the same configurations as our
    initialized model"), trained on the training part (annotation) or every image (refinement)."""
    def method(data: SplitData):
        model, info = _phi0(ts, data, task, hidden, config, device)
        X = _standardised(data, task).to(device)
        return ts.label_scores(_probabilities(model, X[torch.as_tensor(data.test, device=device)])), dict(info)

    return method


def context_distance(G: sp.spmatrix) -> np.ndarray:
    """Eq. 3 over the pool's tags ``G`` ``(n, C)``, with the tags no pool image carries at an infinite
    distance from every other tag (``ξ = 0``: the training fifth of the annotation task misses
    some of the set's rarer tags) and 0 from themselves."""
    f = np.asarray(G.sum(axis=0)).ravel()
    seen = np.flatnonzero(f > 0)
    out = np.full((G.shape[1], G.shape[1]), np.inf)
    out[np.ix_(seen, seen)] = normalised_google_distance(G[:, seen])
    np.fill_diagonal(out, 0.0)
    return out


def _no_choice() -> dict:
    raise ValueError("an ablation (grid=None) needs the full model's choice: put the full model earlier in the "
                     "same protocol run")


def weak_model(
    ts: TagSet,
    task: str = "annotation",
    *,
    grid: Sequence[Mapping[str, float]] | None = ({"lambda_sem": 1.0, "lambda_err": 1.0, "alpha": 1.0},),
    changes: Mapping[str, Any] | None = None,
    config: WeakConfig = WeakConfig(),
    M: int = 512,
    hidden: int = 512,
    phi0_config: SGDConfig = SGDConfig(),
    device: str = "cpu",
    watch: Sequence[int] = (),
    watch_every: int | None = None,
    keep_fit: bool = False,
    progress: bool = False,
):
    """The paper's model: ``φ0`` trained further by ``L_vis + λ1 L_sem + λ2 L_err`` on dynamic
    batches (:func:`neighborlib.models.weak.fit_weak`), for each setting of ``grid`` (keys
    ``lambda_sem``, ``lambda_err``, ``alpha``; they override ``config``), the best on validation.

    The ablations pass ``grid=None`` and ``changes`` (e.g. ``{"use_vis": False}`` or
    ``{"dynamic": False}``): they train once with the setting the full model chose on the same
    split and task, so they must come after it in the protocol run's methods.

    The candidates ``Z_i`` are each pool image's ``M`` nearest pool images by ``φ0``'s features;
    ``ξ`` comes from the pool's tag co-occurrence (Eq. 3) and the WordNet distance with ``α``
    (Eq. 4-5). ``watch``: global image indices whose neighbours are recorded (Fig. 4), after every
    epoch or every ``watch_every`` batches.
    ``keep_fit``: the choices also hold ``fit`` (the :class:`~neighborlib.models.weak.WeakFit`),
    ``pool`` (global indices of its training rows), ``candidates``, ``phi0`` and ``X`` (every
    image's standardised features).
    """
    def method(data: SplitData):
        start = time.perf_counter()
        pool = _pool(data, task)
        X = _standardised(data, task).to(device)
        Xp = X[torch.as_tensor(pool, device=device)]
        G = torch.as_tensor(ts.tags(pool), device=device)
        phi0, _ = _phi0(ts, data, task, hidden, phi0_config, device)
        cand = data.cached(("weak_candidates", task, hidden, phi0_config, M, device),
                           lambda: candidate_sets(phi0.embed(Xp).detach(), min(M, len(pool) - 1)))
        ngd = data.cached(("weak_ngd", task), lambda: context_distance(ts.G[pool]))
        pos = {int(g): r for r, g in enumerate(pool)}
        val_X = X[torch.as_tensor(data.val, device=device)]
        choice_key = ("weak_choice", task, hidden, M)
        settings = [data.cached(choice_key, _no_choice)] if grid is None else list(grid)
        best: tuple[float, dict, WeakFit] | None = None
        for setting in settings:
            xi, _ = tag_affinity(ngd, ts.kb_distance, float(setting.get("alpha", 1.0)))
            cfg = replace(config, **{**{k: float(v) for k, v in setting.items() if k != "alpha"}, **dict(changes or {})})
            model = TagNet(X.shape[1], ts.n_tags, hidden).to(device)
            model.load_state_dict(phi0.state_dict())
            fit = fit_weak(model, Xp, G, cand, xi, config=cfg,
                           score_val=lambda m: _val_map(ts, data, _probabilities(m, val_X)),
                           seed=data.seed, keys=(data.split.index, TASKS.index(task)),
                           watch=[pos[int(w)] for w in watch if int(w) in pos], watch_every=watch_every,
                           progress=progress)
            score = fit.history[fit.best_epoch - 1]["val_mAP_label"]
            if best is None or score > best[0]:
                best = (score, dict(setting), fit)
        score, setting, fit = best
        if grid is not None:
            data.cached(choice_key, lambda: setting)
        test = _probabilities(fit.model, X[torch.as_tensor(data.test, device=device)])
        info: dict[str, Any] = {**setting, "epoch": fit.best_epoch, "val mAP": score,
                                "s/epoch": round(fit.seconds_per_epoch, 2), "s": round(time.perf_counter() - start, 1)}
        if keep_fit:
            info.update(fit=fit, pool=pool, candidates=cand, phi0=phi0, X=X)
        return ts.label_scores(test), info

    return method


def neighbour_relevance(model: TagNet, X: torch.Tensor, candidates: np.ndarray, labels: np.ndarray, m: int) -> float:
    """The share of the ``m - 1`` neighbours that Algorithm 1 selects by ``model``'s features
    that share a label with their anchor, over the anchors with a label (Fig. 4 in one number).

    Args:
        model: ``φ`` (``φ0`` or a trained network).
        X: ``(n, d)`` features of the pool. candidates: ``(n, M)`` its candidate rows.
        labels: ``(n, L)`` binary labels of the pool. m: the group size.
    """
    with torch.no_grad():
        emb = model.embed(X)
    anchors = np.flatnonzero(np.asarray(labels).sum(1) > 0)
    nbrs = DynamicBatches(candidates, m).ranked(anchors, emb)[:, : m - 1]
    Y = np.asarray(labels, dtype=bool)
    return float((Y[nbrs] & Y[anchors][:, None, :]).any(-1).mean())
