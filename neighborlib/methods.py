"""The baselines as protocol methods: ``method(data: SplitData) -> (test scores, choices)``.

Each method fits on ``data.train``, chooses its hyperparameters on ``data.val`` (the
split's own validation part, never a test set) and scores ``data.test``; see
:mod:`neighborlib.protocol`. The models themselves live in :mod:`neighborlib.models`.
"""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch

from . import neighbourhoods
from .device import resolve_device
from .metrics import mean_average_precision
from .maps import MapFn
from .models import LTN, MultiLabelLogistic, TagLogistic, TagProp, TrainConfig, knn_vote, train_neighbourhood_model
from .models.fusion import FUSION_MODELS, FusionModel
from .models.mangonet import MangoNet, coattended_nodes, holistic_nodes
from .models.minibatch import SGDConfig, fit_multilabel, predict_logits
from .neighbours import cosine_neighbours
from .protocol import SplitData
from .seeding import torch_seed
from .spatial import GRAPH_KEY, global_features, insatten_stage, standardised_maps

__all__ = [
    "cnn_knn_vote", "fusion", "image_neighbourhood_vote", "insatten", "ltn", "mangonet", "sigmoid_scores", "tag_only",
    "tagprop", "visual_logistic",
]


def tag_only(grid: Sequence[float] = (0.1, 1.0, 10.0), extend: int = 3):
    """LTN's "tag-only + logistic": :class:`TagLogistic` on the binary metadata, C chosen on val
    (the grid extended past a clipping end by up to ``extend`` steps)."""

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        Z = data.Z
        model, val = TagLogistic.select_C(
            Z[data.train], data.Y("train"), Z[data.val], data.Y("val"), grid=grid, extend=extend, seed=data.seed
        )
        return model.decision_function(Z[data.test]), {"C": model.C, "val mAP_label": val[model.C]}

    return method


#: :func:`visual_logistic`'s defaults; :func:`image_neighbourhood_vote` uses the same fit.
VISUAL_GRID, VISUAL_EXTEND, VISUAL_TOL = (3e-4, 1e-3, 3e-3), 3, 1e-4


def visual_logistic(
    grid: Sequence[float] = VISUAL_GRID, extend: int = VISUAL_EXTEND, tol: float = VISUAL_TOL, device: str = "cpu"
):
    """LTN's visual-only baseline ("CNN + logistic"): :class:`MultiLabelLogistic` on the features.

    ``C`` is chosen on val from ``grid``, extended by up to ``extend`` steps when the best
    lies at an end (:meth:`MultiLabelLogistic.select_C`). ``tol = 1e-4`` on the gradient
    stops L-BFGS about twice as early as ``1e-6``, with the same validation mAP to four
    decimals on MIRFlickr (measured on split 0 for C from 1e-4 to 1e-2). The fit runs in
    float32: on MIRFlickr's split 0 it takes 7.2 s against 13.9 s in float64, and the
    validation mAP of each C agrees to 5 decimals (0.69266 against 0.69266 at C = 1e-3).
    """

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        model, val = _fitted_visual_logistic(data, tuple(grid), extend, tol, device)
        return model.decision_function(data.X("test")), {"C": model.C, "val mAP_label": val[model.C]}

    return method


def _fitted_visual_logistic(
    data: SplitData, grid: tuple[float, ...], extend: int, tol: float, device: str
) -> tuple[MultiLabelLogistic, dict[float, float]]:
    """The visual-only model of a split, fitted once and shared by the methods built on it."""
    return data.cached(("visual_logistic", grid, extend, tol, str(device)), lambda: MultiLabelLogistic.select_C(
        data.X("train"), data.Y("train"), data.X("val"), data.Y("val"), grid=grid, extend=extend, tol=tol,
        device=device, dtype=torch.float32,
    ))  # fmt: skip


