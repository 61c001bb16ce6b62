"""Models: baselines (:mod:`.baselines`, :mod:`.linear`, TagProp in :mod:`.tagprop`) and, chapter by
chapter, the papers' networks (:mod:`.ltn`; :mod:`.fusion` with :mod:`.lstm`; all trained by :mod:`.training`)."""
from .baselines import TagLogistic, knn_vote
from .fusion import FUSION_MODELS, FusionModel, LTNAllVecs, LTNVecs, LTwin, LTwin2RNN, LTwinRNN, LZip, NeighbourhoodNet, RTN
from .linear import MultiLabelLogistic
from .lstm import LinearLSTM
from .ltn import LTN
from .selection import select_fitted, select_on_grid
from .tagprop import TagProp
from .training import NeighbourhoodFit, TrainConfig, train_neighbourhood_model

__all__ = [
    "FUSION_MODELS",
    "FusionModel",
    "LTN",
    "LTNAllVecs",
    "LTNVecs",
    "LTwin",
    "LTwin2RNN",
    "LTwinRNN",
    "LZip",
    "LinearLSTM",
    "NeighbourhoodNet",
    "RTN",
    "MultiLabelLogistic",
    "NeighbourhoodFit",
    "TagLogistic",
    "TagProp",
    "TrainConfig",
    "knn_vote",
    "select_fitted",
    "select_on_grid",
    "train_neighbourhood_model",
]
