"""The recurrent layer of the fusion models: an LSTM "with linear activation".

Tesan, Coscia and Ballan (the semantic-maps paper, Section III-B/C) fuse neighbourhoods
with "a long short-term memory (LSTM) network with linear activation". In Keras terms that
is an LSTM whose cell and output activations (``tanh`` in the classic cell) are the
identity, the gates staying sigmoid. For inputs ``x_1..x_T`` and states ``h_0 = c_0 = 0``:

    i_t = sigmoid(W_i x_t + U_i h_{t-1} + b_i)
    f_t = sigmoid(W_f x_t + U_f h_{t-1} + b_f)
    o_t = sigmoid(W_o x_t + U_o h_{t-1} + b_o)
    g_t = act(W_g x_t + U_g h_{t-1} + b_g)              (act = identity, or tanh)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * act(c_t)

and the layer returns the last state ``h_T``: ``RNN((i_1, ..., i_n); W)`` of the paper's
Eq. 12, 18 and 19. ``torch.nn.LSTM`` hard-wires ``tanh``, hence this small layer. With the
identity the output is unbounded, so an LSTM of width ``L`` can emit label scores directly
(LTwin+2RNN, LZip).

Initialisation: He (Kaiming) normal for the input weights ``W`` (the paper's He-Zhang
initialisation), orthogonal recurrent weights ``U`` (Keras' LSTM default), zero biases
except the forget gate's, which start at 1 (Keras' ``unit_forget_bias``), so that early
steps are not forgotten before training has begun.
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["LinearLSTM"]


class LinearLSTM(nn.Module):
    """An LSTM over a sequence, returning its last hidden state.

    Args:
        n_in: width of each input ``x_t``.
        n_out: width of the states ``h_t`` and ``c_t``.
        activation: ``"linear"`` (the paper's) or ``"tanh"`` (the classic cell).
        generator: the initialisation's random generator (``None``: torch's default).

    Parameters: ``W`` (``nn.Linear(n_in, 4 n_out)``, gates in the order i, f, g, o) and
    ``U`` (``nn.Linear(n_out, 4 n_out, bias=False)``).
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "linear", generator: torch.Generator | None = None):
        super().__init__()
        if activation not in ("linear", "tanh"):
            raise ValueError(f"activation must be 'linear' or 'tanh', got {activation!r}")
        self.n_in, self.n_out, self.activation = int(n_in), int(n_out), activation
        self.W = nn.Linear(self.n_in, 4 * self.n_out)
        self.U = nn.Linear(self.n_out, 4 * self.n_out, bias=False)
        nn.init.kaiming_normal_(self.W.weight, nonlinearity="relu", generator=generator)
        for k in range(4):  # one orthogonal (n_out, n_out) block per gate
            nn.init.orthogonal_(self.U.weight.data[k * self.n_out:(k + 1) * self.n_out], generator=generator)
        nn.init.zeros_(self.W.bias)
        with torch.no_grad():
            self.W.bias[self.n_out:2 * self.n_out] = 1.0  # forget gate

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.activation == "linear" else torch.tanh(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., T, n_in)`` -> ``(..., n_out)``: ``h_T``, the inputs read in order ``t = 1..T``."""
        if x.shape[-1] != self.n_in or x.dim() < 2:
            raise ValueError(f"expected (..., T, {self.n_in}) inputs, got {tuple(x.shape)}")
        lead, T = x.shape[:-2], x.shape[-2]
        x = x.reshape(-1, T, self.n_in)
        gates_x = self.W(x)  # (B, T, 4 n_out): the input part of every step at once
        h = x.new_zeros(x.shape[0], self.n_out)
        c = torch.zeros_like(h)
        n = self.n_out
        for t in range(T):
            z = gates_x[:, t] + self.U(h) if t else gates_x[:, t]  # h_0 = 0: no recurrent term
            i, f, o = torch.sigmoid(z[:, :n]), torch.sigmoid(z[:, n:2 * n]), torch.sigmoid(z[:, 3 * n:])
            c = f * c + i * self._act(z[:, 2 * n:3 * n])
            h = o * self._act(c)
        return h.reshape(*lead, n)

    def regularised_parameters(self) -> list[nn.Parameter]:
        """``W`` and ``U`` (the weight matrices; the bias is not penalised)."""
        return [self.W.weight, self.U.weight]
