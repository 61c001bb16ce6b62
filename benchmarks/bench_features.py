"""Benchmark: JPEG decoding vs CNN feature extraction (images/s), and a CI resolution.

Run ``python benchmarks/bench_features.py [--device cpu|cuda] [--backbone efficientnet_lite0]
[--n 256] [--batch-size 64] [--resolution 224] [--sweep 224,160,128]``.

It writes ``--n`` realistic JPEG photos (random crops of scikit-image's bundled sample
photos, resized to 500 x 375, quality 90 - the size of a Flickr "medium" photo) into a
temporary folder and measures, in the same run:

1. **decode**: PIL ``open`` + ``load`` + ``convert("RGB")`` of every file (the files are
   read once beforehand, so the page cache holds them), best of 3 passes;
2. **decode + preprocess**: the same plus :func:`neighborlib.features.image_transform`
   (64 files, best of 3);
3. **extract**: :class:`~neighborlib.features.FeatureExtractor` end to end (decoding
   included, ``num_workers`` as given; the model is loaded and warmed up before timing;
   best of ``--repeat`` passes), at ``--resolution`` and at every resolution of ``--sweep``;
4. **model only**: forward passes of one already preprocessed batch (best single batch);
5. **model only by batch size** (``--batch-sweep``) at the first resolution, which is
   why :func:`~neighborlib.features.default_batch_size` is 8 on CPU.

On a shared machine other processes skew the numbers (torch's intra-op threads wait on
each other when a core is taken); the load average is printed before and after.

On CPU it then extrapolates the time for ``--target-images`` images (default 5,000) at
each measured resolution and recommends the largest one that stays under
``--target-seconds`` (default 300 s) with a ``--safety`` margin (default 2x). The times
use torch's default thread count unless ``--threads`` is given.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neighborlib.features import (  # noqa: E402
    BACKBONES,
    FeatureExtractor,
    default_backbone,
    default_batch_size,
    image_transform,
)

SAMPLES = ("chelsea.png", "coffee.png", "rocket.jpg", "astronaut.png", "motorcycle_left.png", "retina.jpg")


def write_photos(folder: Path, n: int, size: tuple[int, int] = (500, 375), seed: int = 0) -> list[Path]:
    """``n`` distinct JPEGs of ``size``: random crops (and flips) of scikit-image's sample photos."""
    import skimage.data

    root = Path(skimage.data.__file__).parent
    sources = [Image.open(root / name).convert("RGB") for name in SAMPLES]
    rng = np.random.default_rng(seed)
    aspect = size[0] / size[1]
    paths = []
    for i in range(n):
        src = sources[i % len(sources)]
        w, h = src.size
        cw = int(min(w, h * aspect) * rng.uniform(0.6, 1.0))
        ch = int(cw / aspect)
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        im = src.crop((x0, y0, x0 + cw, y0 + ch)).resize(size, Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        path = folder / f"photo{i:05d}.jpg"
        im.save(path, quality=90)
        paths.append(path)
    return paths


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def time_decode(paths: list[Path], transform=None, repeat: int = 3) -> float:
    """Best of ``repeat`` passes, images/s: PIL open + load + RGB (+ ``transform``)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for p in paths:
            with Image.open(p) as im:
                im.load()
                rgb = im.convert("RGB")
            if transform is not None:
                transform(rgb)
        best = min(best, time.perf_counter() - t0)
    return rate(len(paths), best)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_extract(paths: list[Path], backbone: str, device: str, resolution: int, batch_size: int,
                 num_workers: int | None, repeat: int = 1) -> tuple[float, float]:
    """(end-to-end images/s, best of ``repeat`` passes; model-only images/s, best single batch)."""
    ex = FeatureExtractor(backbone, device, resolution, batch_size=batch_size, num_workers=num_workers)
    ex(paths[: min(len(paths), batch_size)])  # warm-up (allocations, kernel selection)
    best = float("inf")
    for _ in range(repeat):
        sync(ex.device)
        t0 = time.perf_counter()
        feats = ex(paths)
        sync(ex.device)
        best = min(best, time.perf_counter() - t0)
    assert feats.shape == (len(paths), ex.spec.num_features) and np.isfinite(feats).all()
    end_to_end = rate(len(paths), best)

    x = torch.stack([ex.transform(Image.open(p)) for p in paths[:batch_size]]).to(ex.device)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(max(3, min(8, len(paths) // batch_size))):
            sync(ex.device)
            t0 = time.perf_counter()
            ex.model.forward_features(x).mean((2, 3)).cpu()
            sync(ex.device)
            best = min(best, time.perf_counter() - t0)
    return end_to_end, rate(len(x), best)


def time_model(model: torch.nn.Module, device: torch.device, resolution: int, batch_size: int,
               repeat: int = 3) -> float:
    """Model-only images/s on random input: best of ``repeat`` batches after one warm-up."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, resolution, resolution, generator=gen).to(device)
    best = float("inf")
    with torch.inference_mode():
        model.forward_features(x)
        for _ in range(repeat):
            sync(device)
            t0 = time.perf_counter()
            model.forward_features(x)
            sync(device)
            best = min(best, time.perf_counter() - t0)
    return rate(batch_size, best)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--backbone", default=None, choices=sorted(BACKBONES),
                    help="default: efficientnet_lite0 on CPU, efficientnet_lite2 on CUDA")
    ap.add_argument("--n", type=int, default=256, help="number of JPEG photos")
    ap.add_argument("--batch-size", type=int, default=None, help="default: 8 on CPU, 64 on CUDA")
    ap.add_argument("--batch-sweep", default="4,8,16,64",
                    help="batch sizes for a model-only comparison at --resolution ('' for none)")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch.set_num_threads for this run (default: torch's choice)")
    ap.add_argument("--resolution", type=int, default=None, help="default: the backbone's native one")
    ap.add_argument("--sweep", default="224,160,128",
                    help="further resolutions, comma-separated ('' for none)")
    ap.add_argument("--num-workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="end-to-end passes per resolution (best counts)")
    ap.add_argument("--target-images", type=int, default=5000)
    ap.add_argument("--target-seconds", type=float, default=300.0)
    ap.add_argument("--safety", type=float, default=2.0,
                    help="recommend a resolution whose measured time x this factor fits the target "
                    "(shared CI runners are often 2x slower than a quiet machine)")
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)  # this script's process only
    backbone = args.backbone or default_backbone(args.device)
    batch_size = args.batch_size or default_batch_size(args.device)
    spec = BACKBONES[backbone]
    resolutions = [args.resolution or spec.resolution]
    resolutions += [int(r) for r in args.sweep.split(",") if r.strip() and int(r) not in resolutions]

    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs, "
          f"device {args.device}"
          + (f" ({torch.cuda.get_device_name(args.device)})" if args.device.startswith("cuda") else ""))
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_photos(Path(tmp), args.n)
        for p in paths:
            p.read_bytes()  # into the page cache
        kib = sum(p.stat().st_size for p in paths) / args.n / 1024
        print(f"{args.n} JPEG photos, 500 x 375, {kib:.0f} KiB each")
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes on the machine skew timings)")
        decode = time_decode(paths)
        print(f"decode (PIL open+load+RGB):        {decode:8.1f} images/s")
        rows = []
        for res in resolutions:
            prep = time_decode(paths[:64], image_transform(res))
            e2e, model = time_extract(paths, backbone, args.device, res, batch_size, args.num_workers,
                                      args.repeat)
            rows.append((res, prep, e2e, model))
        sweep = [int(b) for b in args.batch_sweep.split(",") if b.strip()]
        if sweep:
            net = FeatureExtractor(backbone, args.device, resolutions[0]).model
            by_batch = {b: time_model(net, torch.device(args.device), resolutions[0], b) for b in sweep}
        print()
        print(f"{backbone}, batch {batch_size}, num_workers {args.num_workers} (None = default)")
        print(f"{'res':>5} {'map':>5} {'decode+prep/s':>14} {'extract/s':>10} {'model only/s':>13} "
              f"{'decode/extract':>15} {'decode share':>13} {args.target_images:>6} imgs")
        for res, prep, e2e, model in rows:
            s = spec.map_size(res)
            print(f"{res:>5} {s:>2}x{s:<2} {prep:14.1f} {e2e:10.1f} {model:13.1f} {decode / e2e:15.1f} "
                  f"{e2e / prep:12.0%} {args.target_images / e2e:7.0f} s")

    if sweep:
        print(f"model only at {resolutions[0]} px by batch size: "
              + ", ".join(f"{b}: {r:.1f}/s" for b, r in by_batch.items()))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if torch.device(args.device).type == "cpu":
        print()
        for res, _, e2e, _ in rows:
            verdict = "fits" if args.target_images / e2e <= args.target_seconds else "does not fit"
            print(f"{res:>4} px: {args.target_images} images in {args.target_images / e2e:4.0f} s - "
                  f"{verdict} in {args.target_seconds:.0f} s")
        fits = [(res, e2e) for res, _, e2e, _ in rows
                if args.safety * args.target_images / e2e <= args.target_seconds]
        if fits:
            res, e2e = max(fits)
            print(f"Recommended CI resolution: {res} px, the largest measured one that extracts "
                  f"{args.target_images} images in under {args.target_seconds:.0f} s with a {args.safety:g}x "
                  f"margin ({args.target_images / e2e:.0f} s here at {e2e:.1f} images/s).")
        else:
            res, _, e2e, _ = min(rows)
            print(f"No measured resolution extracts {args.target_images} images in under "
                  f"{args.target_seconds:.0f} s here; the lowest, {res} px, needs "
                  f"{args.target_images / e2e:.0f} s.")


if __name__ == "__main__":
    main()
