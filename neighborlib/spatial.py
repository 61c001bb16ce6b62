"""The backbone's feature *maps* on one protocol split: standardisation and MangoNet's InsAtten stage.

MangoNet (:mod:`neighborlib.models.mangonet`) reads the backbone's last convolutional maps
``φ`` ``(N, d, H, W)`` (float16 in the cache, :func:`neighborlib.protocol.benchmark_maps`)
rather than their average. Per split, as for the pooled features of the other chapters:

* :func:`standardised_maps` - ``(φ - μ_c) / s_c`` per channel ``c``, with ``μ`` and ``s``
  the mean and standard deviation of channel ``c`` over the training images and all
  positions (He initialisation expects unit-variance inputs). The map is affine per
  channel, so an attention-weighted sum of positions (Eq. 6, 9: weights summing to one)
  and the average-pooled global feature are standardised the same way;
* :func:`global_features` - the average-pooled standardised maps ``(N, d)``;
* :func:`insatten_stage` - stage 2 of the paper's training: :class:`InsAtten` fitted on
  the training images' labels (best validation epoch), then run once over every image to
  give the label probabilities ``sigmoid(y)`` and the attention maps ``β`` that the
  co-attention of stage 3 reads.

Each result is cached on the split (:meth:`SplitData.cached`), so every MangoNet variant
of a split (``m`` = 3, 7, 15, with or without the global feature) shares one InsAtten.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .device import resolve_device
from .models.mangonet import InsAtten
from .models.minibatch import MinibatchFit, SGDConfig, fit_multilabel
from .protocol import SplitData
from .seeding import torch_seed

__all__ = ["InsAttenStage", "global_features", "insatten_stage", "standardised_maps"]

#: ``"sampling"`` sub-keys of the two stages' epoch orders (after the split index).
INSATTEN_KEY, GRAPH_KEY = 10, 11


def _check_maps(data: SplitData, maps: np.ndarray) -> None:
    if maps.ndim != 4 or len(maps) != len(data.labels):
        raise ValueError(f"maps must be (N, d, H, W) with N = {len(data.labels)} images, got shape {maps.shape}")


def _channel_statistics(maps: np.ndarray, rows: np.ndarray, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over ``rows`` and every position (float64 sums)."""
    d = maps.shape[1]
    total, squares, count = np.zeros(d), np.zeros(d), 0
    for lo in range(0, len(rows), chunk):
        block = maps[rows[lo:lo + chunk]].astype(np.float64)  # (b, d, H, W)
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block.reshape(len(block), -1)))[0]
            raise ValueError(f"feature maps contain NaN or inf (image row {rows[lo + r]}, entry {c})")
        total += block.sum(axis=(0, 2, 3))
        squares += (block ** 2).sum(axis=(0, 2, 3))
        count += block.shape[0] * block.shape[2] * block.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return mean, np.where(std > 0, std, 1.0)


def standardised_maps(data: SplitData, maps: np.ndarray, device: Any = "cpu") -> torch.Tensor:
    """``(N, d, H, W)`` float32 maps of every image, standardised per channel with the
    training part's statistics (cached on the split)."""
    _check_maps(data, maps)
    dev = resolve_device(device)

    def compute() -> torch.Tensor:
        mean, scale = _channel_statistics(maps, data.train)
        mean32 = mean.astype(np.float32)[:, None, None]
        scale32 = scale.astype(np.float32)[:, None, None]
        out = torch.empty(maps.shape, dtype=torch.float32, device=dev)
        for lo in range(0, len(maps), 1024):
            block = (maps[lo:lo + 1024].astype(np.float32) - mean32) / scale32
            out[lo:lo + len(block)] = torch.as_tensor(block, device=dev)
        return out

    return data.cached(("standardised_maps", id(maps), str(dev)), compute)


def global_features(data: SplitData, maps: np.ndarray, device: Any = "cpu") -> torch.Tensor:
    """``(N, d)``: the average-pooled standardised maps (MangoNet's global feature, NGCN's nodes)."""
    dev = resolve_device(device)
    return data.cached(("global_features", id(maps), str(dev)),
                       lambda: standardised_maps(data, maps, dev).mean(dim=(2, 3)))


@dataclass
class InsAttenStage:
    """InsAtten trained on one split and its outputs for every image.

    Attributes:
        fit: the network at its best validation epoch and its training history.
        logits: ``(N, C)`` the confidences ``y`` of every image.
        beta: ``(N, C, H W)`` attention maps of every image.
    """

    fit: MinibatchFit
    logits: torch.Tensor
    beta: torch.Tensor

    @property
    def probabilities(self) -> torch.Tensor:
        """``(N, C)`` ``sigmoid(y)``."""
        return torch.sigmoid(self.logits)


def insatten_stage(
    data: SplitData,
    maps: np.ndarray,
    width: int = 512,
    config: SGDConfig | None = None,
    device: Any = "cpu",
    progress: bool = False,
) -> InsAttenStage:
    """Stage 2: train :class:`InsAtten` on the training images (best validation epoch) and
    attend every image (cached on the split per ``width`` and ``config``)."""
    cfg = config or SGDConfig()
    dev = resolve_device(device)

    def compute() -> InsAttenStage:
        X = standardised_maps(data, maps, dev)
        Y = torch.as_tensor(data.labels.astype(np.float32), device=dev)
        gen = torch.Generator().manual_seed(torch_seed(data.seed, "init", data.split.index, INSATTEN_KEY))
        net = InsAtten(X.shape[1], Y.shape[1], width=width, generator=gen).to(dev)
        tr, va = (torch.as_tensor(getattr(data, p), device=dev) for p in ("train", "val"))
        fit = fit_multilabel(net, ((X[tr],), Y[tr]), ((X[va],), Y[va]), config=cfg, seed=data.seed,
                             keys=(data.split.index, INSATTEN_KEY), progress=progress, desc="InsAtten")
        logits, beta = [], []
        with torch.no_grad():
            for lo in range(0, len(X), 512):
                y, b = fit.model.attend(X[lo:lo + 512])
                logits.append(y)
                beta.append(b)
        return InsAttenStage(fit, torch.cat(logits), torch.cat(beta))

    return data.cached(("insatten", id(maps), int(width), cfg, str(dev)), compute)
