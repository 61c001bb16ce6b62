"""One rule for the ``device`` argument every function of the library takes.

``"auto"`` (or ``None`` where a function documents it) means CUDA when torch sees a GPU,
else the CPU; anything else is a torch device name (``"cpu"``, ``"cuda"``, ``"cuda:1"``)
or a :class:`torch.device`. Nothing ever moves to a GPU unless asked: the default of
every function is ``"cpu"``.
"""
from __future__ import annotations

from typing import Any

__all__ = ["device_type", "resolve_device"]


def resolve_device(device: Any = "cpu") -> "torch.device":  # noqa: F821 - torch is imported lazily
    """``device`` as a :class:`torch.device` (``"auto"``/``None``: CUDA when available).

    Raises:
        RuntimeError: a CUDA device was asked for but torch sees none (torch's own message
            for a malformed name is kept).
    """
    import torch

    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {str(device)!r} was asked for, but torch sees no CUDA device")
    return dev


def device_type(device: Any) -> str:
    """``"cpu"``, ``"cuda"``, ... of a device name or :class:`torch.device`, without importing
    torch for a plain string (``"cuda:1"`` -> ``"cuda"``)."""
    if hasattr(device, "type"):
        return str(device.type)
    if device is None or device == "auto":
        return resolve_device(device).type
    return str(device).split(":")[0]
