"""Models: baselines (:mod:`.baselines`) and, chapter by chapter, the papers' networks."""
from .baselines import TagLogistic, knn_vote

__all__ = ["TagLogistic", "knn_vote"]
