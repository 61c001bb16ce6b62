"""The semantic-maps paper's neighbourhood networks: RTN, LTN+Vecs, LTN+AllVecs, the LTwin
family and LZip (Tesan, Coscia and Ballan, Section III-B/C, Eq. 12-19).

Every model scores an image ``x`` from its CNN features ``φ(x) ∈ R^d``, an ordered
neighbourhood ``z = (z_1, ..., z_m)`` (nearest first, as the paper feeds them) and, for the
*joint* models, the metadata map ``π(o) ∈ R^e`` of the image and of its neighbours
(:mod:`neighborlib.maps`: the binary tag vector, or ρ of Eq. 6). ``σ`` is the ReLU,
``RNN`` the :class:`~neighborlib.models.lstm.LinearLSTM` (its last state), ``h`` the
hidden width (500), ``L`` the number of labels.

* RTN: ``W_y [v_x; RNN(σ(W_z φ(z_1)), ..., σ(W_z φ(z_m)))] + b_y`` (Eq. 12); sees φ.
* LTN+Vecs: ``v_x = σ(W_x [φ(x); π(o_x)])``, ``v_z`` as in LTN (Eq. 13-14); sees φ, π(o_x).
* LTN+AllVecs: also ``v_z = max_i σ(W_z [φ(z_i); π(o_zi)])`` (Eq. 15-16); sees φ, π(o_x), π(o_z).
* LTwin: ``W_y [v_x; v_z; u_x; u_z] + b_y`` with ``u = σ(W_u π)``, both neighbour sides
  max-pooled (Eq. 17); sees φ, π(o_x), π(o_z).
* LTwin+RNN: LTwin with both max-pools replaced by RNNs.
* LTwin+2RNN: ``RNN(v_x, v_z, u_x, u_z)`` of width ``L`` as the output layer (Eq. 18).
* LZip: ``RNN(v_x, u_x, v_z1, u_z1, ..., v_zm, u_zm)`` of width ``L`` (Eq. 19), no pooling.

(biases inside ``σ(...)`` are left out above.) One class, :class:`NeighbourhoodNet`, holds
the pieces; the named subclasses fix them. Its interface is the one
:func:`~neighborlib.models.train_neighbourhood_model` drives (shared with
:class:`~neighborlib.models.LTN`): ``forward`` for one neighbourhood per image,
``neighbour_hidden`` for the per-neighbour states and ``average_scores`` for Eq. 1 over
``K`` sampled neighbourhoods. Where the output layer is affine in the pooled states (RTN,
LTN+Vecs/AllVecs, LTwin, LTwin+RNN) the average of the ``K`` score vectors is computed as
the scores of the averaged states (the same number, as for LTN); the recurrent heads
(LTwin+2RNN, LZip) score every sample and average the scores.

Dropout (0.5) applies, in training only, to every ``h``-dimensional state that enters the
output layer: ``v_x, v_z, u_x, u_z`` after pooling; for LZip the per-neighbour states it
reads. The L2 penalty covers every weight matrix, the LSTMs' included.
"""
from __future__ import annotations

import torch
from torch import nn

from .dropout import inverted_dropout
from .lstm import LinearLSTM

__all__ = [
    "FUSION_MODELS", "FusionModel", "LTNAllVecs", "LTNVecs", "LTwin", "LTwin2RNN", "LTwinRNN", "LZip", "NeighbourhoodNet", "RTN",
]

_POOLS = ("max", "rnn")
_HEADS = ("linear", "rnn", "zip")


