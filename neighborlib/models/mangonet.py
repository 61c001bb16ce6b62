"""MangoNet: instance attention, co-attention with the metadata neighbours, and a GCN over
the neighbourhood graph.

Zhang, Wu, Zhang, Shen and Lu, "Mind Your Neighbours: Image Annotation with Metadata
Neighbourhood Graph Co-Attention Networks" (CVPR 2019), Section 3. Notation: ``φ(i)`` is
the backbone's convolutional feature map of image ``i``, ``d`` channels at ``N = H·W``
positions; ``C`` labels; ``z = (z_1, ..., z_m)`` the image's ``m`` nearest metadata
neighbours.

* :class:`InsAtten` (Fig. 3, Eq. 1-3): per-label attention maps
  ``β = softmax_l(q(φ(i)))`` over the ``N`` positions ``l`` (one map per label), with ``q``
  three convolutions (512 1x1, 512 3x3, C 1x1; ReLU between them, as in SRN, the paper's
  [33]); confidence maps ``E = conv_{1x1, C}(φ(i))``; the label confidence
  ``y = Σ_l E ⊙ β`` (sum-pooling). Trained alone on the image labels (stage 2).
* Co-attention (Eq. 4-9), parameter-free given InsAtten's outputs:
  :func:`neighbour_coattention` ``α_j = softmax_l(Σ_k w_j^k β_{z_j}^k)`` with
  ``w_j = y_i ⊙ y_{z_j}`` (Eq. 4-5); :func:`target_coattention`
  ``α = softmax_l(Σ_k w^k β_i^k)`` with ``w = y_i ⊙ Π_j y_{z_j}`` (Eq. 7-8);
  :func:`attend` the attended feature ``Σ_l α_l φ_l`` (Eq. 6, 9). By default the
  confidences ``y`` enter these products as **probabilities** ``sigmoid(y)``: products of
  logits, read literally, make two confidently absent labels (two negative logits) a
  large positive overlap. Probabilities have the opposite weakness: ``w ≤ 1`` and
  ``β ≤ 1``, so the softmax's inputs differ by at most 1 and ``α`` is never sharp.
  :func:`coattended_nodes` takes either (``confidences``), so the chapter measures both.
* :class:`NeighbourhoodGraph` (Eq. 10-11): ``s(ẑ_k, ẑ_l) = ψ(ẑ_k)ᵀ ψ(ẑ_l)`` with ``ψ`` an
  FC layer of 512, a row softmax gives the adjacency ``S``; one graph convolution with a
  residual, ``Z' = ReLU(S Ẑ W) + Ẑ``.
* :class:`MangoNet`: the graph over the ``m + 1`` nodes ``(î, ẑ_1, ..., ẑ_m)``, the nodes
  average-pooled, concatenated with the target's global feature (the average-pooled
  ``φ(i)``; dropped for "MangoNet w/o GF") and an FC layer to ``C`` scores. With holistic
  nodes (average-pooled ``φ`` instead of co-attended features) the same network is the
  paper's **NGCN** ablation.

Training is stage-wise (Section 3.2): InsAtten on the labels, then, with InsAtten frozen,
the graph and the FC layer; both with the cross-entropy (logistic) loss and SGD
(:mod:`neighborlib.models.minibatch`). Because InsAtten is frozen and the neighbourhood is
the ``m`` nearest images (not a sample), the node features of an image are fixed during
stage 3 and are computed once (:func:`coattended_nodes`, :func:`holistic_nodes`).
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch import nn

__all__ = [
    "InsAtten",
    "MangoNet",
    "NeighbourhoodGraph",
    "attend",
    "coattended_nodes",
    "holistic_nodes",
    "neighbour_coattention",
    "target_coattention",
]


def _he(layer: nn.Module, generator: torch.Generator | None) -> None:
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=generator)
    if getattr(layer, "bias", None) is not None:
        nn.init.zeros_(layer.bias)


class InsAtten(nn.Module):
    """Instance-level attention (MangoNet Fig. 3, Eq. 1-3; SRN's attention branch).

    Args:
        d: channels of the feature map ``φ``.
        n_labels: ``C``.
        width: channels of ``q``'s two hidden convolutions (the paper: 512).
        generator: the He initialisation's random generator (``None``: torch's default).

    Input ``φ``: ``(B, d, H, W)``. :meth:`forward` gives the logits ``y`` ``(B, C)``;
    :meth:`attend` gives ``(y, β)`` with ``β`` ``(B, C, N)``, ``N = H W``, each label's
    map summing to one over the positions.
    """

    def __init__(self, d: int, n_labels: int, width: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.d, self.n_labels, self.width = int(d), int(n_labels), int(width)
        self.q = nn.Sequential(
            nn.Conv2d(self.d, self.width, 1), nn.ReLU(),
            nn.Conv2d(self.width, self.width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(self.width, self.n_labels, 1),
        )  # fmt: skip
        self.confidence = nn.Conv2d(self.d, self.n_labels, 1)
        for layer in (*self.q[::2], self.confidence):
            _he(layer, generator)

    def attention(self, phi: torch.Tensor) -> torch.Tensor:
        """Eq. 1-2: ``(B, d, H, W)`` -> ``β`` ``(B, C, N)``, a softmax over the ``N`` positions per label."""
        return torch.softmax(self.q(phi).flatten(2), dim=2)

    def confidence_maps(self, phi: torch.Tensor) -> torch.Tensor:
        """``E``: a label-specific linear classifier at every position, ``(B, d, H, W)`` -> ``(B, C, N)``."""
        return self.confidence(phi).flatten(2)

    def attend(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(y, β)``: the logits ``y = Σ_l E ⊙ β`` ``(B, C)`` and the attention maps ``(B, C, N)``."""
        beta = self.attention(phi)
        return (self.confidence_maps(phi) * beta).sum(dim=2), beta

    def forward(self, phi: torch.Tensor) -> torch.Tensor:
        """``(B, d, H, W)`` -> ``(B, C)`` logits (the sum-pooled, attention-weighted confidences)."""
        return self.attend(phi)[0]

    def regularised_parameters(self) -> list[nn.Parameter]:
        """The convolution kernels (biases excluded)."""
        return [layer.weight for layer in (*self.q[::2], self.confidence)]