def image_neighbourhood_vote(
    M: int = 6,
    weights: Sequence[float] = tuple(np.round(np.linspace(0, 1, 11), 2)),
    source: neighbourhoods.Source = neighbourhoods.metadata,
    device: str = "cpu",
):
    """LTN's "image neighbourhoods + CNN voting": the visual-only model's probabilities of an
    image blended with the mean of its ``M`` metadata neighbours' (LTN Section 5.1, baseline 4),

        s(x) = (1 - w) p(x) + w (1/M) Σ_{i≤M} p(z_i),

    with ``p`` the sigmoid of :func:`visual_logistic`'s model (fitted once per split and
    shared with it), neighbours from the same part, and ``w`` chosen on val by per-label mAP
    (``w = 0`` is the visual-only model itself)."""

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        model, _ = _fitted_visual_logistic(data, VISUAL_GRID, VISUAL_EXTEND, VISUAL_TOL, device)
        tables = source(data, M)
        p = np.zeros(data.labels.shape)
        parts = np.concatenate([data.val, data.test])
        p[parts] = model.predict_proba(data.features[parts])

        def blend(part: str, w: float) -> np.ndarray:
            index = getattr(data, part)
            return (1 - w) * p[index] + w * p[tables[part].indices].mean(axis=1)

        val = {float(w): mean_average_precision(blend("val", w), data.Y("val")) for w in weights}
        w = max(val, key=lambda v: (val[v], -v))
        return blend("test", w), {"w": w, "val mAP_label": val[w]}

    return method


def ltn(
    m: int = 3,
    M: int = 6,
    tag_vector: bool = False,
    source: neighbourhoods.Source = neighbourhoods.metadata,
    config: TrainConfig | None = None,
    h: int = 500,
    dropout: float = 0.5,
    keep_model: bool = False,
    device: str = "cpu",
    progress: bool = False,
):
    """The LTN model (:class:`~neighborlib.models.LTN`) as a protocol method.

    Trains on the split's training part with neighbourhoods of ``m`` drawn from the ``M``
    nearest by ``source`` (default: Jaccard on the split's metadata), keeps the best of
    ``config.epochs`` epochs on val (:func:`~neighborlib.models.train_neighbourhood_model`)
    and scores the test part with ``K`` sampled test neighbourhoods. ``tag_vector``: the
    "+ tag vector" variant (the binary metadata vector appended before ``W_y``).

    The recorded choices are the best epoch, its validation mAP, the seconds per epoch and,
    with ``keep_model``, the fitted model (``"fit"``: a :class:`NeighbourhoodFit`) and the
    neighbour tables (``"tables"``) for figures.
    """
    cfg = replace(config or TrainConfig(), m=m)

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        X = _features(data, "LTN")
        model = LTN(X.shape[1], data.labels.shape[1], h=h, dropout=dropout,
                    tag_dim=data.Z.shape[1] if tag_vector else 0, generator=init_generator(data))
        return _fit_and_score(data, model, source(data, M), cfg, data.Z if tag_vector else None, None,
                              keep_model, device, progress, "LTN")

    return method


def fusion(
    model: str | type[FusionModel],
    m: int = 3,
    M: int = 6,
    source: neighbourhoods.Source = neighbourhoods.metadata,
    feed: MapFn | None = None,
    config: TrainConfig | None = None,
    h: int = 500,
    dropout: float = 0.5,
    keep_model: bool = False,
    device: str = "cpu",
    progress: bool = False,
):
    """One of the semantic-maps paper's networks (:mod:`neighborlib.models.fusion`) as a protocol method.

    Args:
        model: its name (``"RTN"``, ``"LTN+Vecs"``, ``"LTN+AllVecs"``, ``"LTwin"``, ``"LTwin+RNN"``,
            ``"LTwin+2RNN"``, ``"LZip"``) or class.
        m, M: neighbourhoods of ``m`` sampled from the ``M`` nearest (nearest first).
        source: where the neighbours come from (the paper's ``n``): :func:`neighbourhoods.metadata`
            (``id``, Jaccard) or ``neighbourhoods.by_map(maps.embedded(...))`` (cosine on ρ).
        feed: the metadata map the joint models read (the paper's ``f``), a
            :mod:`neighborlib.maps` map function; ignored by RTN, required by the others.
        config, h, dropout, keep_model, device, progress: as :func:`ltn`.

    Training, validation and test follow :func:`ltn` exactly (same streams, same snapshot rule).
    """
    cls = FUSION_MODELS[model] if isinstance(model, str) else model
    cfg = replace(config or TrainConfig(), m=m)

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        X = _features(data, cls.name)
        pi = None
        if cls.reads_metadata():
            if feed is None:
                raise ValueError(f"{cls.name} reads a metadata map: pass feed= (e.g. maps.identity())")
            pi = feed(data).values
        net = cls(X.shape[1], data.labels.shape[1], meta_dim=0 if pi is None else pi.shape[1], h=h,
                  dropout=dropout, generator=init_generator(data))
        return _fit_and_score(data, net, source(data, M), cfg, None, pi, keep_model, device, progress, cls.name)

    return method


