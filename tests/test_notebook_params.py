"""check_parameters: what papermill injects after the parameters cell is checked by name and type
against the parameters cell's own source, read from the kernel's input history."""
from __future__ import annotations

from typing import Optional

import papermill as pm
import pytest

from neighborlib.notebook import ParameterError, check_parameters, parse_parameters, resolve_device

PARAMETERS = """\
dataset: str = "auto"  # "auto" or "synthetic"
data_root: Optional[str] = None  # None: the default data root
seed: int = 0  # base seed
splits: int = 5
device: str = "cpu"
quick: bool = False  # small settings
taus: list[int] = [100, 1000]  # vocabulary sizes
lr: float = 0.1
"""


def _run(injected: dict, choices=None, runs: int = 1):
    """Simulate a kernel: an import cell, the parameters cell, papermill's injected cell, the check.

    ``runs`` > 1 repeats the whole notebook in the same kernel ("Run All" twice)."""
    ns: dict = {"np": object(), "Optional": Optional, "In": [""]}
    for _ in range(runs):
        for source in ["import numpy as np", PARAMETERS]:
            ns["In"].append(source)
            exec(source, ns)
        if injected:
            source = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in injected.items())
            ns["In"].append(source)
            exec(source, ns)
        ns["In"].append("params = check_parameters(globals(), 'demo')")
        params = check_parameters(ns, "demo", choices=choices)
        ns["params"] = params
    return params


def test_defaults_pass_through():
    p = _run({})
    assert (p.dataset, p.data_root, p.seed, p.splits, p.device, p.quick) == ("auto", None, 0, 5, "cpu", False)
    assert p.taus == [100, 1000] and p.lr == 0.1


def test_valid_injection():
    p = _run({"seed": 3, "quick": True, "data_root": "/data", "lr": 1, "taus": (5,)})
    assert (p.seed, p.quick, p.data_root, p.lr, p.taus) == (3, True, "/data", 1, (5,))


def test_second_run_all_in_the_same_kernel_checks_the_same_way():
    assert _run({"seed": 4}, runs=2).seed == 4
    with pytest.raises(ParameterError, match="unknown parameter 'sed'"):
        _run({"sed": 3}, runs=2)


def test_rerunning_the_check_cell_alone_finds_the_parameters_cell():
    ns: dict = {"Optional": Optional, "In": ["", PARAMETERS]}
    exec(PARAMETERS, ns)
    ns["In"] += ["x = 1", "params = check_parameters(globals(), 'demo')", "params = check_parameters(globals(), 'demo')"]
    del ns["__annotations__"]  # the history alone finds it
    assert check_parameters(ns, "demo").seed == 0


def test_unknown_parameter_names_it_and_suggests():
    with pytest.raises(ParameterError, match=r"notebook demo: unknown parameter 'sed' \(did you mean 'seed'\?\)"):
        _run({"sed": 3})
    with pytest.raises(ParameterError, match=r"unknown parameter 'guard'"):  # formerly an AttributeError
        _run({"guard": 3})


@pytest.mark.parametrize(
    "injected, fragment",
    [
        ({"seed": "3"}, "parameter 'seed' must be int"),
        ({"seed": 1.5}, "parameter 'seed' must be int"),
        ({"quick": 1}, "parameter 'quick' must be bool"),
        ({"splits": True}, "parameter 'splits' must be int"),
        ({"data_root": 3}, r"parameter 'data_root' must be Optional\[str\]"),
        ({"taus": [1, "x"]}, r"parameter 'taus' must be list\[int\]"),
        ({"lr": "fast"}, "parameter 'lr' must be float"),
    ],
)
def test_ill_typed_parameter(injected, fragment):
    with pytest.raises(ParameterError, match=fragment):
        _run(injected)


def test_choices():
    with pytest.raises(ParameterError, match=r"'dataset' = 'imagenet' is not one of"):
        _run({"dataset": "imagenet"}, choices={"dataset": ["auto", "synthetic"]})
    with pytest.raises(ParameterError, match="undeclared parameters"):
        _run({}, choices={"datset": ["auto"]})


def test_check_without_a_parameters_cell_is_an_error():
    with pytest.raises(ParameterError, match="run the cell tagged 'parameters'"):
        check_parameters({"In": ["", "x = 1", "check"]}, "demo")


def test_without_stored_history_the_annotations_declare_the_parameters():
    """nbval executes cells without storing them in ``In``: the parameters cell's
    ``__annotations__`` still declare names and types (nothing can have been injected)."""
    ns: dict = {"Optional": Optional, "In": [""]}
    exec(PARAMETERS, ns)  # module-level annotated assignments fill ns["__annotations__"]
    p = check_parameters(ns, "demo", choices={"dataset": ["auto", "synthetic"]})
    assert (p.seed, p.taus, p.data_root) == (0, [100, 1000], None)
    ns["seed"] = "3"
    with pytest.raises(ParameterError, match=r"parameter 'seed' must be int"):
        check_parameters(ns, "demo")
    ns["seed"], ns["data_root"] = 0, 7
    with pytest.raises(ParameterError, match=r"parameter 'data_root' must be Optional\[str\]"):
        check_parameters(ns, "demo")


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("seed = 0\n", "line 1: only annotated assignments"),
        ("seed: int = 0\nprint(seed)\n", "line 2: only annotated assignments"),
        ("seed: int = len([])\n", "line 1: the default of 'seed' is not a literal"),
        ("seed: int = 'zero'\n", "line 1: default 'zero' of 'seed' is not int"),
        ("seed: numpy.int64 = 0\n", "unsupported parameter annotation"),
    ],
)
def test_parameters_cell_must_be_annotated_literals(source, fragment):
    with pytest.raises(ParameterError, match=fragment):
        parse_parameters(source, "demo")


