"""Cache keys and folders of the WordNet graph and embeddings (a fingerprint of the WordNet
files and a hash of every setting that changes a result)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from .reader import _WORDNET_FILES

__all__ = ["embeddings_cache_key"]

#: Bumped whenever the embedding computation changes, so old cache entries are not reused.
_EMBEDDING_VERSION = 1


def _wordnet_fingerprint(root: Path) -> str:
    folder = root / "corpora" / "wordnet"
    h = hashlib.sha256()
    for name in _WORDNET_FILES:
        path = folder / name
        h.update(f"{name}:{path.stat().st_size if path.is_file() else -1};".encode())
    return h.hexdigest()[:16]


def embeddings_cache_key(settings: Mapping[str, Any]) -> str:
    """Hex key (24 characters) of a settings dictionary - the cache folder's name."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]



def _default_cache_dir(name: str = "wordnet_embeddings") -> Path:
    from ..data import cache_root

    return cache_root() / name
