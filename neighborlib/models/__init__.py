"""Models: baselines (:mod:`.baselines`) and, chapter by chapter, the papers' networks."""
from .baselines import TagLogistic

__all__ = ["TagLogistic"]