# ----------------------------------------------------------------------------- co-attention


def neighbour_coattention(p_x: torch.Tensor, p_z: torch.Tensor, beta_z: torch.Tensor) -> torch.Tensor:
    """Eq. 4-5: the co-attention map of every neighbour.

    ``w_j = p_x ⊙ p_{z_j}`` (the labels both are confident of), then
    ``α_j = softmax_l(Σ_k w_j^k β_{z_j}^k)``: the neighbour's label maps weighted by the
    shared labels, summed over the labels ``k``, softmax over the positions ``l``.

    Args:
        p_x: ``(B, C)`` label confidences of the targets (probabilities, or logits).
        p_z: ``(B, m, C)`` label confidences of their neighbours.
        beta_z: ``(B, m, C, N)`` the neighbours' InsAtten maps.

    Returns:
        ``(B, m, N)``, each row summing to one.
    """
    w = p_x.unsqueeze(1) * p_z  # (B, m, C)  Eq. 4
    return torch.softmax(torch.einsum("bmc,bmcn->bmn", w, beta_z), dim=-1)  # Eq. 5


def target_coattention(p_x: torch.Tensor, p_z: torch.Tensor, beta_x: torch.Tensor) -> torch.Tensor:
    """Eq. 7-8: the target's co-attention map, ``w = p_x ⊙ Π_j p_{z_j}`` (labels the target and
    *every* neighbour are confident of), ``α = softmax_l(Σ_k w^k β_x^k)``.

    Args:
        p_x: ``(B, C)``; p_z: ``(B, m, C)``; beta_x: ``(B, C, N)`` the target's InsAtten maps.

    Returns:
        ``(B, N)``, each row summing to one. With many neighbours ``w`` shrinks towards 0
        (a product of ``m + 1`` probabilities) and ``α`` towards the uniform map.
    """
    w = p_x * p_z.prod(dim=1)  # (B, C)  Eq. 7
    return torch.softmax(torch.einsum("bc,bcn->bn", w, beta_x), dim=-1)  # Eq. 8


