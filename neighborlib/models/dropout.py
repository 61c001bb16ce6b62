"""Inverted dropout with an explicit random generator (reproducible without global state)."""
from __future__ import annotations

import torch

__all__ = ["inverted_dropout"]


def inverted_dropout(v: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero each entry of ``v`` with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The identity in expectation, so nothing is rescaled at test time (callers skip it in
    evaluation mode). The mask is drawn from ``generator`` (``None``: torch's default), with
    ``v``'s shape, device and dtype: ``(...)`` -> ``(...)``.
    """
    keep = 1.0 - p
    mask = torch.rand(v.shape, generator=generator, device=v.device, dtype=v.dtype) < keep
    return v * mask / keep