def _features(data: SplitData, name: str) -> np.ndarray:
    if data.features is None:
        raise ValueError(f"{name} needs the run's visual features (pass features= to run_protocol)")
    return data.features


def init_generator(data: SplitData) -> torch.Generator:
    """The network's initialisation stream: keyed by the split, so models of a split start alike."""
    return torch.Generator().manual_seed(torch_seed(data.seed, "init", data.split.index))


def _fit_and_score(
    data: SplitData, model: torch.nn.Module, tables: dict, cfg: TrainConfig, tags, metadata,
    keep_model: bool, device: str, progress: bool, desc: str,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Train on the split's training part (best validation epoch), score its test part."""
    start = time.perf_counter()
    fit = train_neighbourhood_model(
        model, data.features, data.labels, (data.train, tables["train"].indices), (data.val, tables["val"].indices),
        config=cfg, tags=tags, metadata=metadata, seed=data.seed, keys=(data.split.index,), device=device,
        progress=progress, desc=desc,
    )  # fmt: skip
    scores = fit.predict(data.features, data.test, tables["test"].indices, tags=tags, metadata=metadata)
    info: dict[str, Any] = {"epoch": fit.best_epoch, "val mAP_label": fit.history[fit.best_epoch - 1]["val_mAP_label"],
                            "s/epoch": round(fit.seconds_per_epoch, 2), "s": round(time.perf_counter() - start, 1)}
    if keep_model:
        info.update(fit=fit, tables=tables)
    return scores, info


def cnn_knn_vote(ks: Sequence[int] = (10, 20, 50, 100, 200)):
    """CNN kNN voting: the fraction of the ``k`` visually nearest *training* photos with the label.

    ``k`` is chosen on val by per-label mAP; neighbours are exact cosine neighbours of the
    features. The grid reaches 200 because a grid up to 50 clipped the choice on MIRFlickr
    (k = 100 is best there; COCO-person picks 50). A ``k`` above the number of training
    images is capped at that number.
    """

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        X_train = data.X("train")
        usable = sorted({min(int(k), len(X_train)) for k in ks})  # small training sets cap k
        k_max = usable[-1]
        n_val = len(data.val)  # one search for both parts: the first k of k_max are the k nearest
        nbr = cosine_neighbours(np.concatenate([data.X("val"), data.X("test")]), X_train, M=k_max).indices
        val_nbr, test_nbr = nbr[:n_val], nbr[n_val:]
        y = data.labels
        val_scores = {k: mean_average_precision(knn_vote(data.train[val_nbr[:, :k]], y), data.Y("val"))
                      for k in usable}
        k = max(usable, key=lambda v: (val_scores[v], -v))
        return knn_vote(data.train[test_nbr[:, :k]], y), {"k": k, "val mAP_label": val_scores[k]}

    return method


def tagprop(ks: Sequence[int] = (10, 20, 50, 100, 200), sigmoid: bool = True):
    """TagProp (Guillaumin et al., ICCV 2009), rank-based, on visual neighbours
    (:class:`~neighborlib.models.tagprop.TagProp`).

    Every image's neighbours are its ``K`` nearest *training* photos by cosine distance of the
    features; a training image never counts itself (the search within the training part
    excludes self). TagProp is fitted on the training part for each ``K`` of ``ks`` and ``K``
    is chosen on val by per-label mAP (ties to the smaller); a ``K`` above the number of other
    training images is capped at it. ``sigmoid``: σTagProp (word-specific ``σ(α_w x + β_w)``);
    ``False``: the plain rank-based model. The test scores are probabilities.

    The neighbour search runs once per split for the largest ``K``, cached in
    ``data.cached(("tagprop_neighbours", K_max), ...)`` as ``{"train", "val", "test"}`` ``(n, K_max)``
    global image indices (nearest first), and shared by both variants.
    """

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        n_train = len(data.train)
        usable = sorted({min(int(k), n_train - 1) for k in ks})  # a training image has n_train - 1 others
        k_max = usable[-1]

        def search() -> dict[str, np.ndarray]:
            X_train = data.X("train")
            own = cosine_neighbours(X_train, None, M=k_max, exclude_self=True).indices
            n_val = len(data.val)  # one search for both parts: the first K of K_max are the K nearest
            queries = np.concatenate([data.X("val"), data.X("test")])
            other = data.train[cosine_neighbours(queries, X_train, M=k_max).indices]
            return {"train": data.train[own], "val": other[:n_val], "test": other[n_val:]}

        nbr = data.cached(("tagprop_neighbours", k_max), search)
        y = data.labels
        best: tuple[float, int, TagProp] | None = None
        val_scores = {}
        for k in usable:
            model = TagProp(sigmoid=sigmoid).fit(y[nbr["train"][:, :k]], data.Y("train"))
            val_scores[k] = mean_average_precision(model.predict(y[nbr["val"][:, :k]]), data.Y("val"))
            if best is None or val_scores[k] > best[0]:
                best = (val_scores[k], k, model)
        _, k, model = best
        info = {"K": k, "val mAP_label": val_scores[k], "gamma_1": float(model.gamma[0])}
        return model.predict(y[nbr["test"][:, :k]]), info

    return method


# ----------------------------------------------------------------------------- MangoNet's chapter


def _sigmoid(logits) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def sigmoid_scores(method):
    """``method`` with its test scores passed through the logistic sigmoid: the logits of the
    logistic and neighbourhood models become probabilities, which MangoNet's metrics threshold
    at 0.5 and compare across labels (``mAP_O``). Per-label rankings are unchanged."""

    def wrapped(data: SplitData):
        out = method(data)
        scores, info = out if isinstance(out, tuple) else (out, {})
        return _sigmoid(scores), info

    return wrapped


def insatten(maps: np.ndarray, width: int = 512, config: SGDConfig | None = None, device: str = "cpu",
             progress: bool = False):
    """MangoNet's InsAtten alone (the paper's ablation, SRN-like): the stage-2 network of
    :func:`neighborlib.spatial.insatten_stage` on the split's feature ``maps`` ``(N, d, H, W)``;
    its test probabilities ``sigmoid(y)``."""
    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        stage = insatten_stage(data, maps, width, config, device, progress)
        fit = stage.fit
        scores = stage.probabilities[torch.as_tensor(data.test, device=stage.probabilities.device)]
        return scores.double().cpu().numpy(), {"epoch": fit.best_epoch, "val mAP_label": fit.best_val_map,
                                              "s/epoch": round(fit.seconds_per_epoch, 2)}

    return method


def mangonet(
    maps: np.ndarray,
    m: int = 3,
    nodes: str = "coattention",
    global_feature: bool = True,
    confidence: str = "probability",
    source: neighbourhoods.Source = neighbourhoods.metadata,
    width: int = 512,
    insatten_config: SGDConfig | None = None,
    config: SGDConfig | None = None,
    psi_dim: int = 512,
    keep_model: bool = False,
    device: str = "cpu",
    progress: bool = False,
):
    """MangoNet (:mod:`neighborlib.models.mangonet`) as a protocol method, trained stage-wise.

    Stage 2 is the split's shared :func:`~neighborlib.spatial.insatten_stage`; stage 3 trains
    the graph and the classifier on the fixed node features of every image and its ``m``
    nearest metadata neighbours of the same part (``source``, e.g. Jaccard on the split's
    vocabulary), keeping the best validation epoch.

    Args:
        maps: ``(N, d, H, W)`` feature maps of every image (:func:`neighborlib.protocol.benchmark_maps`).
        m: neighbourhood size (the paper: 3, 7, 15).
        nodes: ``"coattention"`` (MangoNet, Eq. 4-9) or ``"holistic"`` (the average-pooled
            features: the paper's NGCN ablation).
        global_feature: concatenate the target's global feature (``False``: "MangoNet w/o GF").
        confidence: how InsAtten's confidences ``y`` enter the co-attention's products (Eq. 4, 7):
            ``"probability"`` (``sigmoid(y)``) or ``"logit"`` (``y`` itself, the equations read
            literally); see :mod:`neighborlib.models.mangonet`.
        source: where the neighbours come from (:mod:`neighborlib.neighbourhoods`).
        width: InsAtten's hidden width (the paper: 512).
        insatten_config, config: :class:`~neighborlib.models.minibatch.SGDConfig` of stages 2 and 3.
        psi_dim: width of ψ (512).
        keep_model: record the fit, the neighbour tables and the test co-attention maps.

    Returns test probabilities, and the best epoch, its validation mAP and seconds per epoch.
    """
    if nodes not in ("coattention", "holistic"):
        raise ValueError(f"nodes must be 'coattention' or 'holistic', got {nodes!r}")
    if confidence not in ("probability", "logit"):
        raise ValueError(f"confidence must be 'probability' or 'logit', got {confidence!r}")
    cfg = config or SGDConfig()

    def method(data: SplitData) -> tuple[np.ndarray, dict[str, Any]]:
        start = time.perf_counter()
        dev = resolve_device(device)
        G = global_features(data, maps, dev)
        tables = source(data, m)
        stage = insatten_stage(data, maps, width, insatten_config, dev, progress) if nodes == "coattention" else None
        X = standardised_maps(data, maps, dev).flatten(2) if stage is not None else None
        inputs, attention = {}, None
        if stage is not None:
            y = stage.probabilities if confidence == "probability" else stage.logits
        for part in ("train", "val", "test"):
            index = torch.as_tensor(getattr(data, part), device=dev)
            nbr = torch.as_tensor(np.array(tables[part].indices[:, :m]), device=dev)
            if stage is None:
                Z = holistic_nodes(G, index, nbr)
            elif part == "test" and keep_model:
                Z, attention = coattended_nodes(X, y, stage.beta, index, nbr, return_attention=True)
            else:
                Z = coattended_nodes(X, y, stage.beta, index, nbr)
            inputs[part] = (Z, G[index]) if global_feature else (Z,)
        Y = torch.as_tensor(data.labels.astype(np.float32), device=dev)
        gen = torch.Generator().manual_seed(torch_seed(data.seed, "init", data.split.index, GRAPH_KEY))
        net = MangoNet(G.shape[1], Y.shape[1], global_feature=global_feature, psi_dim=psi_dim, generator=gen).to(dev)
        part_y = {p: Y[torch.as_tensor(getattr(data, p), device=dev)] for p in ("train", "val")}
        fit = fit_multilabel(net, (inputs["train"], part_y["train"]), (inputs["val"], part_y["val"]), config=cfg,
                             seed=data.seed, keys=(data.split.index, GRAPH_KEY), progress=progress, desc="MangoNet")
        scores = _sigmoid(predict_logits(fit.model, inputs["test"]))
        info: dict[str, Any] = {"epoch": fit.best_epoch, "val mAP_label": fit.best_val_map,
                                "s/epoch": round(fit.seconds_per_epoch, 2), "s": round(time.perf_counter() - start, 1)}
        if keep_model:
            info.update(fit=fit, tables=tables, attention=attention, insatten=stage)
        return scores, info

    return method