def attend(alpha: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
    """Eq. 6 / 9: ``Σ_l α_l φ_l``, ``α`` ``(..., N)`` and ``φ`` ``(..., d, N)`` -> ``(..., d)``."""
    return torch.einsum("...n,...dn->...d", alpha, phi)


# ----------------------------------------------------------------------------- the graph


class NeighbourhoodGraph(nn.Module):
    """Eq. 10-11: a learned adjacency over the neighbourhood's nodes and one residual GCN layer.

    Args:
        d: node feature width.
        psi_dim: width of ``ψ`` (the paper: 512).
        generator: initialisation stream.

    ``S = softmax_rows(ψ(Ẑ) ψ(Ẑ)ᵀ)`` ``(B, n, n)`` and ``Z' = ReLU(S Ẑ W) + Ẑ`` ``(B, n, d)``
    for nodes ``Ẑ`` ``(B, n, d)``, ``n = m + 1``.
    """

    def __init__(self, d: int, psi_dim: int = 512, generator: torch.Generator | None = None):
        super().__init__()
        self.psi = nn.Linear(int(d), int(psi_dim))
        self.W = nn.Linear(int(d), int(d), bias=False)
        _he(self.psi, generator)
        _he(self.W, generator)

    def adjacency(self, Z: torch.Tensor) -> torch.Tensor:
        """Eq. 10 and the row softmax: ``(B, n, d)`` -> ``S`` ``(B, n, n)``, rows summing to one."""
        P = self.psi(Z)
        return torch.softmax(P @ P.transpose(1, 2), dim=-1)

    def forward(self, Z: torch.Tensor) -> torch.Tensor:
        """Eq. 11 with the residual unit: ``(B, n, d)`` -> ``(B, n, d)``."""
        return torch.relu(self.adjacency(Z) @ self.W(Z)) + Z


class MangoNet(nn.Module):
    """The CoAtten-GCN stage: graph, node average-pooling, the global feature and the classifier.

    Args:
        d: node (and global) feature width.
        n_labels: ``C``.
        global_feature: concatenate the target's average-pooled ``φ(i)`` (``False``:
            "MangoNet w/o GF").
        psi_dim: width of ``ψ`` (512).
        generator: initialisation stream.

    :meth:`forward` takes nodes ``(B, m + 1, d)`` (the target first) and, with
    ``global_feature``, the global features ``(B, d)``; it returns ``(B, C)`` logits.
    The nodes are the co-attended features (:func:`coattended_nodes`) for MangoNet, the
    holistic ones (:func:`holistic_nodes`) for NGCN.
    """

    def __init__(self, d: int, n_labels: int, global_feature: bool = True, psi_dim: int = 512,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.d, self.n_labels, self.global_feature = int(d), int(n_labels), bool(global_feature)
        self.graph = NeighbourhoodGraph(self.d, psi_dim, generator)
        self.fc = nn.Linear(self.d * (2 if self.global_feature else 1), self.n_labels)
        _he(self.fc, generator)

    def forward(self, nodes: torch.Tensor, global_x: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, m + 1, d)`` nodes (+ ``(B, d)`` global features) -> ``(B, C)`` logits."""
        pooled = self.graph(nodes).mean(dim=1)
        if self.global_feature:
            if global_x is None:
                raise ValueError("this MangoNet concatenates the global feature: pass global_x")
            pooled = torch.cat([pooled, global_x], dim=1)
        return self.fc(pooled)

    def regularised_parameters(self) -> list[nn.Parameter]:
        """``ψ``'s, ``W`` and the classifier's weight matrices."""
        return [self.graph.psi.weight, self.graph.W.weight, self.fc.weight]


# ----------------------------------------------------------------------------- node features


def _batches(n: int, size: int) -> Iterator[slice]:
    for lo in range(0, n, size):
        yield slice(lo, min(lo + size, n))


@torch.no_grad()
def coattended_nodes(
    phi: torch.Tensor,
    confidences: torch.Tensor,
    beta: torch.Tensor,
    index: torch.Tensor,
    neighbours: torch.Tensor,
    batch_size: int = 64,
    return_attention: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """MangoNet's node features ``(î, ẑ_1, ..., ẑ_m)`` for the images ``index`` (Eq. 4-9).

    Args:
        phi: ``(N_all, d, N)`` feature maps of every image (positions flattened).
        confidences: ``(N_all, C)`` InsAtten's confidences ``y`` of every image, as
            probabilities ``sigmoid(y)`` (MangoNet here) or logits (the equations read literally).
        beta: ``(N_all, C, N)`` InsAtten's attention maps of every image.
        index: ``(Q,)`` rows of the targets.
        neighbours: ``(Q, m)`` rows of their neighbours, nearest first.
        batch_size: targets per step (memory only: a step gathers ``(batch_size, m + 1, d, N)``
            float32 maps, 131 MB at m = 15, d = 1280, N = 25; other sizes agree to rounding).
        return_attention: also return the co-attention maps ``(Q, m + 1, N)`` (target first).

    Returns:
        ``(Q, m + 1, d)`` nodes, the target's first.
    """
    nodes, maps = [], []
    for s in _batches(len(index), batch_size):
        x, z = index[s], neighbours[s]
        a_x = target_coattention(confidences[x], confidences[z], beta[x])  # (B, N)
        a_z = neighbour_coattention(confidences[x], confidences[z], beta[z])  # (B, m, N)
        alpha = torch.cat([a_x.unsqueeze(1), a_z], dim=1)  # (B, m + 1, N)
        nodes.append(attend(alpha, phi[torch.cat([x.unsqueeze(1), z], dim=1)]))
        if return_attention:
            maps.append(alpha)
    out = torch.cat(nodes) if nodes else phi.new_zeros((0, neighbours.shape[1] + 1, phi.shape[1]))
    return (out, torch.cat(maps)) if return_attention else out


def holistic_nodes(pooled: torch.Tensor, index: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
    """NGCN's nodes: the average-pooled features of the target and its neighbours.

    ``pooled`` ``(N_all, d)``, ``index`` ``(Q,)``, ``neighbours`` ``(Q, m)`` -> ``(Q, m + 1, d)``.
    """
    return pooled[torch.cat([index.unsqueeze(1), neighbours], dim=1)]
