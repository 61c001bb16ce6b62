"""Benchmark: loading a dataset's metadata against reading its files raw.

Run ``python benchmarks/bench_loaders.py [--repeat 3]`` (needs a data root for the real sets).

In the same run it measures, best of ``--repeat`` passes:

1. **raw read** (the peer): ``Path.read_bytes()`` of every file the MIRFlickr-25K loader
   parses (25,000 tag files and the label files), i.e. the I/O floor;
2. **load_dataset("mirflickr25k")**: parsing, validation, sparse labels, photo index;
3. **load_dataset("coco", split="val2017")** against ``json.load`` of its two annotation files;
4. **the synthetic world's metadata** for 25,000 images (``render=False``) against the
   MIRFlickr loader, the real set it stands in for.

It prints each time and the ratio ours / peer (how much the loader adds over its input).
"""
from __future__ import annotations

import argparse
import json
from neighborlib.data import data_root, load_dataset
from neighborlib.data.synthetic import make_synthetic_world
from timing import best_of  # benchmarks/timing.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = data_root()
    rows: list[tuple[str, float, str, float]] = []
    synthetic = best_of(lambda: make_synthetic_world(25_000, seed=1, render=False), args.repeat)
    if root is not None and (root / "mirflickr25k").is_dir():
        mir = root / "mirflickr25k"
        files = sorted((mir / "meta" / "tags").glob("tags*.txt")) + sorted((mir / "annotations").glob("*.txt"))
        raw = best_of(lambda: [f.read_bytes() for f in files], args.repeat)
        ours = best_of(lambda: load_dataset("mirflickr25k"), args.repeat)
        rows.append(("load_dataset('mirflickr25k')", ours, f"read_bytes of {len(files):,} files", raw))
        rows.append(("synthetic metadata, 25,000 images", synthetic, "load_dataset('mirflickr25k')", ours))
    else:
        print("no MIRFlickr under the data root: only the synthetic world is timed")
        rows.append(("synthetic metadata, 25,000 images", synthetic, "(no peer)", float("nan")))
    if root is not None and (root / "coco" / "annotations").is_dir():
        ann = root / "coco" / "annotations"
        peer = best_of(lambda: [json.loads(p.read_bytes()) for p in
                                (ann / "captions_val2017.json", ann / "instances_val2017.json")], args.repeat)
        ours = best_of(lambda: load_dataset("coco", split="val2017"), args.repeat)
        rows.append(("load_dataset('coco', split='val2017')", ours, "json.loads of its 2 files", peer))
    width = max(len(r[0]) for r in rows)
    for what, ours, peer_name, peer in rows:
        print(f"{what:<{width}}  {ours:7.3f} s   peer {peer_name}: {peer:7.3f} s   ratio {ours / peer:5.2f}x")


if __name__ == "__main__":
    main()