class NeighbourhoodNet(nn.Module):
    """The configurable network behind the named models (use those).

    Args:
        d: feature dimension of ``φ``.
        n_labels: ``L``.
        meta_dim: ``e``, the width of the metadata map π (0 for the visual models).
        h: hidden width (the paper: 500).
        dropout: dropout on the states entering the output layer (0.5).
        feed_x: ``π(o_x)`` is concatenated to ``φ(x)`` before ``W_x`` (Eq. 14).
        feed_z: ``π(o_zi)`` is concatenated to ``φ(z_i)`` before ``W_z`` (Eq. 16).
        twin: separate metadata pipelines ``u_x = σ(W_xu π(o_x))``, ``u_zi = σ(W_zu π(o_zi))`` (Eq. 17).
        pool: how the neighbours' states are fused: ``"max"`` (Eq. 5) or ``"rnn"`` (Eq. 12).
        head: ``"linear"`` (``W_y``), ``"rnn"`` (Eq. 18) or ``"zip"`` (Eq. 19; no pooling).
        generator: the initialisation's generator (He normal weights, zero biases).
    """

    #: the paper's name of the model (tables use it).
    name = "NeighbourhoodNet"
    #: the LTN tag-vector extension is not part of this family (see :class:`~neighborlib.models.LTN`).
    tag_dim = 0

    def __init__(
        self,
        d: int,
        n_labels: int,
        meta_dim: int = 0,
        h: int = 500,
        dropout: float = 0.5,
        *,
        feed_x: bool = False,
        feed_z: bool = False,
        twin: bool = False,
        pool: str = "max",
        head: str = "linear",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        if pool not in _POOLS or head not in _HEADS:
            raise ValueError(f"pool must be one of {_POOLS} and head one of {_HEADS}, got {pool!r}, {head!r}")
        if (feed_x or feed_z or twin) and meta_dim < 1:
            raise ValueError(f"{self.name} reads the metadata map: meta_dim must be >= 1, got {meta_dim}")
        if head == "zip" and not twin:
            raise ValueError("the zip head interleaves image and metadata states: it needs twin pipelines")
        self.d, self.n_labels, self.meta_dim, self.h = int(d), int(n_labels), int(meta_dim), int(h)
        self.dropout, self.feed_x, self.feed_z, self.twin = float(dropout), bool(feed_x), bool(feed_z), bool(twin)
        self.pool_kind, self.head_kind = pool, head
        e = self.meta_dim
        self.W_x = nn.Linear(self.d + (e if feed_x else 0), self.h)
        self.W_z = nn.Linear(self.d + (e if feed_z else 0), self.h)
        self.W_xu = nn.Linear(e, self.h) if twin else None
        self.W_zu = nn.Linear(e, self.h) if twin else None
        for layer in (self.W_x, self.W_z, self.W_xu, self.W_zu):
            if layer is not None:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu", generator=generator)
                nn.init.zeros_(layer.bias)
        pooled = pool == "rnn" and head != "zip"
        self.rnn_z = LinearLSTM(self.h, self.h, generator=generator) if pooled else None
        self.rnn_zu = LinearLSTM(self.h, self.h, generator=generator) if pooled and twin else None
        n_states = 4 if twin else 2
        if head == "linear":
            self.W_y = nn.Linear(n_states * self.h, self.n_labels)
            nn.init.kaiming_normal_(self.W_y.weight, nonlinearity="relu", generator=generator)
            nn.init.zeros_(self.W_y.bias)
            self.rnn_y = None
        else:
            self.W_y = None
            self.rnn_y = LinearLSTM(self.h, self.n_labels, generator=generator)

    # ------------------------------------------------------------------ which inputs

    @property
    def uses_pi_x(self) -> bool:
        """Whether the image's own map ``π(o_x)`` is an input."""
        return self.feed_x or self.twin

    @property
    def uses_pi_z(self) -> bool:
        """Whether the neighbours' maps ``π(o_zi)`` are inputs."""
        return self.feed_z or self.twin

    def _check(self, pi: torch.Tensor | None, needed: bool, what: str) -> None:
        if needed and (pi is None or pi.shape[-1] != self.meta_dim):
            raise ValueError(f"{self.name} reads {what} of width {self.meta_dim}; got "
                             f"{None if pi is None else tuple(pi.shape)}")

    # ------------------------------------------------------------------ the equations

    def image_hidden(self, phi_x: torch.Tensor, pi_x: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, d)`` (and ``(B, e)``) -> ``(B, h)`` or, twin, ``(B, 2h)``: ``[v_x; u_x]`` (Eq. 10, 14, 17)."""
        self._check(pi_x, self.uses_pi_x, "the image's map pi_x")
        v = torch.relu(self._affine(self.W_x, phi_x, pi_x if self.feed_x else None))
        return torch.cat([v, torch.relu(self._affine(self.W_xu, None, pi_x))], dim=-1) if self.twin else v

    def neighbour_hidden(self, phi_z: torch.Tensor, pi_z: torch.Tensor | None = None) -> torch.Tensor:
        """Per-neighbour states: ``(..., d)`` (and ``(..., e)``) -> ``(..., h)`` or, twin, ``(..., 2h)``:
        ``σ(W_z φ(z_i))`` (Eq. 11; with ``[φ; π]`` in Eq. 16), and ``σ(W_zu π(o_zi))`` (Eq. 17)."""
        self._check(pi_z, self.uses_pi_z, "the neighbours' maps pi_z")
        v = torch.relu(self._affine(self.W_z, phi_z, pi_z if self.feed_z else None))
        return torch.cat([v, torch.relu(self._affine(self.W_zu, None, pi_z))], dim=-1) if self.twin else v

    @staticmethod
    def _affine(layer: nn.Linear, phi: torch.Tensor | None, pi: torch.Tensor | None) -> torch.Tensor:
        """``layer([φ; π])``, or of ``φ`` or ``π`` alone: ``(..., d)``, ``(..., e)`` -> ``(..., h)``."""
        if pi is None:
            return layer(phi)
        return layer(pi if phi is None else torch.cat([phi, pi], dim=-1))

    def _pool(self, states: torch.Tensor, rnn: LinearLSTM | None) -> torch.Tensor:
        """``(..., m, h)`` -> ``(..., h)``: elementwise max (Eq. 5) or the RNN's last state (Eq. 12),
        the neighbours read nearest first."""
        return states.amax(dim=-2) if rnn is None else rnn(states)

    def _drop(self, v: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return inverted_dropout(v, self.dropout, generator) if self.training and self.dropout > 0 else v

    def _scores(self, hx: torch.Tensor, hz: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(B, s)`` image states and ``(B, K, m, s)`` neighbour states -> ``(B, L)``, the mean
        of the scores of the ``K`` neighbourhoods (Eq. 1)."""
        h, B, K, m = self.h, hz.shape[0], hz.shape[1], hz.shape[2]
        v_x, u_x = (hx[:, :h], hx[:, h:]) if self.twin else (hx, None)
        if self.head_kind == "zip":  # (v_x, u_x, v_z1, u_z1, ..., v_zm, u_zm), each (B, K, h)
            own = torch.stack([v_x, u_x], dim=1)[:, None].expand(B, K, 2, h)
            nbr = hz.reshape(B, K, m, 2, h).reshape(B, K, 2 * m, h)
            seq = self._drop(torch.cat([own, nbr], dim=2), generator)
            return self.rnn_y(seq).mean(dim=1)
        v_z = self._pool(hz[..., :h], self.rnn_z)  # (B, K, h)
        parts_x, parts_z = [v_x], [v_z]
        if self.twin:
            parts_x.append(u_x)
            parts_z.append(self._pool(hz[..., h:], self.rnn_zu))
        if self.head_kind == "linear":  # affine in the pooled states: average them first
            states = [parts_x[0], parts_z[0].mean(dim=1)] + ([parts_x[1], parts_z[1].mean(dim=1)] if self.twin else [])
            return self.W_y(torch.cat([self._drop(s, generator) for s in states], dim=-1))
        # Eq. 18: the sequence (v_x, v_z, u_x, u_z), one per sampled neighbourhood
        seq = [parts_x[0][:, None].expand(B, K, h), parts_z[0]]
        if self.twin:
            seq += [parts_x[1][:, None].expand(B, K, h), parts_z[1]]
        return self.rnn_y(self._drop(torch.stack(seq, dim=2), generator)).mean(dim=1)

    def forward(
        self,
        phi_x: torch.Tensor,
        phi_z: torch.Tensor,
        pi_x: torch.Tensor | None = None,
        pi_z: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``f(x, π(o_x), z, π(o_z))`` for one neighbourhood per image.

        Args:
            phi_x: ``(B, d)`` image features.
            phi_z: ``(B, m, d)`` neighbour features, nearest first.
            pi_x: ``(B, e)`` the images' metadata maps (models that read them).
            pi_z: ``(B, m, e)`` the neighbours' maps (models that read them).
            generator: the dropout masks' generator in training mode.

        Returns:
            ``(B, L)`` label scores (logits of the one-vs-all logistic losses).
        """
        if phi_z.dim() != 3 or phi_z.shape[0] != phi_x.shape[0]:
            raise ValueError(f"phi_z must be (B, m, d) with B = {phi_x.shape[0]}, got {tuple(phi_z.shape)}")
        hz = self.neighbour_hidden(phi_z, pi_z if self.uses_pi_z else None)
        return self._scores(self.image_hidden(phi_x, pi_x if self.uses_pi_x else None), hz[:, None], generator)

    @torch.no_grad()
    def average_scores(
        self, phi_x: torch.Tensor, hidden_z: torch.Tensor, pi_x: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Eq. 1 over ``K`` sampled neighbourhoods (evaluation mode).

        Args:
            phi_x: ``(B, d)`` image features.
            hidden_z: ``(B, K, m, s)`` neighbour states (:meth:`neighbour_hidden`), each sample nearest first.
            pi_x: ``(B, e)`` the images' maps (models that read them).

        Returns:
            ``(B, L)``: ``(1/K) Σ_k f(x, π(o_x), z_k, π(o_zk))``.
        """
        return self._scores(self.image_hidden(phi_x, pi_x if self.uses_pi_x else None), hidden_z)

    def regularised_parameters(self) -> list[nn.Parameter]:
        """Every weight matrix (``W_*`` and the LSTMs' ``W``, ``U``); biases are not penalised."""
        out = [layer.weight for layer in (self.W_x, self.W_z, self.W_xu, self.W_zu, self.W_y) if layer is not None]
        for rnn in (self.rnn_z, self.rnn_zu, self.rnn_y):
            if rnn is not None:
                out += rnn.regularised_parameters()
        return out


class FusionModel(NeighbourhoodNet):
    """A named member of the family (RTN, LTN+Vecs, ...): its structure fixed by the class attribute ``fixed``."""

    fixed: dict = {}

    def __init__(self, d: int, n_labels: int, meta_dim: int = 0, h: int = 500, dropout: float = 0.5,
                 generator: torch.Generator | None = None):
        super().__init__(d, n_labels, meta_dim, h, dropout, generator=generator, **self.fixed)

    @classmethod
    def reads_metadata(cls) -> bool:
        """Whether the model reads metadata maps π (a joint model) - known before building one."""
        return any(cls.fixed.get(k, False) for k in ("feed_x", "feed_z", "twin"))


class RTN(FusionModel):
    """RTN (Eq. 12): LTN with an LSTM over the neighbours' states, nearest first, instead of the max-pool."""

    name, fixed = "RTN", {"pool": "rnn"}


class LTNVecs(FusionModel):
    """LTN+Vecs (Eq. 13-14): ``π(o_x)`` concatenated to ``φ(x)``; the neighbours as in LTN, without maps."""

    name, fixed = "LTN+Vecs", {"feed_x": True}


class LTNAllVecs(FusionModel):
    """LTN+AllVecs (Eq. 15-16): ``π`` concatenated to ``φ`` for the image and for every neighbour."""

    name, fixed = "LTN+AllVecs", {"feed_x": True, "feed_z": True}


class LTwin(FusionModel):
    """LTwin (Eq. 17): separate image and metadata pipelines, each max-pooled over the neighbours."""

    name, fixed = "LTwin", {"twin": True}


class LTwinRNN(FusionModel):
    """LTwin+RNN: LTwin with an LSTM over the neighbours in place of each of its two max-pools."""

    name, fixed = "LTwin+RNN", {"twin": True, "pool": "rnn"}


class LTwin2RNN(FusionModel):
    """LTwin+2RNN (Eq. 18): LTwin+RNN whose output layer is an LSTM of width ``L`` over ``(v_x, v_z, u_x, u_z)``."""

    name, fixed = "LTwin+2RNN", {"twin": True, "pool": "rnn", "head": "rnn"}


class LZip(FusionModel):
    """LZip (Eq. 19): one LSTM of width ``L`` over ``(v_x, u_x, v_z1, u_z1, ..., v_zm, u_zm)``."""

    name, fixed = "LZip", {"twin": True, "head": "zip"}


#: the paper's name -> class, in the order of its Section III.
FUSION_MODELS: dict[str, type[FusionModel]] = {
    c.name: c for c in (RTN, LTNVecs, LTNAllVecs, LTwin, LTwinRNN, LTwin2RNN, LZip)
}
