"""Reading WordNet 3.0 and its information-content files (NLTK readers over the shipped
files, nothing downloaded), and looking words up: lemma keys, membership, synonyms."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.base import DataFormatError
from ..memo import BoundedMemo

if TYPE_CHECKING:  # pragma: no cover
    from nltk.corpus.reader.wordnet import Synset, WordNetCorpusReader

__all__ = ["in_wordnet", "lemma_key", "load_information_content", "load_wordnet", "synonyms"]

#: Files the WordNet reader needs (``corpora/wordnet/``).
_WORDNET_FILES = tuple(
    f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")
)


def _resolve_root(root: str | os.PathLike | None) -> Path:
    if root is None:
        from ..resources import resource_dir

        root = resource_dir("wordnet")
    return Path(root).expanduser().resolve()


def _authorise(root: Path) -> None:
    """Put ``root`` on ``nltk.data.path`` (idempotent) - the module's one global side effect.

    NLTK 3.9+ validates every corpus-reader root against ``nltk.data.path`` /
    ``NLTK_DATA`` and refuses others with a "Security Violation" error.
    """
    import nltk

    text = str(root)
    if text not in nltk.data.path:
        nltk.data.path.append(text)


def _check_wordnet_files(folder: Path) -> None:
    if not folder.is_dir():
        raise FileNotFoundError(f"no WordNet folder at {folder} (expected <root>/corpora/wordnet)")
    for name in _WORDNET_FILES:
        path = folder / name
        if not path.is_file():
            raise DataFormatError(path, "missing WordNet dict file")
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
        if b"\r\n" in head:
            # index.* give byte offsets into data.* counted with LF line ends; with CRLF
            # every seek lands a few bytes off and NLTK's reader returns None for every
            # synset (with a warning each), so nothing downstream works.
            raise DataFormatError(
                path,
                "has Windows (CRLF) line ends; WordNet's byte offsets then point into the middle "
                "of lines and NLTK's reader finds no synset. Convert the dict files to LF "
                "(e.g. `sed -i 's/\\r$//' index.* data.*`)",
                line=head[: head.index(b"\r\n")].count(b"\n") + 1,
            )


#: Memoised readers and IC tables: a WordNet folder or two, an IC file or four, per process.
_READERS: BoundedMemo["WordNetCorpusReader"] = BoundedMemo(2)
_IC_TABLES: BoundedMemo[dict] = BoundedMemo(4)


def load_wordnet(root: str | os.PathLike | None = None) -> "WordNetCorpusReader":
    """NLTK's WordNet 3.0 reader over ``<root>/corpora/wordnet``.

    Args:
        root: NLTK data root; ``None``: ``neighborlib.resources.resource_dir("wordnet")``.

    The reader is memoised per resolved folder (loading takes about 3 s); all
    callers share it (NLTK readers only cache synsets they have parsed).

    Raises:
        FileNotFoundError: no ``corpora/wordnet`` folder under ``root``.
        DataFormatError: a dict file is missing or has CRLF line ends (with which
            NLTK's reader returns ``None`` for every synset).
    """
    base = _resolve_root(root)
    folder = base / "corpora" / "wordnet"
    key = str(folder)
    if key in _READERS:
        return _READERS.get(key)
    _check_wordnet_files(folder)
    _authorise(base)
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    with warnings.catch_warnings():
        # omw_reader=None: English only; NLTK warns that multilingual functions are off.
        warnings.filterwarnings("ignore", message="The multilingual functions are not available")
        reader = WordNetCorpusReader(key, None)
    if not reader.synsets("dog", "n"):
        raise DataFormatError(folder / "index.noun", "WordNet loaded but 'dog' has no noun synset")
    return _READERS.put(key, reader)


def load_information_content(name: str = "ic-brown.dat", root: str | os.PathLike | None = None) -> dict:
    """An information-content table (``<root>/corpora/wordnet_ic/<name>``) for Lin/Resnik.

    ``IC(c) = -log p(c)``, ``p(c)`` the corpus frequency of concept ``c`` and all
    its hyponyms (Resnik 1995). ``ic-brown.dat`` (Brown corpus) is NLTK's usual
    choice; ``ic-semcor.dat``, ``ic-bnc.dat``, ... and the add-one smoothed
    ``*-add1.dat`` variants are there too. In the unsmoothed files a concept never
    seen in the corpus has count 0 and NLTK gives it the sentinel IC ``1e300``.
    Memoised per file.
    """
    base = _resolve_root(root)
    folder = base / "corpora" / "wordnet_ic"
    key = (str(folder), name)
    if key in _IC_TABLES:
        return _IC_TABLES.get(key)
    if not (folder / name).is_file():
        available = sorted(p.name for p in folder.glob("*.dat")) if folder.is_dir() else []
        raise FileNotFoundError(f"no IC file {name!r} in {folder}; available: {available}")
    _authorise(base)
    from nltk.corpus.reader.wordnet import WordNetICCorpusReader

    table = WordNetICCorpusReader(str(folder), r".*\.dat").ic(name)
    return _IC_TABLES.put(key, table)


# ----------------------------------------------------------------------------- words


def _normalise(word: str) -> str:
    return "_".join(str(word).strip().lower().split())


def lemma_key(wn: "WordNetCorpusReader", word: str, pos: str | None = None) -> str | None:
    """The WordNet lemma a word stands for, or ``None`` when WordNet does not know it.

    The normalised word (see the module docstring) when it is itself a lemma, else
    its base form by WordNet's lemmatiser ``morphy`` (``"dogs" -> "dog"``,
    ``"New York" -> "new_york"``). With ``pos=None`` the parts of speech are tried
    in the order noun, verb, adjective, adverb. This is the key of a word in
    :func:`wordnet_embeddings`.
    """
    w = _normalise(word)
    if not w:
        return None
    return wn.morphy(w, pos)


def in_wordnet(wn: "WordNetCorpusReader", word: str, pos: str | None = None) -> bool:
    """Whether WordNet has ``word`` (after normalisation and ``morphy``) - for coverage tables."""
    return lemma_key(wn, word, pos) is not None


def _synsets(wn: "WordNetCorpusReader", word: str, pos: str | None) -> list["Synset"]:
    w = _normalise(word)
    return wn.synsets(w, pos) if w else []


def synonyms(wn: "WordNetCorpusReader", word: str, pos: str | None = "n") -> tuple[str, ...]:
    """Lemma names of the synsets of ``word`` - its WordNet synonyms in every sense.

    Ordered as WordNet orders them (senses by frequency, lemmas within a synset as
    listed), without repeats and without the word itself (nor its base form).
    Lower-case, underscores kept (``"car" -> ("auto", "automobile", "machine",
    "motorcar", "railcar", ...)``). ``pos=None``: all parts of speech. Empty for
    a word WordNet does not know.
    """
    own = {_normalise(word), lemma_key(wn, word, pos)}
    seen: dict[str, None] = {}
    for ss in _synsets(wn, word, pos):
        for name in ss.lemma_names():
            name = name.lower()
            if name not in own:
                seen.setdefault(name, None)
    return tuple(seen)
