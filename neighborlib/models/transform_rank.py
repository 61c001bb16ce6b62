"""Image-dependent transformation ranking: the CNN outputs a matrix, not an embedding.

Li and Yeh's multilabel model (chapter 7, {cite}`li2018conditioned`; arXiv:1802.07460) feeds
an image ``I`` to a network whose last layer has ``k x d`` outputs, read as a matrix

    f_θ(I) = A ∈ R^{k x d}                                                   (Eq. 1)

which maps every label's ``d``-dimensional word vector ``w`` to ``A w ∈ R^k``. Relevant labels
should land near the origin and irrelevant ones far from it, ``||A p_i||² < ||A n_j||²``
(Eq. 2), and labels are ranked by ``||A w||₂`` *ascending* (Section 3.5). The hinge rank
loss of one training tuple ``(I, {p_i}, {n_j})`` is

    L = Σ_j max(0, m + (1/|p|) Σ_i ||A p_i||² - ||A n_j||²)                   (Eq. 3)

over the image's positives ``p_i`` and its sampled negatives ``n_j`` (40 in the paper).
Every model here scores labels so that **higher is more relevant**: :class:`TransformRank`
returns ``s_l = -||A w_l||²``, which ranks exactly as ``||A w_l||₂`` ascending, and then
Eq. 3 is :func:`hinge_rank_loss` ``Σ_j max(0, m - mean_i s_{p_i} + s_{n_j})``. The same loss on
dot products is DeViSE's (Frome et al., 2013), the paper's ``k = 1`` special case
(:class:`DeViSE`).

The baselines share the network body (:class:`FeatureTrunk`) and differ in the output
layer and the loss: one-vs-all logistic (the summed binary cross-entropy of
:func:`neighborlib.models.minibatch.fit_multilabel`), :func:`softmax_loss` (Gong et al.'s
softmax over labels with the positives' target mass spread evenly) and :func:`warp_loss`
(Weston et al.'s WARP, as Gong et al. train it), all on :class:`LabelScorer`.

On the CPU the backbone is frozen and its pooled features are the input: the trunk's hidden
layer stands in for AlexNet's trainable fc6-fc7, the output layer for fc8 (the paper's
Table 1, with ``h`` inputs instead of 4,096).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from ..metrics import harmonic_numbers
from .mangonet import _he

__all__ = [
    "DeViSE",
    "committee_votes",
    "mean_row_jaccard",
    "random_jaccard",
    "row_top_labels",
    "FeatureTrunk",
    "LabelScorer",
    "RankLoss",
    "TransformRank",
    "hinge_rank_loss",
    "logistic_loss",
    "rank_weights",
    "sample_negatives",
    "softmax_loss",
    "transform_rank_loss",
    "warp_draws",
    "warp_loss",
    "warp_violations",
]

#: A loss of one minibatch: ``(scores (B, L), targets (B, L), generator) -> scalar`` (a mean
#: over the batch's images); the generator draws the sampled negatives.
RankLoss = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


class FeatureTrunk(nn.Module):
    """The shared body: ``(B, C)`` frozen features -> ``(B, h)`` hidden features (ReLU).

    ``hidden = 0`` is no hidden layer (the identity, ``h = C``). He initialisation from
    ``generator``, zero biases.
    """

    def __init__(self, in_features: int, hidden: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.in_features = int(in_features)
        self.fc = nn.Linear(self.in_features, int(hidden)) if hidden else None
        if self.fc is not None:
            _he(self.fc, generator)
        self.out_features = int(hidden) if hidden else self.in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.fc is None else torch.relu(self.fc(x))

    def weights(self) -> list[nn.Parameter]:
        """The hidden layer's weight matrix (none without a hidden layer)."""
        return [] if self.fc is None else [self.fc.weight]


