"""Models: baselines (:mod:`.baselines`, :mod:`.linear`) and, chapter by chapter, the papers' networks
(:mod:`.ltn`, trained by :mod:`.training`)."""
from .baselines import TagLogistic, knn_vote
from .linear import MultiLabelLogistic
from .ltn import LTN
from .selection import select_fitted, select_on_grid
from .training import NeighbourhoodFit, TrainConfig, train_neighbourhood_model

__all__ = [
    "LTN",
    "MultiLabelLogistic",
    "NeighbourhoodFit",
    "TagLogistic",
    "TrainConfig",
    "knn_vote",
    "select_fitted",
    "select_on_grid",
    "train_neighbourhood_model",
]
