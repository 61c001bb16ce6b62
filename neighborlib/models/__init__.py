"""Models: baselines (:mod:`.baselines`, :mod:`.linear`) and, chapter by chapter, the papers' networks."""
from .baselines import TagLogistic, knn_vote
from .linear import MultiLabelLogistic

__all__ = ["MultiLabelLogistic", "TagLogistic", "knn_vote", "select_on_grid"]
from .selection import select_on_grid
