"""Papermill parameters for the book's chapters, checked.

Papermill injects a cell of assignments after a notebook's ``parameters`` cell and
only *warns* about names the notebook does not declare, so ``-p sed 3`` would run
the whole chapter with the default seed. Every chapter therefore does::

    guard = ParameterGuard("01_data_and_neighbourhoods", globals())   # first cell

    # parameters cell (tagged "parameters")
    dataset = "auto"
    seed = 0
    guard.declare(globals())        # last line: records names and default types

    params = guard.check(globals()) # first cell after papermill's injected one

:meth:`ParameterGuard.check` raises :class:`ParameterError` naming the notebook and
the offending parameter for an unknown name (with a "did you mean" hint), a value
of the wrong type, or a value outside a declared set of choices.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any, Iterable, Mapping, MutableMapping

__all__ = ["ParameterError", "ParameterGuard", "resolve_device", "sync_pair"]


class ParameterError(ValueError):
    """An unknown, ill-typed or out-of-range notebook parameter."""


def _is_user_name(name: str) -> bool:
    # IPython adds _, __, _i3, _3, In, Out, exit, quit, get_ipython to the namespace.
    return not name.startswith("_") and name not in {"In", "Out", "exit", "quit", "get_ipython"}


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def _compatible(default: Any, value: Any) -> bool:
    """Whether ``value`` may replace ``default`` (papermill passes Python literals)."""
    if default is None:  # optional path-like parameters: None or a string
        return value is None or isinstance(value, (str, Path))
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        if default:
            return all(_compatible(default[0], v) for v in value)
        return True
    return isinstance(value, type(default))


class ParameterGuard:
    """Checks the parameters papermill injected into one chapter.

    Args:
        notebook: the chapter's name, used in error messages.
        namespace: the notebook's ``globals()`` before the parameters cell.
    """

    def __init__(self, notebook: str, namespace: Mapping[str, Any]):
        self.notebook = notebook
        self._before = {n for n in namespace if _is_user_name(n)}
        self._defaults: dict[str, Any] | None = None
        self._after_declare: set[str] = set()

    @property
    def defaults(self) -> Mapping[str, Any]:
        if self._defaults is None:
            raise RuntimeError("call guard.declare(globals()) at the end of the parameters cell first")
        return MappingProxyType(self._defaults)

    def declare(self, namespace: Mapping[str, Any]) -> None:
        """Record the parameters cell's names and default values (call as its last line)."""
        names = [n for n in namespace if _is_user_name(n) and n not in self._before and n != "guard"]
        self._defaults = {n: namespace[n] for n in names}
        self._after_declare = {n for n in namespace if _is_user_name(n)}

    def check(
        self,
        namespace: MutableMapping[str, Any],
        choices: Mapping[str, Iterable[Any]] | None = None,
    ) -> SimpleNamespace:
        """Validate the injected parameters and return them all as a namespace.

        Args:
            namespace: the notebook's ``globals()`` after papermill's injected cell.
            choices: optional allowed values per parameter, e.g. ``{"device": ["cpu", "cuda", "auto"]}``.

        Raises:
            ParameterError: unknown name, wrong type, or value not among ``choices``.
        """
        defaults = self.defaults
        known = ", ".join(f"{n} ({_type_name(v)})" for n, v in defaults.items())
        unknown = sorted(n for n in namespace if _is_user_name(n) and n not in self._after_declare)
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, list(defaults), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(
                f"notebook {self.notebook}: unknown parameter {name!r}{hint}. Known parameters: {known}"
            )
        values = {}
        for name, default in defaults.items():
            value = namespace[name]
            if not _compatible(default, value):
                raise ParameterError(
                    f"notebook {self.notebook}: parameter {name!r} must be {_type_name(default)} "
                    f"like its default {default!r}, got {value!r} ({_type_name(value)})"
                )
            if choices and name in choices:
                allowed = list(choices[name])
                if value not in allowed:
                    raise ParameterError(
                        f"notebook {self.notebook}: parameter {name!r} = {value!r} is not one of {allowed}"
                    )
            values[name] = value
        return SimpleNamespace(**values)


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values are checked.

    Raises:
        ParameterError: a CUDA device was asked for but none is available.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ParameterError(f"device {device!r} was asked for, but torch sees no CUDA device")
    torch.device(device)  # raises on malformed names
    return device


def sync_pair(source: str | Path) -> Path:
    """Update a chapter's ``.ipynb`` from its Jupytext ``.py`` source, keeping the outputs.

    The ``.py`` percent file is always the source of cell inputs and tags (``jupytext
    --sync`` instead picks whichever file is newer, so a freshly executed ``.ipynb``
    overwrites edits to the ``.py``). Papermill stamps ``tags: []`` on every cell, which
    would mask tags added in the source, so empty tag lists are dropped before combining.

    Returns:
        The path of the ``.ipynb`` written.
    """
    import jupytext
    import nbformat
    from jupytext.combine import combine_inputs_with_outputs

    source = Path(source)
    if source.suffix != ".py":
        raise ValueError(f"{source}: the source of a chapter is its .py percent file")
    target = source.with_suffix(".ipynb")
    text_nb = jupytext.read(source)
    if target.exists():
        executed = nbformat.read(target, as_version=4)
        for cell in executed.cells:
            if cell.metadata.get("tags") == []:
                del cell.metadata["tags"]
        text_nb = combine_inputs_with_outputs(text_nb, executed, fmt="py:percent")
    jupytext.write(text_nb, target)
    return target


if __name__ == "__main__":  # python -m neighborlib.notebook sync notebooks/01_*.py
    import sys

    if len(sys.argv) < 3 or sys.argv[1] != "sync":
        sys.exit("usage: python -m neighborlib.notebook sync NOTEBOOK.py [...]")
    for name in sys.argv[2:]:
        print(f"synced {name} -> {sync_pair(name)}")
