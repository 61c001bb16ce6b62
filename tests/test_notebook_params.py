"""ParameterGuard: what papermill injects after the parameters cell is checked by name and type."""
from __future__ import annotations

import pytest

from neighborlib.notebook import ParameterError, ParameterGuard, resolve_device


def _run(injected: dict, choices=None):
    """Simulate the notebook: first cell, parameters cell, papermill's injected cell, check cell."""
    ns: dict = {"np": object(), "_i1": "ipython history", "Out": {}}
    guard = ParameterGuard("demo", ns)
    ns["guard"] = guard
    ns.update(dataset="auto", data_root=None, seed=0, splits=5, device="cpu", quick=False, taus=[100, 1000], lr=0.1)
    guard.declare(ns)
    ns.update(injected)
    ns["_i5"] = "more IPython history"  # IPython keeps adding these; they are not parameters
    return guard.check(ns, choices=choices)


def test_defaults_pass_through():
    p = _run({})
    assert (p.dataset, p.data_root, p.seed, p.splits, p.device, p.quick) == ("auto", None, 0, 5, "cpu", False)
    assert p.taus == [100, 1000] and p.lr == 0.1


def test_valid_injection():
    p = _run({"seed": 3, "quick": True, "data_root": "/data", "lr": 1, "taus": (5,)})
    assert (p.seed, p.quick, p.data_root, p.lr, p.taus) == (3, True, "/data", 1, (5,))


def test_unknown_parameter_names_it_and_suggests():
    with pytest.raises(ParameterError, match=r"notebook demo: unknown parameter 'sed' \(did you mean 'seed'\?\)"):
        _run({"sed": 3})


@pytest.mark.parametrize(
    "injected, fragment",
    [
        ({"seed": "3"}, "parameter 'seed' must be int"),
        ({"seed": 1.5}, "parameter 'seed' must be int"),
        ({"quick": 1}, "parameter 'quick' must be bool"),
        ({"splits": True}, "parameter 'splits' must be int"),
        ({"data_root": 3}, "parameter 'data_root' must be None"),
        ({"taus": [1, "x"]}, "parameter 'taus' must be list"),
        ({"lr": "fast"}, "parameter 'lr' must be float"),
    ],
)
def test_ill_typed_parameter(injected, fragment):
    with pytest.raises(ParameterError, match=fragment):
        _run(injected)


def test_choices():
    with pytest.raises(ParameterError, match=r"'dataset' = 'imagenet' is not one of"):
        _run({"dataset": "imagenet"}, choices={"dataset": ["auto", "synthetic"]})


def test_check_before_declare_is_an_error():
    guard = ParameterGuard("demo", {})
    with pytest.raises(RuntimeError, match="declare"):
        guard.check({})


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in {"cpu", "cuda"}
    with pytest.raises(RuntimeError):
        resolve_device("tpu")


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
