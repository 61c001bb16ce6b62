"""``make features``: extract the benchmark sets' visual features once per run.

Every chapter reads the same cache entries (:func:`neighborlib.protocol.benchmark_features`,
:func:`neighborlib.protocol.benchmark_maps`), so the photos are decoded and put through the
backbone once, here, with a progress bar; an interrupted run resumes from the chunks
already written. Usage::

    python -m neighborlib.extract          # mirflickr, coco-person, synthetic-kinds at 160 px, CPU
    python -m neighborlib.extract --device cuda --resolution 260 --backbone efficientnet_lite2

For the sets of :data:`MAPS_BENCHMARKS` (MIRFlickr and COCO-person) the spatial maps
(float16 ``(N, 1280, 5, 5)`` at 160 px; 1.6 GB for MIRFlickr) are written **in the same
forward pass** as the pooled features (:func:`neighborlib.features.dataset_features_and_maps`):
the pass is the whole cost (about 6 minutes for MIRFlickr's 25,000 photos on 2 cores) and CI's
45-minute budget has no room for a second one. Where the pooled entry already exists, the pass
computes only the maps. The resolution study's subset and ``"synthetic-kinds"`` stay pooled only.
"mirflickr-r1" is the same dataset (name ``mirflickr25k``, same photos in the same order), so it
reads the entries of "mirflickr".

Without a data root only the synthetic ``"synthetic-kinds"`` set is extracted (the
chapters render the other synthetic photos themselves). The wall time of every entry that was actually computed
(not read from the cache) is printed and kept in ``<feature cache>/timings.json``,
which chapter 2 shows.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from .atomic import atomic_write
from .data import data_root
from .seeding import stream

__all__ = [
    "CPU_RESOLUTION",
    "DEFAULT_BENCHMARKS",
    "MAPS_BENCHMARKS",
    "RESOLUTION_STUDY",
    "extract_benchmarks",
    "read_timings",
    "resolution_study_subset",
    "timings_path",
]

#: The CPU input resolution, chosen by measurement (chapter 2, "Choosing the CPU
#: resolution"): on one protocol split of a 4,000-photo MIRFlickr subset, 160 px gives
#: +3.5 points of visual-only mAP_L and +1.9 of mAP_I over the crops' native 128 px
#: (0.660 against 0.625 mAP_L) for about 1.6x the extraction time (72 against 114
#: photos/s on 2 cores); 224 px is about 3x slower than 160 px.
CPU_RESOLUTION = 160

#: The resolution comparison of chapter 2: one protocol split of a seeded MIRFlickr subset.
RESOLUTION_STUDY = {"benchmark": "mirflickr", "n_images": 4000, "resolutions": (128, 160)}


def resolution_study_subset(n_total: int, n_images: int = RESOLUTION_STUDY["n_images"]) -> np.ndarray:
    """Sorted indices of the seeded subset of the resolution study (stream ``"subset"``)."""
    return np.sort(stream(0, "subset").choice(n_total, n_images, replace=False))


def timings_path() -> Path:
    """``<feature cache>/timings.json``: measured extraction times, by entry."""
    from .features import feature_cache_dir

    return feature_cache_dir() / "timings.json"


def read_timings() -> dict[str, dict]:
    """The measured extraction times (``{}`` when none were recorded or the file is unreadable)."""
    try:
        return json.loads(timings_path().read_text())
    except (OSError, ValueError):
        return {}


#: What ``make features`` extracts: the real sets and the synthetic set of LTN's Table 4.
DEFAULT_BENCHMARKS = ("mirflickr", "coco-person", "synthetic-kinds")

#: The sets whose spatial maps are extracted too (for MangoNet), in the same pass as their
#: pooled features, at the run's resolution (:data:`CPU_RESOLUTION` by default).
MAPS_BENCHMARKS = ("mirflickr", "coco-person")


def extract_benchmarks(
    names: Sequence[str] = DEFAULT_BENCHMARKS,
    resolution: int = CPU_RESOLUTION,
    device: str = "cpu",
    backbone: str = "efficientnet_lite0",
    study: bool = True,
    progress: bool = True,
    maps: Sequence[str] = MAPS_BENCHMARKS,
) -> dict[str, dict]:
    """Fill the feature cache for ``names`` (and the resolution study); return what each entry took.

    For the names in ``maps`` the pooled features and the spatial maps at ``resolution`` come
    from one pass (:func:`neighborlib.features.dataset_features_and_maps`); the record then
    says ``"maps": true`` and its time is that of the pass (or of reading both entries).

    Returns:
        ``{"<name> @ <r> px": {"images", "seconds", "device", "backbone", "resolution",
        "threads", "maps"}}``; the entries that were computed are also kept in
        :func:`timings_path`.
    """
    from .features import dataset_features, dataset_features_and_maps
    from .protocol import load_benchmark

    timings: dict[str, dict] = {}
    jobs = []
    for name in names:
        bench = load_benchmark(name)
        jobs.append((f"{name} @ {resolution} px", bench.dataset, resolution, name in maps))
        if study and name == RESOLUTION_STUDY["benchmark"]:
            sub = bench.dataset.subset(resolution_study_subset(len(bench.dataset)))
            for r in RESOLUTION_STUDY["resolutions"]:
                if r != resolution:
                    jobs.append((f"{name} subset of {len(sub):,} @ {r} px", sub, r, False))
    recorded = read_timings()
    for what, ds, r, with_maps in jobs:
        kw = dict(backbone=backbone, resolution=r, device=device, progress=progress)
        start = time.perf_counter()
        if with_maps:
            X, M = dataset_features_and_maps(ds, **kw)
            shapes = f"{X.shape[1:]} and maps {M.shape[1:]} {M.dtype}"
            del M  # 1.6 GB for MIRFlickr at 160 px
        else:
            X = dataset_features(ds, **kw)
            shapes = f"{X.shape[1:]}"
        seconds = time.perf_counter() - start
        timings[what] = {"images": int(X.shape[0]), "seconds": round(seconds, 1), "device": device,
                         "backbone": backbone, "resolution": r, "threads": torch_threads(), "maps": with_maps}
        print(f"{what}: {X.shape[0]:,} images -> {shapes} in {seconds:.1f} s", file=sys.stderr)
        if seconds > 0.02 * X.shape[0] / 10:  # computed, not read from the cache
            recorded[what] = timings[what]
    text = json.dumps(recorded, indent=2, sort_keys=True).encode()
    timings_path().parent.mkdir(parents=True, exist_ok=True)
    atomic_write(timings_path(), lambda f: f.write(text))
    return timings


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m neighborlib.extract", description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", nargs="+", default=list(DEFAULT_BENCHMARKS))
    parser.add_argument("--resolution", type=int, default=CPU_RESOLUTION)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--no-study", action="store_true", help="skip the resolution study's subset")
    args = parser.parse_args(argv)
    names = list(args.benchmarks)
    if data_root() is None:
        names = [n for n in names if n.startswith("synthetic")]
        print("no data root (NEIGHBORLIB_DATA or ../shared/data): only the SYNTHETIC sets are extracted; "
              "the chapters run on the synthetic world", file=sys.stderr)
    extract_benchmarks(names, args.resolution, args.device, args.backbone, not args.no_study)
    return 0


if __name__ == "__main__":
    sys.exit(main())
