"""Models: baselines (:mod:`.baselines`, :mod:`.linear`, TagProp in :mod:`.tagprop`) and, chapter by
chapter, the papers' networks (:mod:`.ltn`; :mod:`.fusion` with :mod:`.lstm`, trained by :mod:`.training`;
:mod:`.mangonet`, trained stage by stage by :mod:`.minibatch`; both loops keep epochs with :mod:`.epochs`;
chapter 6's :mod:`.weak` and :mod:`.refine`; chapter 7's :mod:`.transform_rank`)."""
from .baselines import TagLogistic, knn_vote
from .fusion import FUSION_MODELS, FusionModel, LTNAllVecs, LTNVecs, LTwin, LTwin2RNN, LTwinRNN, LZip, NeighbourhoodNet, RTN
from .linear import MultiLabelLogistic
from .lstm import LinearLSTM
from .ltn import LTN
from .mangonet import InsAtten, MangoNet, NeighbourhoodGraph
from .minibatch import MinibatchFit, SGDConfig, fit_multilabel
from .selection import select_fitted, select_on_grid
from .tagprop import TagProp
from .transform_rank import DeViSE, LabelScorer, TransformRank
from .training import NeighbourhoodFit, TrainConfig, train_neighbourhood_model

__all__ = [
    "DeViSE",
    "FUSION_MODELS",
    "FusionModel",
    "InsAtten",
    "LTN",
    "LTNAllVecs",
    "LTNVecs",
    "LTwin",
    "LTwin2RNN",
    "LTwinRNN",
    "LZip",
    "LabelScorer",
    "LinearLSTM",
    "MangoNet",
    "MinibatchFit",
    "NeighbourhoodGraph",
    "NeighbourhoodNet",
    "RTN",
    "MultiLabelLogistic",
    "SGDConfig",
    "NeighbourhoodFit",
    "TagLogistic",
    "TagProp",
    "TrainConfig",
    "TransformRank",
    "fit_multilabel",
    "knn_vote",
    "select_fitted",
    "select_on_grid",
    "train_neighbourhood_model",
]
