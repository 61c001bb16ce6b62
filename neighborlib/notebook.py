"""Papermill parameters for the book's chapters, checked.

Papermill injects a cell of assignments after a notebook's ``parameters`` cell and
only *warns* about names the notebook does not declare, so ``-p sed 3`` would run
the whole chapter with the default seed. Every chapter's parameters cell is therefore
plain annotated assignments of literals, which papermill itself understands
(``papermill --help-notebook`` lists them with their types, defaults and help)::

    # %% tags=["parameters"]
    dataset: str = "auto"  # "auto", "mirflickr" or "synthetic"
    seed: int = 0  # base seed of the splits
    data_root: Optional[str] = None  # None: $NEIGHBORLIB_DATA, else ../shared/data

    # %% the next cell
    params, DEVICE = start_chapter(globals(), "01_data_and_neighbourhoods")

:func:`start_chapter` is :func:`check_parameters` and the rest of every chapter's set-up.

:func:`check_parameters` reads the parameters cell's own source and papermill's injected
cell from the kernel's input history (``In``; where an executor keeps none, such as nbval,
the ``__annotations__`` the parameters cell leaves), so nothing has to be recorded before
the parameters cell and a second "Run All" in the same kernel checks the same way. It raises
:class:`ParameterError` naming the notebook and the offending parameter for an unknown
name (with a "did you mean" hint), a value of the wrong type, or a value outside a declared
set of choices. (Help comments must not contain ``=``: papermill skips such lines.)
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "Parameter",
    "ParameterError",
    "check_parameters",
    "clean_execution_metadata",
    "limit_threads",
    "parse_parameters",
    "real_sets",
    "resolve_device",
    "start_chapter",
    "sync_pair",
]

#: Metadata that records one execution (durations, timestamps, status), never committed.
EXECUTION_METADATA = ("papermill", "execution")

#: The first line of the cell papermill injects after the parameters cell.
INJECTED_HEADER = "# Parameters"


class ParameterError(ValueError):
    """An unknown, ill-typed or out-of-range notebook parameter."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a chapter, as its parameters cell declares it.

    Attributes:
        name: the variable name.
        annotation: the type annotation's source (``"int"``, ``"Optional[str]"``, ``"list[int]"``).
        default: the literal default value.
        help: the line's trailing comment.
    """

    name: str
    annotation: str
    default: Any
    help: str

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has the annotated type (papermill passes Python literals)."""
        return _matches(ast.parse(self.annotation, mode="eval").body, value)


_SCALARS: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}


def _matches(node: ast.expr, value: Any) -> bool:
    """``value`` against an annotation: int, float, bool, str, None, Optional[X], X | Y,
    list[X], tuple[X, ...]; bools are not ints and ints are floats."""
    if isinstance(node, ast.Constant) and node.value is None:
        return value is None
    if isinstance(node, ast.Name):
        if node.id == "None":
            return value is None
        if node.id not in _SCALARS:
            raise ParameterError(f"unsupported parameter annotation {node.id!r}")
        if isinstance(value, bool) and node.id != "bool":
            return False
        return isinstance(value, _SCALARS[node.id])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _matches(node.left, value) or _matches(node.right, value)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        outer, inner = node.value.id, node.slice
        if outer == "Optional":
            return value is None or _matches(inner, value)
        if outer in ("list", "tuple") and isinstance(value, (list, tuple)):
            item = inner.elts[0] if isinstance(inner, ast.Tuple) else inner
            return all(_matches(item, v) for v in value)
        if outer in ("list", "tuple"):
            return False
    raise ParameterError(f"unsupported parameter annotation {ast.unparse(node)!r}")


