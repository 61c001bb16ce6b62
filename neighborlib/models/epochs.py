"""The epoch bookkeeping shared by the training loops (:mod:`.training`, :mod:`.minibatch`).

Both loops score the validation part after every epoch, keep the snapshot of the best
epoch (per-label mAP, the first best on ties), stop once ``patience`` epochs pass without
a better one (after ``min_epochs``), record one history row per epoch and show a tqdm
bar with the loss, the validation mAP and the seconds per epoch.
"""
from __future__ import annotations

import copy
from typing import Any, Iterable

from torch import nn

__all__ = ["BestEpoch", "EpochLog"]


class BestEpoch:
    """The best validation snapshot so far and the early-stopping rule.

    Args:
        min_epochs: epochs before stopping is allowed.
        patience: epochs without a better validation score before stopping (``None``: never).
    """

    def __init__(self, min_epochs: int, patience: int | None):
        self.min_epochs, self.patience = int(min_epochs), patience
        self.score: float | None = None
        self.epoch = 0
        self._state: dict | None = None
        self._since = 0

    def update(self, model: nn.Module, score: float, epoch: int) -> bool:
        """Record ``epoch``'s validation ``score`` (keeping a copy of ``model``'s state if it is
        the best); return whether training should stop now."""
        if self._state is None or score > self.score:
            self.score, self.epoch, self._state, self._since = score, epoch, copy.deepcopy(model.state_dict()), 0
            return False
        self._since += 1
        return self.patience is not None and epoch >= self.min_epochs and self._since >= self.patience

    def restore(self, model: nn.Module) -> nn.Module:
        """Load the best snapshot into ``model`` and put it in evaluation mode."""
        if self._state is None:
            raise RuntimeError("no epoch was recorded")
        model.load_state_dict(self._state)
        return model.eval()


class EpochLog:
    """The per-epoch history rows and the optional progress bar over ``epochs``.

    Iterate over it for the epoch numbers; :meth:`record` adds a row
    (``epoch``, ``train_loss``, ``val_mAP_label``, ``seconds``) and updates the bar.
    """

    def __init__(self, epochs: int, progress: bool, desc: str):
        self.history: list[dict[str, float]] = []
        self._epochs: Iterable[int] = range(1, int(epochs) + 1)
        self._bar: Any = None
        if progress:
            from tqdm import tqdm  # text bars: tqdm.auto warns without ipywidgets (and names its path)

            self._epochs = self._bar = tqdm(self._epochs, desc=desc, unit="epoch", leave=False)

    def __iter__(self):
        return iter(self._epochs)

    def record(self, epoch: int, train_loss: float, val_map: float, seconds: float) -> None:
        self.history.append({"epoch": epoch, "train_loss": train_loss, "val_mAP_label": val_map, "seconds": seconds})
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{train_loss:.3f}", val_mAP=f"{val_map:.4f}", s_per_epoch=f"{seconds:.1f}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