class LabelScorer(nn.Module):
    """One score per label from a linear output layer: ``(B, C)`` -> ``(B, L)``.

    The body of the one-vs-all logistic, softmax and WARP baselines (their losses differ).
    """

    def __init__(self, in_features: int, n_labels: int, hidden: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.n_labels = int(n_labels)
        self.trunk = FeatureTrunk(in_features, hidden, generator)
        self.out = nn.Linear(self.trunk.out_features, self.n_labels)
        _he(self.out, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.trunk(x))

    def regularised_parameters(self) -> list[nn.Parameter]:
        """The weight matrices (the L2 penalty of ``SGDConfig.l2``)."""
        return self.trunk.weights() + [self.out.weight]


class TransformRank(nn.Module):
    """The transformation model: ``A = f_θ(I)`` (Eq. 1) and scores ``s_l = -||A w_l||²``.

    Args:
        in_features: ``C``, the frozen features' size.
        label_vectors: ``(L, d)`` word vectors ``w_l`` of the labels to rank (a buffer:
            :meth:`relabel` swaps in another label set, e.g. unseen labels).
        k: rows of ``A`` (the paper: 100).
        hidden: the trunk's hidden size ``h`` (0: none).
        generator: the He initialisation's generator.

    The output layer ``fc8`` has ``k d`` units, read as ``A`` row by row: ``A[r, j]`` is unit
    ``r d + j``. :meth:`forward` never forms ``A``: with ``U`` the ``(k, d, h)`` weight and
    ``b`` the ``(k, d)`` bias, ``A w = (U ×_d w) v + b w``, and ``U ×_d w`` is computed once per
    batch for every label (``L k d h`` products instead of ``B k d h``), the same numbers up to
    float rounding as :meth:`transforms` followed by ``A w`` (the tests check both).
    """

    def __init__(self, in_features: int, label_vectors: torch.Tensor, k: int = 100, hidden: int = 512,
                 generator: torch.Generator | None = None):
        super().__init__()
        W = torch.as_tensor(label_vectors, dtype=torch.float32)
        if W.ndim != 2:
            raise ValueError(f"label_vectors must be (L, d), got shape {tuple(W.shape)}")
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k, self.d = int(k), int(W.shape[1])
        self.trunk = FeatureTrunk(in_features, hidden, generator)
        self.fc8 = nn.Linear(self.trunk.out_features, self.k * self.d)
        _he(self.fc8, generator)
        self.register_buffer("label_vectors", W.clone())

    @property
    def n_labels(self) -> int:
        return int(self.label_vectors.shape[0])

    def relabel(self, label_vectors: torch.Tensor) -> "TransformRank":
        """Rank another label set from now on (in place; returns ``self``): ``(L', d)``."""
        W = torch.as_tensor(label_vectors, dtype=self.label_vectors.dtype, device=self.label_vectors.device)
        if W.ndim != 2 or W.shape[1] != self.d:
            raise ValueError(f"label_vectors must be (L, {self.d}), got shape {tuple(W.shape)}")
        self.label_vectors = W.clone()
        return self

    def regularised_parameters(self) -> list[nn.Parameter]:
        """The weight matrices (the L2 penalty of ``SGDConfig.l2``)."""
        return self.trunk.weights() + [self.fc8.weight]

    def transforms(self, x: torch.Tensor) -> torch.Tensor:
        """Eq. 1: ``(B, C)`` features -> ``(B, k, d)`` matrices ``A``."""
        return self.fc8(self.trunk(x)).reshape(-1, self.k, self.d)

    def projections(self, x: torch.Tensor, W: torch.Tensor | None = None) -> torch.Tensor:
        """``A w_l`` for every image and label: ``(B, C)`` -> ``(B, L, k)`` (``W``: ``(L, d)``,
        default the buffer)."""
        W = self.label_vectors if W is None else W
        v = self.trunk(x)                                                   # (B, h)
        h = v.shape[1]
        U = self.fc8.weight.reshape(self.k, self.d, h).transpose(0, 1)      # (d, k, h)
        G = (W @ U.reshape(self.d, self.k * h)).reshape(-1, h)              # (L k, h): U ×_d w_l
        c = W @ self.fc8.bias.reshape(self.k, self.d).T                     # (L, k)
        return (v @ G.T).reshape(len(v), -1, self.k) + c                    # (B, L, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C)`` -> ``(B, L)`` scores ``-||A w_l||²`` (Section 3.5's ranking, higher first)."""
        return -self.projections(x).square().sum(-1)


class DeViSE(TransformRank):
    """DeViSE (Frome et al., 2013), the paper's ``k = 1`` case: the image maps to one
    ``d``-vector ``v`` and labels score ``v · w_l`` (a dot product, higher first)."""

    def __init__(self, in_features: int, label_vectors: torch.Tensor, hidden: int = 512,
                 generator: torch.Generator | None = None):
        super().__init__(in_features, label_vectors, k=1, hidden=hidden, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projections(x)[..., 0]


# ----------------------------------------------------------------------------- the hinge rank loss


def sample_negatives(targets: torch.Tensor, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, L)`` mask of ``min(n, #negatives)`` labels drawn per image, uniformly without
    replacement among its negatives (targets 0); the paper draws ``n = 40``."""
    keys = torch.rand(targets.shape, generator=generator, device=targets.device)
    keys = keys.masked_fill(targets > 0, 2.0)  # positives sort last and are never taken
    take = min(int(n), targets.shape[1])
    chosen = torch.zeros_like(targets, dtype=torch.bool)
    if take > 0:
        chosen.scatter_(1, keys.topk(take, dim=1, largest=False).indices, True)
    return chosen & (targets <= 0)


def hinge_rank_loss(scores: torch.Tensor, targets: torch.Tensor, negatives: torch.Tensor,
                    margin: float = 1.0) -> torch.Tensor:
    """Eq. 3 averaged over the batch: ``mean_I Σ_j max(0, m - mean_i s_{p_i} + s_{n_j})``.

    Args:
        scores: ``(B, L)``, higher = more relevant (``-||A w||²`` for Eq. 3 itself, ``v · w``
            for DeViSE).
        targets: ``(B, L)`` in {0, 1}.
        negatives: ``(B, L)`` bool, the sampled negatives ``n_j`` (:func:`sample_negatives`).
        margin: ``m``.

    Images without a positive or without a sampled negative add 0 and are left out of the mean.
    """
    pos = (targets > 0).to(scores.dtype)
    n_pos = pos.sum(1)
    mean_pos = (scores * pos).sum(1) / n_pos.clamp(min=1)                       # (B,)
    hinge = torch.relu(margin - mean_pos[:, None] + scores) * negatives.to(scores.dtype)
    usable = (n_pos > 0) & negatives.any(1)
    return hinge.sum(1)[usable].sum() / usable.sum().clamp(min=1)


def transform_rank_loss(n_negatives: int = 40, margin: float = 1.0) -> RankLoss:
    """The paper's training loss as a :data:`RankLoss`: ``n_negatives`` drawn per image, Eq. 3."""

    def loss(scores: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return hinge_rank_loss(scores, targets, sample_negatives(targets, n_negatives, generator), margin)

    return loss


# ----------------------------------------------------------------------------- the baselines' losses


def softmax_loss(scores: torch.Tensor, targets: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gong et al.'s softmax loss: ``-Σ_l (y_l / |y|) log softmax(s)_l``, the mean over the
    images with a positive. ``(B, L)`` scores and targets; ``generator`` is unused."""
    pos = (targets > 0).to(scores.dtype)
    n_pos = pos.sum(1)
    per_image = -(pos * torch.log_softmax(scores, dim=1)).sum(1) / n_pos.clamp(min=1)
    usable = n_pos > 0
    return per_image[usable].sum() / usable.sum().clamp(min=1)


def rank_weights(ranks: torch.Tensor) -> torch.Tensor:
    """WARP's weight of an estimated rank ``r``: ``L(r) = Σ_{j=1}^{r} 1/j`` (0 for ``r = 0``)."""
    top = int(ranks.max()) if ranks.numel() else 0
    return torch.as_tensor(harmonic_numbers(top))[ranks.long().cpu()].to(device=ranks.device, dtype=torch.float32)


def warp_draws(targets: torch.Tensor, generator: torch.Generator | None = None
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """WARP's random draws for every (image, positive) pair of a batch.

    Each pair draws negatives of its image uniformly **with** replacement, one per trial, for
    up to ``#negatives`` trials (Weston et al.'s sampling until a violation). The draws are made
    here, before any score is seen, so :func:`warp_violations` can be checked against a loop.

    Args:
        targets: ``(B, L)`` in {0, 1}.

    Returns:
        ``(pairs, candidates, n_negative)``: ``pairs (P, 2)`` (image, positive label) in
        row-major order; ``candidates (P, T)`` drawn negative labels, ``T = max #negatives``
        (trial ``t`` of a pair is valid when ``t < n_negative``); ``n_negative (P,)``.
    """
    pos = targets > 0
    pairs = torch.nonzero(pos)                                                # (P, 2)
    neg = ~pos
    n_neg_row = neg.sum(1)                                                    # (B,)
    T = int(n_neg_row.max()) if len(n_neg_row) else 0
    # the negatives of each row listed first, in label order: column c of `order` is the c-th negative
    order = torch.argsort((~neg).to(torch.int8), dim=1, stable=True)          # (B, L)
    n_negative = n_neg_row[pairs[:, 0]]                                       # (P,)
    u = torch.rand((len(pairs), T), generator=generator, device=targets.device)
    slot = (u * n_negative[:, None]).long().clamp(max=max(T - 1, 0))           # uniform over 0..n_neg-1
    candidates = order[pairs[:, 0]].gather(1, slot) if T else slot
    return pairs, candidates, n_negative


def warp_violations(scores: torch.Tensor, pairs: torch.Tensor, candidates: torch.Tensor, n_negative: torch.Tensor,
                    margin: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The first violating draw of each pair: ``s_n > s_p - margin``.

    Returns:
        ``(found, negative, rank)``, each ``(P,)``: whether a trial violated; the violating
        negative label (undefined where not found); the rank estimate
        ``floor(#negatives / N)`` with ``N`` the trials it took (0 where not found).
    """
    if candidates.shape[1] == 0:  # no image of the batch has a negative: nothing violates
        none = torch.zeros(len(pairs), dtype=torch.long, device=scores.device)
        return torch.zeros(len(pairs), dtype=torch.bool, device=scores.device), none, none
    s = scores.detach()
    s_pos = s[pairs[:, 0], pairs[:, 1]]                                        # (P,)
    s_cand = s[pairs[:, 0][:, None], candidates]                              # (P, T)
    trial = torch.arange(candidates.shape[1], device=scores.device)
    violates = (s_cand > s_pos[:, None] - margin) & (trial[None, :] < n_negative[:, None])
    found = violates.any(1)
    first = torch.argmax(violates.to(torch.int8), dim=1)                     # first True (0 if none)
    negative = candidates.gather(1, first[:, None])[:, 0] if candidates.shape[1] else first
    rank = torch.where(found, torch.div(n_negative, first + 1, rounding_mode="floor"), torch.zeros_like(first))
    return found, negative, rank


def warp_loss(scores: torch.Tensor, targets: torch.Tensor, generator: torch.Generator | None = None,
              margin: float = 1.0) -> torch.Tensor:
    """WARP (Weston et al., 2011; Gong et al.'s multilabel form), the mean over the batch's images:

        Σ_{(I, p)} L(r_p) max(0, margin - s_p + s_n)

    over every positive ``p``, with ``n`` the first sampled negative that violates the margin
    (:func:`warp_draws`, :func:`warp_violations`), ``r_p = floor(#negatives / N)`` the rank
    estimated from the ``N`` trials it took and ``L`` :func:`rank_weights`. A pair with no
    violation in ``#negatives`` trials adds 0."""
    pairs, candidates, n_negative = warp_draws(targets, generator)
    if len(pairs) == 0:
        return scores.sum() * 0.0
    found, negative, rank = warp_violations(scores, pairs, candidates, n_negative, margin)
    i, p = pairs[found, 0], pairs[found, 1]
    hinge = torch.relu(margin - scores[i, p] + scores[i, negative[found]])
    total = (rank_weights(rank[found]).to(scores.dtype) * hinge).sum()
    n_images = int((targets > 0).any(1).sum())
    return total / max(n_images, 1)


def logistic_loss(scores: torch.Tensor, targets: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The one-vs-all logistic loss: summed over labels, mean over the batch (``generator`` unused)."""
    return nn.functional.binary_cross_entropy_with_logits(scores, targets, reduction="sum") / max(len(scores), 1)


# ----------------------------------------------------------------------------- the rows of A as a committee


def row_top_labels(P: np.ndarray, n: int) -> np.ndarray:
    """Each row's ``n`` best labels (Section 4.4): ``(N, L, k)`` projections ``A w_l`` ->
    ``(N, k, n)`` label indices, row ``r`` ranking the labels by ``|(A w_l)_r|`` ascending
    (ties to the lower label index)."""
    P = np.asarray(P)
    if P.ndim != 3:
        raise ValueError(f"projections must be (N, L, k), got shape {P.shape}")
    if int(n) < 1:
        raise ValueError(f"a row's top labels need n >= 1, got {n}")
    dist = np.abs(np.swapaxes(P, 1, 2))                                       # (N, k, L)
    return np.argsort(dist, axis=2, kind="stable")[:, :, : min(int(n), P.shape[1])]


def committee_votes(P: np.ndarray, n: int) -> np.ndarray:
    """Table 5's voting: every row of ``A`` votes for its top ``n`` labels; ``(N, L, k)`` ->
    ``(N, L)`` vote counts (the image's labels ranked by votes; ties share a top-k cut-off
    fractionally in :func:`neighborlib.metrics.precision_recall_f1_at_k`)."""
    top = row_top_labels(P, n)                                                # (N, k, n)
    votes = np.zeros((P.shape[0], P.shape[1]), dtype=np.float64)
    np.add.at(votes, (np.arange(P.shape[0])[:, None, None], top), 1.0)
    return votes


def mean_row_jaccard(P: np.ndarray, n: int = 5) -> np.ndarray:
    """Figure 9: per image, the mean Jaccard similarity of the rows' top-``n`` label sets over
    the ``k (k - 1) / 2`` pairs of distinct rows. ``(N, L, k)`` -> ``(N,)``."""
    N, L, k = np.asarray(P).shape
    if k < 2:
        raise ValueError("the Jaccard similarity of rows needs k >= 2")
    member = np.zeros((N, k, L), dtype=np.float32)
    np.put_along_axis(member, row_top_labels(P, n), 1.0, axis=2)
    inter = np.einsum("nal,nbl->nab", member, member)                          # (N, k, k)
    size = member.sum(2)                                                      # (N, k)
    jac = inter / (size[:, :, None] + size[:, None, :] - inter)
    upper = np.triu_indices(k, 1)
    return jac[:, upper[0], upper[1]].mean(axis=1).astype(np.float64)


def random_jaccard(n_labels: int, n: int = 5) -> float:
    """The expected Jaccard similarity of two independent uniformly random ``n``-subsets of
    ``n_labels`` labels (the hypergeometric overlap): Figure 9's "no agreement" reference."""
    from math import comb

    if int(n) < 1 or int(n_labels) < 1:
        raise ValueError(f"need n >= 1 of n_labels >= 1, got n = {n} of {n_labels}")
    n = min(int(n), int(n_labels))
    total = comb(n_labels, n)
    return sum(comb(n, i) * comb(n_labels - n, n - i) / total * i / (2 * n - i) for i in range(n + 1))
