"""The one device rule: "auto"/None pick CUDA only when present; names are checked."""
from __future__ import annotations

import pytest
import torch

from neighborlib.device import device_type, resolve_device


def test_resolve_and_type():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected and resolve_device(None).type == expected
    assert resolve_device("cpu") == torch.device("cpu") and resolve_device(torch.device("cpu")).type == "cpu"
    assert device_type("cuda:1") == "cuda" and device_type(torch.device("cpu")) == "cpu"
    with pytest.raises(RuntimeError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="torch sees no CUDA device"):
            resolve_device("cuda")
