"""Minibatch training of a multi-label network on fixed inputs, keeping the best validation epoch.

MangoNet's stages (Section 3.2): "the cross-entropy loss function and the stochastic
gradient descent are used for the optimisation ... batch size 64 and the learning rate of
0.001". A network here maps a tuple of per-image input tensors (rows aligned) to ``(B, L)``
logits; the loss of a minibatch ``B`` is the mean over its images of the summed one-vs-all
logistic losses,

    (1/|B|) Σ_{x∈B} Σ_l log(1 + exp(-s_xl f_l(x)))   (+ (λ/2) Σ ||W||² over the model's
                                                        ``regularised_parameters``),

optimised by SGD with momentum (or Adam, ``SGDConfig(optimiser="adam")``, with the momentum as
``β1``; chapter 7's ranking models, with their own ``loss``). After every epoch the validation part is scored by
per-label mAP and the best snapshot is kept; training stops after ``patience`` epochs
without improvement (once ``min_epochs`` have run). The epoch order is drawn from the
``"sampling"`` stream keyed by ``(seed, *keys, epoch)``, so CPU training is repeatable
bit for bit.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..seeding import stream, torch_seed
from .epochs import BestEpoch, EpochLog

__all__ = ["MinibatchFit", "SGDConfig", "fit_multilabel", "predict_logits"]


@dataclass(frozen=True)
class SGDConfig:
    """Settings of :func:`fit_multilabel` (defaults: MangoNet's, where it states them).

    Attributes:
        epochs: most passes over the training part.
        min_epochs: passes before early stopping may stop.
        patience: epochs without a better validation mAP before stopping (``None``: never).
        batch_size: 64 (the paper).
        lr: 1e-3 (the paper).
        momentum: 0.9 (not stated in the paper; the usual value with SGD).
        l2: ``λ`` on the model's weight matrices (not stated in the paper: 0).
        optimiser: ``"sgd"`` or ``"adam"`` (``betas = (momentum, 0.999)``; chapter 7's paper:
            "Adam with momentum 0.9").
        lr_decay: the learning rate is multiplied by this after every epoch (1: constant;
            chapter 7's paper: "gradually decreased").
    """

    epochs: int = 10
    min_epochs: int = 3
    patience: int | None = 2
    batch_size: int = 64
    lr: float = 1e-3
    momentum: float = 0.9
    l2: float = 0.0
    optimiser: str = "sgd"
    lr_decay: float = 1.0

    def __post_init__(self) -> None:
        for name in ("epochs", "min_epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"SGDConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.min_epochs > self.epochs:
            raise ValueError(f"min_epochs ({self.min_epochs}) exceeds epochs ({self.epochs})")
        if not (self.lr > 0 and self.l2 >= 0 and 0 <= self.momentum < 1):
            raise ValueError(f"need lr > 0, l2 >= 0 and 0 <= momentum < 1, got {self.lr}, {self.l2}, {self.momentum}")
        if self.optimiser not in ("sgd", "adam"):
            raise ValueError(f"SGDConfig.optimiser must be 'sgd' or 'adam', got {self.optimiser!r}")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"SGDConfig.lr_decay must be in (0, 1], got {self.lr_decay}")


@dataclass
class MinibatchFit:
    """A trained network at its best validation epoch (evaluation mode) and its history
    (one dict per epoch: ``epoch``, ``train_loss``, ``val_mAP_label``, ``seconds``)."""

    model: nn.Module
    best_epoch: int
    history: list[dict[str, float]]

    @property
    def seconds_per_epoch(self) -> float:
        return float(np.mean([h["seconds"] for h in self.history]))

    @property
    def best_val_map(self) -> float:
        return float(self.history[self.best_epoch - 1]["val_mAP_label"])


def first_nonfinite_row(t: torch.Tensor) -> int | None:
    """The first row of ``t`` ``(N, ...)`` holding NaN or inf, or ``None`` (integer tensors: ``None``)."""
    if not t.is_floating_point() or torch.isfinite(t).all():
        return None
    return int(torch.nonzero(~torch.isfinite(t.reshape(len(t), -1)))[0, 0])


def _check_inputs(inputs: Sequence[torch.Tensor], targets: torch.Tensor, part: str) -> None:
    for k, t in enumerate(inputs):
        if t.shape[0] != targets.shape[0]:
            raise ValueError(f"{part}: input {k} has {t.shape[0]} rows for {targets.shape[0]} targets")
        r = first_nonfinite_row(t)
        if r is not None:
            raise ValueError(f"{part}: input {k} contains NaN or inf (row {r})")


@torch.no_grad()
def predict_logits(model: nn.Module, inputs: Sequence[torch.Tensor], batch_size: int = 512) -> np.ndarray:
    """``model(*inputs)`` by batches in evaluation mode: ``(Q, L)`` float64 logits."""
    was_training = model.training
    model.eval()
    n = inputs[0].shape[0]
    out = [model(*(t[lo:lo + batch_size] for t in inputs)).double().cpu() for lo in range(0, n, batch_size)]
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, getattr(model, "n_labels", 0)))


def fit_multilabel(
    model: nn.Module,
    train: tuple[Sequence[torch.Tensor], torch.Tensor],
    val: tuple[Sequence[torch.Tensor], torch.Tensor] | None,
    *,
    config: SGDConfig = SGDConfig(),
    score_val: Callable[[nn.Module], float] | None = None,
    seed: int = 0,
    keys: Sequence[int] = (),
    progress: bool = False,
    desc: str = "fit",
    loss: Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> MinibatchFit:
    """Train ``model`` on ``train = (inputs, targets)``; keep its best epoch on ``val``.

    Args:
        model: maps ``(*inputs)`` -> ``(B, L)`` logits; if it has ``regularised_parameters()``
            they get the L2 penalty.
        train, val: per-image input tensors (each ``(Q, ...)``, rows aligned) and ``(Q, L)``
            float targets in {0, 1}, on the model's device.
        score_val: ``model -> float`` replacing the per-label mAP on ``val`` as the epoch's
            validation score (chapter 6 trains on user tags and chooses the epoch on the
            validation *labels*); ``val`` may then be ``None``.
        config: :class:`SGDConfig`.
        seed, keys: the epoch order's stream (``"sampling"``, keyed by ``(*keys, epoch)``).
        progress: a tqdm bar over epochs with the loss, validation mAP and seconds per epoch.
        loss: ``(scores (B, L), targets (B, L), generator) -> scalar``, the mean over the
            batch, replacing the summed logistic loss (chapter 7's ranking losses,
            :mod:`neighborlib.models.transform_rank`); its generator is the ``"negatives"``
            stream keyed by ``(*keys, epoch)``.

    Returns:
        A :class:`MinibatchFit`.
    """
    from ..metrics import mean_average_precision

    x_train, y_train = train
    _check_inputs(x_train, y_train, "train")
    if score_val is None:
        if val is None:
            raise ValueError("fit_multilabel needs a validation part or a score_val")
        x_val, y_val = val
        _check_inputs(x_val, y_val, "val")
        y_val_np = y_val.cpu().numpy()

        def score_val(m: nn.Module) -> float:
            return mean_average_precision(predict_logits(m, x_val), y_val_np, per="label")

    decayed = list(model.regularised_parameters()) if hasattr(model, "regularised_parameters") else []
    if config.optimiser == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(config.momentum, 0.999), foreach=False)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, foreach=False)
    log = EpochLog(config.epochs, progress, desc)
    best = BestEpoch(config.min_epochs, config.patience)
    n = y_train.shape[0]
    for epoch in log:
        start = time.perf_counter()
        order = torch.as_tensor(stream(seed, "sampling", *keys, epoch).permutation(n), device=y_train.device)
        model.train()
        total = 0.0
        draws = None if loss is None else torch.Generator(device=y_train.device).manual_seed(
            torch_seed(seed, "negatives", *keys, epoch))
        for lo in range(0, n, config.batch_size):
            rows = order[lo:lo + config.batch_size]
            logits = model(*(t[rows] for t in x_train))
            if loss is None:
                batch_loss = nn.functional.binary_cross_entropy_with_logits(logits, y_train[rows], reduction="sum") / len(rows)
            else:
                batch_loss = loss(logits, y_train[rows], draws)
            opt.zero_grad(set_to_none=True)
            batch_loss.backward()
            if config.l2 and decayed:  # the gradient of (λ/2)||W||²
                torch._foreach_add_([p.grad for p in decayed], decayed, alpha=config.l2)
            opt.step()
            total += float(batch_loss.detach()) * len(rows)
        if config.lr_decay != 1:
            for group in opt.param_groups:
                group["lr"] *= config.lr_decay
        val_map = float(score_val(model))
        log.record(epoch, total / max(n, 1), val_map, time.perf_counter() - start)
        if best.update(model, val_map, epoch):
            break
    log.close()
    return MinibatchFit(best.restore(model), best.epoch, log.history)
