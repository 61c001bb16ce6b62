"""Weakly-supervised annotation and tag refinement: the constraints and the dynamic batches.

The AAAI paper of chapter 6 trains an annotation network on noisy user tags and refines
them at the same time. The network ``φ`` ends in a sigmoid over the ``C`` tags; ``φ0`` is
first trained on the user tags by the logistic loss ("Multi-CNN"), then every batch is
trained by

    L_final = L_vis + λ1 L_sem + λ2 L_err                                      (Eq. 1)

* **L_vis** (visual consistency, Eq. 2): a batch of ``s`` images is ``s/m`` groups, each an
  anchor ``i_j`` and its ``m - 1`` current visual neighbours ``z_e``;
  ``L_vis = m / (s (m - 1)) Σ_j Σ_e γ_{j,e} ||p_{i_j} - p_{z_e}||²`` with
  ``γ_{j,e} = exp(-||φ(i_j) - φ(z_e)||² / σ)``. The paper's "σ is the median value" is read
  as the median squared distance of the batch's (anchor, neighbour) pairs; ``γ`` weighs the
  pairs and is not differentiated.
* **L_sem** (semantic dependency, Eq. 6-8): ``L_sem = (1/C²) Tr[P (Q - ξ) Pᵀ]`` with ``P``
  the ``(s, C)`` batch probabilities, ``ξ`` the tag affinity of Eq. 5 (zero diagonal) and
  ``Q_ii = Σ_{j≠i} ξ_ij``. (The paper prints ``Tr[Pᵀ(Q - ξ)P]``, whose shapes only agree for
  ``P`` of shape ``(C, s)``.) The double sum of Eq. 6, ``(1/C²) Σ_i Σ_j ξ_ij ||p'_i - p'_j||²``
  over the tag columns ``p'``, equals **twice** the trace form; the paper's Eq. 8 drops the
  2, which ``λ1`` absorbs. :func:`semantic_dependency_pairs` is the double sum (the tests'
  reference).
* **L_err** (user-error sparsity, Eq. 9): ``||G - P||_1``, the entry-wise L1 norm over the
  batch (a sum, not a mean, as printed; ``λ2`` carries the scale).

**Dynamic neighbours (Algorithm 1).** Every image has ``M`` candidates ``Z_i``: its nearest
training images by ``φ0``'s features. Before a batch, the candidates of its ``s/m`` anchors are
re-embedded with the current network and each anchor takes its ``m - 1`` nearest not yet in
the batch. :func:`fit_weak` re-embeds the whole candidate pool every ``refresh`` iterations
(``refresh = 1`` is Algorithm 1 exactly: the pool holds every candidate), which on a frozen
backbone costs one matrix product.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..seeding import stream
from .epochs import BestEpoch, EpochLog
from .mangonet import _he
from .minibatch import first_nonfinite_row

__all__ = [
    "DynamicBatches", "TagNet", "candidate_sets", "WeakConfig", "WeakFit", "fit_weak", "semantic_dependency",
    "semantic_dependency_pairs", "tag_laplacian", "user_error", "visual_consistency", "visual_similarity",
]


class TagNet(nn.Module):
    """``φ`` on a frozen backbone: features -> ``h``-d image feature (ReLU) -> ``C`` tag logits.

    :meth:`embed` is the image feature ``φ(i)`` of the neighbour search (the paper's 4096-d
    fc7 of VGG-16); :meth:`forward` gives the logits whose sigmoid is the tag distribution ``p``.

    Args:
        d: input feature size (1280 for the book's pooled EfficientNet-Lite0 features).
        n_tags: ``C``.
        hidden: ``h`` (512).
        generator: the He initialisation's generator (zero biases).
    """

    def __init__(self, d: int, n_tags: int, hidden: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.n_labels = int(n_tags)
        self.fc = nn.Linear(d, hidden)
        self.out = nn.Linear(hidden, n_tags)
        for layer in (self.fc, self.out):
            _he(layer, generator)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, d)`` -> ``(B, h)`` image features ``φ(i)``."""
        return torch.relu(self.fc(x))

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        """``(B, h)`` features -> ``(B, C)`` logits."""
        return self.out(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, d)`` -> ``(B, C)`` logits."""
        return self.classify(self.embed(x))


# ----------------------------------------------------------------------------- the constraints


def _median_or_one(d2: torch.Tensor) -> torch.Tensor:
    """The median (the mean of the middle two for an even count, as ``np.median``), 1 if it is 0."""
    sigma = torch.quantile(d2.reshape(-1), 0.5) if d2.numel() else d2.new_tensor(1.0)
    return torch.where(sigma > 0, sigma, sigma.new_tensor(1.0))


def visual_similarity(features: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """``γ`` of Eq. 2: ``(g, m - 1)`` weights ``exp(-||φ(i_j) - φ(z_e)||² / σ)``.

    Args:
        features: ``(s, h)`` image features of the batch (detached by the caller or here).
        groups: ``(g, m)`` batch rows, column 0 the anchor ``i_j``, the rest its neighbours.

    ``σ`` is the median of the ``g (m - 1)`` squared distances (1 where that median is 0).
    """
    f = features.detach()
    d2 = (f[groups[:, 1:]] - f[groups[:, :1]]).pow(2).sum(-1)
    return torch.exp(-d2 / _median_or_one(d2))


def visual_consistency(P: torch.Tensor, features: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """``L_vis`` (Eq. 2): ``m / (s (m - 1)) Σ_j Σ_e γ_{j,e} ||p_{i_j} - p_{z_e}||²``.

    Args:
        P: ``(s, C)`` tag probabilities of the batch.
        features: ``(s, h)`` image features ``φ`` of the batch (``γ`` is not differentiated).
        groups: ``(g, m)`` batch rows (anchor first); ``s = g m``.
    """
    g, m = groups.shape
    if m < 2:
        return P.new_zeros(())
    gamma = visual_similarity(features, groups)
    dist = (P[groups[:, 1:]] - P[groups[:, :1]]).pow(2).sum(-1)
    s = g * m
    return m / (s * (m - 1)) * (gamma * dist).sum()


def tag_laplacian(xi: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``Q - ξ`` of Eq. 7-8 (float64 ``(C, C)``), with ``ξ``'s diagonal set to 0 and
    ``Q_ii = Σ_{j≠i} ξ_ij``.

    Raises:
        ValueError: ``ξ`` not square, not symmetric, negative or not finite (naming the pair).
    """
    x = torch.as_tensor(np.asarray(xi, dtype=np.float64)).clone()
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(f"ξ must be a square (C, C) matrix, got {tuple(x.shape)}")
    bad = ~torch.isfinite(x) | (x < 0)
    if bad.any():
        i, j = (int(v) for v in torch.nonzero(bad)[0])
        raise ValueError(f"ξ must be finite and non-negative: ξ[{i}, {j}] = {float(x[i, j])}")
    if not torch.allclose(x, x.T, rtol=1e-9, atol=1e-12):
        raise ValueError("ξ must be symmetric")
    x.fill_diagonal_(0.0)
    return torch.diag(x.sum(1)) - x


def semantic_dependency(P: torch.Tensor, laplacian: torch.Tensor) -> torch.Tensor:
    """``L_sem`` in the trace form (Eq. 8): ``(1/C²) Tr[P (Q - ξ) Pᵀ]``.

    Args:
        P: ``(s, C)`` batch probabilities.
        laplacian: ``(C, C)`` ``Q - ξ`` from :func:`tag_laplacian` (same dtype and device as ``P``).
    """
    C = P.shape[1]
    return torch.einsum("sc,cd,sd->", P, laplacian, P) / (C * C)


def semantic_dependency_pairs(P: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
    """Eq. 6 as printed: ``(1/C²) Σ_i Σ_j ξ_ij ||p'_i - p'_j||²`` over the ``(s,)`` tag columns
    ``p'`` of ``P`` (``O(s C²)`` memory: the tests' reference). Equals
    ``2 · semantic_dependency(P, tag_laplacian(ξ))`` for a symmetric ``ξ``."""
    C = P.shape[1]
    cols = P.T
    d2 = (cols[:, None, :] - cols[None, :, :]).pow(2).sum(-1)
    off = 1.0 - torch.eye(C, dtype=P.dtype, device=P.device)
    return (xi * off * d2).sum() / (C * C)


def user_error(P: torch.Tensor, G: torch.Tensor) -> torch.Tensor:
    """``L_err`` (Eq. 9): ``||G - P||_1`` summed over the batch's ``(s, C)`` entries."""
    return (G - P).abs().sum()


# ----------------------------------------------------------------------------- Algorithm 1


def candidate_sets(features: torch.Tensor, M: int, chunk: int = 2048) -> np.ndarray:
    """``Z_i`` of Algorithm 2, step 2: each row's ``M`` nearest *other* rows by Euclidean distance.

    Args:
        features: ``(n, h)`` image features ``φ0(i)``.
        M: candidates per image (the paper: 512), at most ``n - 1``.
        chunk: query rows per distance block.

    Returns:
        ``(n, M)`` int64 row indices, nearest first (``torch.topk`` on the CPU: repeatable).
    """
    n = features.shape[0]
    if not 1 <= M <= n - 1:
        raise ValueError(f"M = {M} candidates need 1 <= M <= n - 1 = {n - 1}")
    _check_finite("features", features)
    f = features.detach()
    sq = f.pow(2).sum(1)
    out = []
    with torch.no_grad():
        for lo in range(0, n, chunk):
            q = f[lo:lo + chunk]
            d2 = sq[lo:lo + chunk, None] + sq[None, :] - 2.0 * q @ f.T
            d2[torch.arange(len(q)), torch.arange(lo, lo + len(q))] = float("inf")
            out.append(torch.topk(d2, M, dim=1, largest=False, sorted=True).indices.cpu())
    return torch.cat(out).numpy().astype(np.int64)


class DynamicBatches:
    """Algorithm 1: the batch of ``s/m`` anchors and their ``m - 1`` nearest candidates.

    Args:
        candidates: ``(n, M)`` row indices (into the training rows) of each image's candidates
            ``Z_i``, nearest first by ``φ0``; an image is not its own candidate.
        group_size: ``m`` (the anchor plus ``m - 1`` neighbours).
        dynamic: rank the candidates by the current features (``False``: keep ``φ0``'s order,
            the "fixed neighbours" ablation).

    No image is twice in a batch: the anchors come first, and a neighbour already in the batch
    is passed over for the next candidate.
    """

    def __init__(self, candidates: np.ndarray, group_size: int, dynamic: bool = True):
        cand = np.asarray(candidates, dtype=np.int64)
        if cand.ndim != 2:
            raise ValueError(f"candidates must be (n, M), got shape {cand.shape}")
        if group_size < 1:
            raise ValueError(f"group size m must be >= 1, got {group_size}")
        if (cand < 0).any() or (cand >= len(cand)).any():
            raise ValueError(f"candidate indices must lie in [0, {len(cand)})")
        if (cand == np.arange(len(cand))[:, None]).any():
            raise ValueError("an image is among its own candidates")
        self.candidates, self.m, self.dynamic = cand, int(group_size), bool(dynamic)

    def ranked(self, anchors: np.ndarray, embedding: torch.Tensor | None) -> np.ndarray:
        """``(a, M)`` candidates of ``anchors``, nearest first by ``embedding`` ``(n, h)``
        (stable: ties keep ``φ0``'s order); ``φ0``'s order when not dynamic."""
        cand = self.candidates[anchors]
        if not self.dynamic or embedding is None:
            return cand
        with torch.no_grad():
            e = embedding.detach()
            a = torch.as_tensor(anchors, device=e.device)
            c = torch.as_tensor(cand, device=e.device)
            d2 = (e[c] - e[a][:, None, :]).pow(2).sum(-1)
            order = torch.sort(d2, dim=1, stable=True).indices.cpu().numpy()
        return np.take_along_axis(cand, order, axis=1)

    def groups(self, anchors: np.ndarray, embedding: torch.Tensor | None) -> np.ndarray:
        """``(a, m)`` training rows: each anchor then its ``m - 1`` selected neighbours.

        Raises:
            ValueError: repeated anchors, or an anchor whose candidates run out before
                ``m - 1`` images not yet in the batch are found.
        """
        anchors = np.asarray(anchors, dtype=np.int64)
        if len(np.unique(anchors)) != len(anchors):
            raise ValueError("the anchors of a batch must be distinct")
        used = set(anchors.tolist())
        out = np.empty((len(anchors), self.m), dtype=np.int64)
        out[:, 0] = anchors
        for r, row in enumerate(self.ranked(anchors, embedding)):
            k = 1
            for c in row:
                if k == self.m:
                    break
                if int(c) not in used:
                    used.add(int(c))
                    out[r, k] = c
                    k += 1
            if k < self.m:
                raise ValueError(f"anchor {anchors[r]}: its {len(row)} candidates ran out before "
                                 f"{self.m - 1} images not yet in the batch (raise M)")
        return out


# ----------------------------------------------------------------------------- training


@dataclass(frozen=True)
class WeakConfig:
    """Settings of :func:`fit_weak` (defaults: the paper's where it states them).

    Attributes:
        epochs: 30; lr 1e-3 divided by ``lr_gamma`` = 10 every ``lr_step`` = 10 epochs (SGD).
        momentum: 0.9 (not stated in the paper).
        batch_size: ``s`` = 64. group_size: ``m`` = 8 (anchor included).
        lambda_sem, lambda_err: ``λ1``, ``λ2`` of Eq. 1 (0 switches the term off).
        use_vis: keep ``L_vis`` (the ablations switch it off).
        dynamic: Algorithm 1's re-ranking (``False``: ``φ0``'s neighbours throughout).
        refresh: iterations between re-embeddings of the candidate pool (1: Algorithm 1 exactly).
        min_epochs, patience: stop after ``patience`` epochs without a better validation score.
    """

    epochs: int = 30
    lr: float = 1e-3
    lr_step: int = 10
    lr_gamma: float = 0.1
    momentum: float = 0.9
    batch_size: int = 64
    group_size: int = 8
    lambda_sem: float = 1.0
    lambda_err: float = 1.0
    use_vis: bool = True
    dynamic: bool = True
    refresh: int = 1
    min_epochs: int = 1
    patience: int | None = None

    def __post_init__(self) -> None:
        for name in ("epochs", "lr_step", "batch_size", "group_size", "refresh", "min_epochs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"WeakConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size % self.group_size:
            raise ValueError(f"batch size s = {self.batch_size} must be a multiple of m = {self.group_size}")
        if self.lambda_sem < 0 or self.lambda_err < 0 or not self.lr > 0:
            raise ValueError(f"need λ1, λ2 >= 0 and lr > 0, got {self.lambda_sem}, {self.lambda_err}, {self.lr}")
        if not (self.use_vis or self.lambda_sem or self.lambda_err):
            raise ValueError("every constraint is switched off: nothing to train")

    @property
    def groups_per_batch(self) -> int:
        """``s / m``."""
        return self.batch_size // self.group_size


@dataclass
class WeakFit:
    """A network trained by :func:`fit_weak` (best validation epoch, evaluation mode).

    Attributes:
        history: per epoch ``epoch``, ``train_loss``, ``val_mAP_label`` (the ``score_val``
            value), ``seconds`` and the three terms' means per batch ``L_vis``, ``L_sem``, ``L_err``.
        watched: watched image -> its ``m - 1`` selected neighbours after each epoch (or every
            ``watch_every`` batches), the first entry with ``φ0`` (Fig. 4).
    """

    model: TagNet
    best_epoch: int
    history: list[dict[str, float]]
    watched: dict[int, list[np.ndarray]] = field(default_factory=dict)

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean([h["seconds"] for h in self.history]))


@torch.no_grad()
def _embed_all(model: TagNet, X: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    return torch.cat([model.embed(X[lo:lo + batch]) for lo in range(0, len(X), batch)])


def _check_finite(name: str, t: torch.Tensor) -> None:
    r = first_nonfinite_row(t)
    if r is not None:
        raise ValueError(f"{name} contains NaN or inf (row {r})")


def fit_weak(
    model: TagNet,
    X: torch.Tensor,
    G: torch.Tensor,
    candidates: np.ndarray,
    xi: np.ndarray,
    *,
    config: WeakConfig = WeakConfig(),
    score_val: Callable[[TagNet], float] | None = None,
    seed: int = 0,
    keys: Sequence[int] = (),
    watch: Sequence[int] = (),
    watch_every: int | None = None,
    progress: bool = False,
    desc: str = "weak",
) -> WeakFit:
    """Algorithm 2, steps 3-5: train ``model`` (initialised with ``φ0``) by ``L_final`` on dynamic batches.

    Args:
        model: a :class:`TagNet` holding ``φ0``'s weights (trained further in place).
        X: ``(n, d)`` input features of the training images, on the model's device.
        G: ``(n, C)`` float user tags of the same images (``L_err``'s ``G``).
        candidates: ``(n, M)`` candidate rows (:class:`DynamicBatches`).
        xi: ``(C, C)`` tag affinity ``ξ`` (Eq. 5).
        config: :class:`WeakConfig`.
        score_val: ``model -> float`` scored after every epoch (the chapter: per-label mAP of
            the validation labels); the best epoch is kept. ``None``: the last epoch.
        seed, keys: the anchors' epoch order (stream ``"sampling"`` keyed ``(*keys, epoch)``).
        watch: training rows whose selected neighbours are recorded after every epoch, or every
            ``watch_every`` batches (Fig. 4's "increasing iteration number").
        progress: a tqdm bar over epochs.

    Returns:
        A :class:`WeakFit`.
    """
    if X.shape[0] != G.shape[0] or X.shape[0] != len(candidates):
        raise ValueError(f"X, G and candidates disagree: {X.shape[0]}, {G.shape[0]} and {len(candidates)} rows")
    _check_finite("X", X)
    _check_finite("G", G)
    cfg = config
    lap = tag_laplacian(xi).to(device=X.device, dtype=X.dtype)
    if lap.shape[0] != G.shape[1]:
        raise ValueError(f"ξ is {lap.shape[0]} x {lap.shape[0]} for {G.shape[1]} tags")
    batches = DynamicBatches(candidates, cfg.group_size, cfg.dynamic)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, foreach=False)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_step, gamma=cfg.lr_gamma)
    log = EpochLog(cfg.epochs, progress, desc)
    best = BestEpoch(cfg.min_epochs, cfg.patience)
    watch = [int(w) for w in watch]
    watched: dict[int, list[np.ndarray]] = {w: [] for w in watch}

    def record() -> None:
        emb = _embed_all(model, X) if cfg.dynamic else None
        for w in watch:
            watched[w].append(batches.groups(np.array([w]), emb)[0, 1:])

    if watch:
        record()
    n, g = X.shape[0], cfg.groups_per_batch
    for epoch in log:
        start = time.perf_counter()
        order = stream(seed, "sampling", *keys, epoch).permutation(n)
        model.train()
        sums = {"loss": 0.0, "L_vis": 0.0, "L_sem": 0.0, "L_err": 0.0}
        n_batches = 0
        embedding = None
        for b, lo in enumerate(range(0, n, g)):
            if cfg.dynamic and b % cfg.refresh == 0:
                embedding = _embed_all(model, X)
            groups = batches.groups(order[lo:lo + g], embedding)
            rows = torch.as_tensor(groups.reshape(-1), device=X.device)
            local = torch.arange(groups.size, device=X.device).reshape(groups.shape)
            h = model.embed(X[rows])
            P = torch.sigmoid(model.classify(h))
            terms = {
                "L_vis": visual_consistency(P, h, local) if cfg.use_vis else P.new_zeros(()),
                "L_sem": semantic_dependency(P, lap) if cfg.lambda_sem else P.new_zeros(()),
                "L_err": user_error(P, G[rows]) if cfg.lambda_err else P.new_zeros(()),
            }
            loss = terms["L_vis"] + cfg.lambda_sem * terms["L_sem"] + cfg.lambda_err * terms["L_err"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums["loss"] += float(loss.detach())
            for k, v in terms.items():
                sums[k] += float(v.detach())
            n_batches += 1
            if watch and watch_every and n_batches % watch_every == 0:
                record()
        sched.step()
        model.eval()
        val = float(score_val(model)) if score_val is not None else float(epoch)
        log.record(epoch, sums["loss"] / n_batches, val, time.perf_counter() - start)
        log.history[-1].update({k: sums[k] / n_batches for k in ("L_vis", "L_sem", "L_err")})
        if watch and not watch_every:
            record()
        if best.update(model, val, epoch):
            break
    log.close()
    return WeakFit(best.restore(model), best.epoch, log.history, watched)
