"""Every chapter runs end to end under papermill on the synthetic world (quick settings).

nbval (in `make test`) additionally re-executes the committed notebooks on the real data and
compares them with their committed outputs.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest

PROJECT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((PROJECT / "notebooks").glob("*.ipynb"))


def _text_outputs(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for k, v in out.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_quick_run_on_synthetic_world(notebook: Path, tmp_path: Path):
    out = tmp_path / notebook.name
    pm.execute_notebook(
        notebook, out, parameters={"dataset": "synthetic", "quick": True, "seed": 1},
        cwd=str(notebook.parent), kernel_name="python3", progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    text = _text_outputs(nb)
    assert "SYNTHETIC" in text, "a run on the synthetic world must say so in its outputs"
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_unknown_parameter_stops_the_run(notebook: Path, tmp_path: Path):
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(
            notebook, tmp_path / "bad.ipynb", parameters={"dataset": "synthetic", "sed": 3},
            cwd=str(notebook.parent), kernel_name="python3", progress_bar=False,
        )
    assert "unknown parameter 'sed'" in str(info.value) and "did you mean 'seed'" in str(info.value)
