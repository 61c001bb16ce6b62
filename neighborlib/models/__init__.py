"""Models: baselines (:mod:`.baselines`, :mod:`.linear`) and, chapter by chapter, the papers' networks."""
from .baselines import TagLogistic, knn_vote
from .linear import MultiLabelLogistic
from .selection import select_fitted, select_on_grid

__all__ = ["MultiLabelLogistic", "TagLogistic", "knn_vote", "select_fitted", "select_on_grid"]
