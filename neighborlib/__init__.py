"""neighborlib: image annotation with metadata neighbourhoods.

The library under the executable book. One idea per module:

* :mod:`neighborlib.data` - datasets in their official layouts, the synthetic world,
  seeded splits and tag vocabularies;
* :mod:`neighborlib.neighbours` - exact Jaccard / cosine neighbourhoods and
  neighbourhood sampling (LTN);
* :mod:`neighborlib.metrics` - mAP, P/R/F1 at top-k, AUC;
* :mod:`neighborlib.stats` - dataset statistics and label-neighbour agreement;
* :mod:`neighborlib.models` - models and baselines;
* :mod:`neighborlib.plots` - the book's figures;
* :mod:`neighborlib.notebook` - papermill parameter checking for the chapters.
"""
__version__ = "0.1.0"
