"""Measurement: timm's evaluation transform (the book's) against keeping the whole photo.

Run ``python benchmarks/compare_transforms.py`` (needs the MIRFlickr photos and the cached
160-px features of ``make features``).

timm's evaluation transform for ``tf_efficientnet_lite0``, which
:func:`neighborlib.features.image_transform` reproduces, resizes the shorter side to
``floor(resolution / 0.875)`` with *bicubic* interpolation and centre-crops ``resolution``:
it drops the outer eighth of every photo. The alternative keeps the whole MIRFlickr crop
(already a centre crop): shorter side to ``resolution``, bilinear. Both normalise with
mean = std = 0.5. On the 4,000-photo subset of chapter 2's resolution study, at 160 px,
one protocol split, this prints the visual-only logistic's mAP with each (the book's
features come from the cache; the alternative's are extracted here, and timed).

Measured on the 2-core development machine: timm's 0.660 mAP_L / 0.820 mAP_I, the whole
crop 0.652 / 0.815. (Over chapter 2's five full splits the two were within a standard
deviation: 0.696 against 0.701 mAP_L on MIRFlickr, 0.434 against 0.423 on COCO-person.)
"""
from __future__ import annotations

import time

import numpy as np

from neighborlib import methods
from neighborlib.extract import CPU_RESOLUTION, resolution_study_subset
from neighborlib.features import LITE_MEAN, LITE_STD, FeatureExtractor
from neighborlib.protocol import benchmark_features, load_benchmark, run_protocol


def main() -> None:
    import timm.data
    import torchvision.transforms as T

    bench = load_benchmark("mirflickr")
    index = resolution_study_subset(len(bench))
    study = bench.subset(index)
    book = benchmark_features(bench, resolution=CPU_RESOLUTION, progress=False)[index]
    ext = FeatureExtractor("efficientnet_lite0", resolution=CPU_RESOLUTION)
    config = timm.data.resolve_data_config({"input_size": (3, CPU_RESOLUTION, CPU_RESOLUTION)}, model=ext.model)
    print(f"timm's evaluation config: {config}")
    ext.transform = T.Compose([T.Resize(CPU_RESOLUTION, interpolation=T.InterpolationMode.BILINEAR, antialias=True),
                               T.CenterCrop(CPU_RESOLUTION), T.ToTensor(), T.Normalize(LITE_MEAN, LITE_STD)])
    start = time.perf_counter()
    whole = ext([study.dataset.photo_path(i) for i in range(len(study))], progress=True)
    print(f"whole-crop features of {len(study):,} photos in {time.perf_counter() - start:.0f} s")
    for name, X in (("book = timm eval (0.875, bicubic)", book), ("whole crop (bilinear)", whole)):
        r = run_protocol(study, {"visual": methods.visual_logistic()}, n_splits=1, features=X,
                         upper_bound=False, progress=False)
        m = r.means().loc["visual"]
        print(f"{name:<34} mAP_label {m['mAP_label']:.4f}  mAP_image {m['mAP_image']:.4f}  "
              f"F1@3_overall {m['F1@3_overall']:.4f}")
    print("cosine similarity of the two feature sets, mean over photos:",
          f"{np.mean(np.sum(book * whole, 1) / np.linalg.norm(book, axis=1) / np.linalg.norm(whole, axis=1)):.4f}")


if __name__ == "__main__":
    main()