def parse_parameters(source: str, notebook: str = "notebook") -> dict[str, Parameter]:
    """The parameters declared by a parameters cell's ``source``, in order.

    Every statement must be an annotated assignment of a literal (``seed: int = 0  # help``).

    Raises:
        ParameterError: naming the notebook and the line of any other statement, or of a
            default that does not have its annotated type.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    out: dict[str, Parameter] = {}
    for stmt in tree.body:
        where = f"notebook {notebook}: parameters cell line {stmt.lineno}"
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None):
            raise ParameterError(f"{where}: only annotated assignments 'name: type = literal' belong here")
        try:
            default = ast.literal_eval(stmt.value)
        except ValueError:
            raise ParameterError(f"{where}: the default of {stmt.target.id!r} is not a literal") from None
        line = lines[stmt.end_lineno - 1]
        comment = line[stmt.end_col_offset:].strip()
        param = Parameter(stmt.target.id, ast.unparse(stmt.annotation), default, comment.lstrip("#").strip())
        if not param.accepts(default):
            raise ParameterError(f"{where}: default {default!r} of {param.name!r} is not {param.annotation}")
        out[param.name] = param
    return out


def _is_parameters_cell(source: str) -> bool:
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(s, ast.AnnAssign) for s in body)


def _injected_names(source: str) -> list[str]:
    names = []
    for stmt in ast.parse(source).body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _cells_from_history(history: Sequence[str]) -> tuple[str | None, list[str]]:
    """The parameters cell and papermill's injected cells, from the kernel's ``In``.

    Going back from the latest entry, the first cell made only of annotated assignments
    is the parameters cell; injected cells (first line ``# Parameters``) run after it are
    papermill's (or a reader's) overrides. ``(None, [])`` when the history does not hold
    the parameters cell (nbval and some executors run cells without storing history).
    """
    injected: list[str] = []
    for source in reversed(list(history)):
        if source.lstrip().startswith(INJECTED_HEADER + "\n") or source.strip() == INJECTED_HEADER:
            injected.append(source)
            continue
        if _is_parameters_cell(source):
            return source, injected
    return None, []


def _annotation_source(annotation: Any) -> str:
    """``int`` -> ``"int"``, ``typing.Optional[str]`` -> ``"Optional[str]"``, ``list[int]`` -> ``"list[int]"``."""
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def check_parameters(
    namespace: Mapping[str, Any],
    notebook: str,
    choices: Mapping[str, Iterable[Any]] | None = None,
    *,
    history: Sequence[str] | None = None,
) -> SimpleNamespace:
    """Validate the parameters of a chapter and return them all as a namespace.

    The declared parameters are the parameters cell's annotated assignments: its source in
    the kernel's input history when that holds it (papermill, Jupyter), else the
    ``__annotations__`` those assignments leave in the namespace (executors that do not
    store history, such as nbval; nothing can have been injected there). Papermill's
    injected cell, read from the history, is checked for unknown names.

    Args:
        namespace: the notebook's ``globals()``, in the cell right after the parameters cell
            (and after papermill's injected cell, if any).
        notebook: the chapter's name, used in error messages.
        choices: optional allowed values per parameter, e.g. ``{"device": ["cpu", "cuda", "auto"]}``.
        history: the kernel's input history; default ``namespace["In"]`` (IPython's).

    Raises:
        ParameterError: unknown name, wrong type, or value not among ``choices``; or no
            parameters cell was run.
    """
    if history is None:
        history = namespace.get("In") or []
    cell, injected = _cells_from_history(history)
    if cell is not None:
        spec = parse_parameters(cell, notebook)
    else:
        annotations = dict(namespace.get("__annotations__") or {})
        if not annotations:
            raise ParameterError(
                f"notebook {notebook}: run the cell tagged 'parameters' before this one "
                "(it must hold only annotated assignments 'name: type = literal')"
            )
        spec = {n: Parameter(n, _annotation_source(a), namespace.get(n), "") for n, a in annotations.items()}
    known = ", ".join(f"{p.name} ({p.annotation})" for p in spec.values())
    for source in injected:
        unknown = [n for n in _injected_names(source) if n not in spec]
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, list(spec), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(
                f"notebook {notebook}: unknown parameter {name!r}{hint}. Known parameters: {known}"
            )
    values = {}
    for name, param in spec.items():
        if name not in namespace:
            raise ParameterError(f"notebook {notebook}: parameter {name!r} was declared but never assigned")
        value = namespace[name]
        if not param.accepts(value):
            raise ParameterError(
                f"notebook {notebook}: parameter {name!r} must be {param.annotation} "
                f"like its default {param.default!r}, got {value!r} ({type(value).__name__})"
            )
        if choices and name in choices:
            allowed = list(choices[name])
            if value not in allowed:
                raise ParameterError(f"notebook {notebook}: parameter {name!r} = {value!r} is not one of {allowed}")
        values[name] = value
    unknown_choices = set(choices or ()) - set(spec)
    if unknown_choices:
        raise ParameterError(f"notebook {notebook}: choices given for undeclared parameters {sorted(unknown_choices)}")
    return SimpleNamespace(**values)


def resolve_device(device: str) -> str:
    """A chapter's ``device`` parameter as a device name: ``"auto"`` -> ``"cuda"`` when a GPU
    is visible, else ``"cpu"`` (the library's rule, :func:`neighborlib.device.resolve_device`).

    Raises:
        ParameterError: a CUDA device was asked for but none is available, or a malformed name.
    """
    from .device import resolve_device as _resolve

    try:
        dev = _resolve(device)
    except RuntimeError as err:
        raise ParameterError(f"parameter device: {err}") from None
    return device if device != "auto" else dev.type


def limit_threads(threads: int) -> None:
    """Pin this kernel's CPU thread pools to ``threads``: torch's intra-op pool and every
    BLAS / OpenMP pool that threadpoolctl finds (OpenBLAS under numpy and scikit-learn,
    MKL, libgomp), for the rest of the process.

    Two reasons for a chapter's ``threads`` parameter. Floating-point reductions split
    across threads add in a thread-dependent order, so a chapter's numbers are bit-identical
    only at one thread count (the committed outputs use 1). And several kernels sharing the
    cores (``make test`` runs two chapters at once on CI's two cores) must not each start a
    thread per core: OpenMP threads spin while waiting for a descheduled sibling, which made
    the LTN training step ten times slower when two kernels ran at two threads each.

    Raises:
        ParameterError: ``threads`` below 1.
    """
    import torch
    from threadpoolctl import threadpool_limits

    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ParameterError(f"parameter threads: must be a positive integer, got {threads!r}")
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)  # kept until the process ends (no context manager)


#: The choices every chapter declares for its ``dataset`` and ``device`` parameters.
CHAPTER_CHOICES: dict[str, list[str]] = {"dataset": ["auto", "mirflickr", "synthetic"], "device": ["cpu", "cuda", "auto"]}


def start_chapter(
    namespace: Mapping[str, Any], notebook: str, choices: Mapping[str, Iterable[Any]] | None = None
) -> tuple[SimpleNamespace, str]:
    """The set-up cell of every chapter, run right after its parameters cell.

    Checks the parameters (:func:`check_parameters`, with :data:`CHAPTER_CHOICES` unless
    ``choices`` replaces them), gives the kernel the book's figure style and three decimals
    in pandas tables, resolves ``params.device`` (:func:`resolve_device`) and pins the thread
    pools to ``params.threads`` (:func:`limit_threads`). The style and the precision are the
    chapter kernel's own settings, for the rest of the kernel.

    Returns:
        ``(params, device)``.
    """
    import matplotlib.pyplot as plt
    import pandas as pd

    from .plots import style_params

    params = check_parameters(namespace, notebook, choices=CHAPTER_CHOICES if choices is None else choices)
    plt.rcParams.update(style_params())
    pd.set_option("display.precision", 3)
    device = resolve_device(params.device)
    limit_threads(params.threads)
    return params, device


def real_sets(params: SimpleNamespace) -> tuple[Path | None, bool, bool]:
    """Which real sets a chapter runs on, from its ``data_root`` and ``dataset`` parameters.

    Returns ``(root, real, coco)``: the data root (:func:`neighborlib.data.data_root`, ``None``
    without one); ``real``, MIRFlickr is there and ``dataset`` is not ``"synthetic"`` (else the
    chapter runs on the synthetic world); ``coco``, the COCO-person tables run too: real data,
    COCO under the root, ``dataset == "auto"`` and the chapter's ``coco`` parameter (if it has
    one) true.
    """
    from .data import data_root

    root = data_root(params.data_root)
    real = params.dataset != "synthetic" and root is not None and (root / "mirflickr25k").is_dir()
    coco = real and getattr(params, "coco", True) and (root / "coco").is_dir() and params.dataset == "auto"
    return root, bool(real), bool(coco)


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


def clean_execution_metadata(path: str | Path) -> Path:
    """Drop papermill's and Jupyter's per-run metadata (durations, timestamps) from an ``.ipynb``.

    A re-execution with nothing changed then leaves the committed notebook unchanged.
    """
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    for key in EXECUTION_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in EXECUTION_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":  # python -m neighborlib.notebook sync|clean notebooks/01_*.py
    import sys

    if len(sys.argv) < 3 or sys.argv[1] not in ("sync", "clean"):
        sys.exit("usage: python -m neighborlib.notebook sync NOTEBOOK.py [...] | clean NOTEBOOK.ipynb [...]")
    for name in sys.argv[2:]:
        if sys.argv[1] == "sync":
            print(f"synced {name} -> {sync_pair(name)}")
        else:
            print(f"cleaned {clean_execution_metadata(name)}")