def test_papermill_reads_the_same_names_types_defaults_and_help(tmp_path):
    """``papermill --help-notebook`` (its Python inspection) sees what check_parameters sees."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    seen = pm.inspect_notebook(str(path))
    ours = parse_parameters(PARAMETERS)
    assert list(seen) == list(ours)
    for name, p in ours.items():
        assert seen[name]["inferred_type_name"] == p.annotation
        assert eval(seen[name]["default"]) == p.default  # noqa: S307 - literals of our own cell
        assert seen[name]["help"] == p.help
    assert ours["quick"].help == "small settings" and ours["splits"].help == ""


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ParameterError, match="parameter device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="torch sees no CUDA device"):
            resolve_device("cuda")


def test_sync_pair_takes_inputs_and_tags_from_py_and_keeps_outputs(tmp_path):
    import nbformat

    from neighborlib.notebook import sync_pair

    py = tmp_path / "ch.py"
    py.write_text('# %%\nx = 1\nx\n\n# %% tags=["nbval-ignore-output"]\nprint(2)\n', encoding="utf-8")
    executed = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("x = 1\nx", metadata={"tags": []}, execution_count=1)
    first.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1)]
    second = nbformat.v4.new_code_cell("print(2)", metadata={"tags": []}, execution_count=2)  # papermill's empty tags
    executed.cells = [first, second]
    nbformat.write(executed, tmp_path / "ch.ipynb")
    py.touch()
    out = nbformat.read(sync_pair(py), as_version=4)
    assert out.cells[0].outputs[0]["data"]["text/plain"] == "1"
    assert out.cells[1].metadata["tags"] == ["nbval-ignore-output"]
    with pytest.raises(ValueError, match="source"):
        sync_pair(tmp_path / "ch.ipynb")


def test_limit_threads_pins_torch_and_the_blas_pools():
    """Run in a fresh interpreter with two threads available: the pins are process-wide."""
    import subprocess
    import sys

    code = (
        "import numpy, torch\n"
        "from threadpoolctl import threadpool_info\n"
        "from neighborlib.notebook import ParameterError, limit_threads\n"
        "torch.set_num_threads(2)\n"
        "limit_threads(1)\n"
        "pools = [p['num_threads'] for p in threadpool_info()]\n"
        "assert torch.get_num_threads() == 1, torch.get_num_threads()\n"
        "assert pools and set(pools) == {1}, threadpool_info()\n"
        "for bad in (0, -1, True, 1.0):\n"
        "    try:\n"
        "        limit_threads(bad)\n"
        "    except ParameterError as err:\n"
        "        assert 'parameter threads' in str(err)\n"
        "    else:\n"
        "        raise AssertionError(bad)\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_every_chapter_pins_its_threads():
    """Each chapter declares ``threads`` (default 1, as its committed outputs) and applies it."""
    from pathlib import Path

    chapters = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))
    assert chapters
    for path in chapters:
        source = path.read_text(encoding="utf-8")
        cell = source.split('# %% tags=["parameters"]\n', 1)[1].split("# %%", 1)[0]
        assert parse_parameters(cell, path.stem)["threads"].default == 1, path.name
        assert f'start_chapter(globals(), "{path.stem}"' in source.replace("(\n    globals(),\n    ", "(globals(), "), \
            path.name  # start_chapter applies params.threads (test_start_chapter_checks_styles_and_pins)


def test_start_chapter_checks_styles_and_pins(monkeypatch):
    """The set-up cell: the parameters checked against the chapters' choices, the book's style
    and precision applied, the device resolved and ``limit_threads`` called with ``params.threads``."""
    import matplotlib.pyplot as plt
    import pandas as pd

    import neighborlib.notebook as nb
    from neighborlib.plots import style_params

    pinned = []
    monkeypatch.setattr(nb, "limit_threads", pinned.append)
    ns: dict = {"Optional": Optional, "In": ["", PARAMETERS_CHAPTER]}
    exec(PARAMETERS_CHAPTER, ns)
    with plt.rc_context(), pd.option_context("display.precision", 6):
        params, device = nb.start_chapter(ns, "demo")
        assert (params.dataset, params.threads, device) == ("auto", 2, "cpu") and pinned == [2]
        assert pd.get_option("display.precision") == 3
        assert plt.rcParams["savefig.dpi"] == style_params()["savefig.dpi"] == 150
    ns["In"].append("# Parameters\ndataset = 'nuswide'\n")
    exec(ns["In"][-1], ns)
    with pytest.raises(ParameterError, match="'nuswide' is not one of"):
        nb.start_chapter(ns, "demo")
    assert nb.start_chapter(ns, "demo", choices={})[0].dataset == "nuswide"  # a chapter's own choices replace them


PARAMETERS_CHAPTER = """dataset: str = "auto"
device: str = "cpu"
threads: int = 2
"""


def test_real_sets_reads_the_data_root_and_the_dataset(tmp_path):
    """MIRFlickr under the root makes a real run; COCO-person joins under ``dataset="auto"`` only,
    with the chapter's ``coco`` parameter true (when it has one)."""
    from types import SimpleNamespace

    from neighborlib.notebook import real_sets

    def ask(**kw):
        return real_sets(SimpleNamespace(**{"data_root": str(tmp_path), "dataset": "auto", **kw}))

    assert ask() == (tmp_path, False, False)  # nothing there: the synthetic world
    (tmp_path / "mirflickr25k").mkdir()
    assert ask() == (tmp_path, True, False)
    (tmp_path / "coco").mkdir()
    assert ask() == (tmp_path, True, True)
    assert ask(coco=False)[1:] == (True, False)
    assert ask(dataset="mirflickr")[1:] == (True, False)
    assert ask(dataset="synthetic")[1:] == (False, False)

