"""The project's own contracts: set-up files agree, notebooks are paired, CI runs the README's command."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import jupytext
import nbformat
import papermill as pm
import pytest
import yaml

from neighborlib.notebook import parse_parameters

PROJECT = Path(__file__).resolve().parents[1]
NOTEBOOK_SOURCES = sorted((PROJECT / "notebooks").glob("*.py"))


def _requirements() -> dict[str, str]:
    pins = {}
    for n, line in enumerate((PROJECT / "requirements.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        assert m, f"requirements.txt line {n} is not an exact pin: {line!r}"
        pins[m.group(1).lower()] = m.group(2)
    return pins


def _environment_pins() -> dict[str, str]:
    env = yaml.safe_load((PROJECT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip section"
    pins = {}
    for spec in pip_sections[0]:
        name, _, version = spec.partition("==")
        assert version, f"environment.yml pip entry {spec!r} is not an exact pin"
        pins[name.strip().lower()] = version.strip()
    return pins


def test_requirements_and_environment_agree():
    req, env = _requirements(), _environment_pins()
    assert req == env, f"only in requirements.txt: {set(req.items()) - set(env.items())}; only in environment.yml: {set(env.items()) - set(req.items())}"


def test_issue_pins_and_packages_present():
    req = _requirements()
    import torch
    import torchvision

    # the environment the tests run in is the pinned one (not a constant compared with itself)
    assert torch.__version__.split("+")[0] == req["torch"], (torch.__version__, req["torch"])
    assert torchvision.__version__.split("+")[0] == req["torchvision"], (torchvision.__version__, req["torchvision"])
    assert req["jupyter-book"].startswith("1."), "the design card's _config.yml is Jupyter Book 1 style"
    for name in ("jupytext", "papermill", "nbval", "pytest", "matplotlib", "seaborn", "gensim",
                 "numpy", "scipy", "pandas", "scikit-learn", "tqdm"):
        assert name in req, f"{name} missing from requirements.txt"


def test_constraints_lock_covers_requirements():
    lock = {}
    for line in (PROJECT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.strip().lower().replace("_", "-")] = version.strip()
    for name, version in _requirements().items():
        assert lock.get(name.replace("_", "-")) == version, f"constraints.txt disagrees on {name}"


def test_ci_runs_the_readme_test_command():
    readme = (PROJECT / "README.md").read_text()
    commands = re.findall(r"^make (\w+)$", readme, flags=re.M)
    assert commands[:2] == ["book", "test"], f"README must open with `make book` and `make test`, found {commands}"
    ci = (PROJECT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES, ids=lambda p: p.name)
def test_notebook_pair_in_sync(source: Path):
    """The .py percent file is the source; the committed .ipynb must hold the same cells."""
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"{source.name} has no paired {paired.name}"
    py_cells = jupytext.read(source).cells
    nb_cells = nbformat.read(paired, as_version=4).cells

    def key(c):  # what must agree: type, source and tags (nbval and papermill read the tags)
        return c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))

    assert [key(c) for c in py_cells] == [key(c) for c in nb_cells], (
        f"{source.name} and {paired.name} differ: run `make notebooks`"
    )


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES, ids=lambda p: p.name)
def test_no_execution_metadata_in_sources_or_committed_notebooks(source: Path):
    """Durations and timestamps of one run never enter the .py source or the committed .ipynb."""
    text = source.read_text()
    assert "papermill=" not in text and "execution=" not in text, f"{source.name} carries execution metadata"
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    assert "papermill" not in nb.metadata
    stamped = [i for i, c in enumerate(nb.cells) if {"papermill", "execution"} & set(c.metadata)]
    assert not stamped, f"{source.with_suffix('.ipynb').name}: cells {stamped} carry execution metadata"
    outputs = nbformat.writes(nb)
    assert not re.search(r"at 0x[0-9a-f]{6,}", outputs), "a memory address in the committed outputs"
    assert not re.search(r"/(work|tmp|home|root)/", outputs), "a machine path in the committed outputs"


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES, ids=lambda p: p.name)
def test_markdown_cells_are_whole_comments_without_control_characters(source: Path):
    """A line of a markdown cell that is not a comment, or a control character, is the trace of an
    escape gone wrong in an edit (``\\rVert`` written as a carriage return split one page's formula)."""
    text = source.read_text(encoding="utf-8")
    control = [text[:m.start()].count("\n") + 1 for m in re.finditer(r"[\x00-\x08\x0b-\x1f\x7f]", text)]
    assert not control, f"{source.name}: control characters on lines {control}"
    markdown, stray = False, []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# %%"):
            markdown = "[markdown]" in line
        elif markdown and line.strip() and not line.startswith("#"):
            stray.append(n)
    assert not stray, f"{source.name}: lines {stray} of a markdown cell are not comments"


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES, ids=lambda p: p.name)
def test_notebook_has_checked_parameters(source: Path):
    nb = jupytext.read(source)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    spec = parse_parameters(tagged[0].source, source.stem)  # raises unless plain annotated literals
    assert {"dataset", "data_root", "seed", "splits", "device", "quick"} <= set(spec)
    idx = nb.cells.index(tagged[0])
    check = nb.cells[idx + 1]
    call = check.source.replace("(\n    globals(),\n    ", "(globals(), ")
    assert call.startswith(f'params, DEVICE = start_chapter(globals(), "{source.stem}"'), "the next cell checks them"
    # papermill --help-notebook sees every parameter with its type, default and help
    seen = pm.inspect_notebook(str(source.with_suffix(".ipynb")))
    assert list(seen) == list(spec)
    assert all(seen[n]["inferred_type_name"] == p.annotation and seen[n]["help"] for n, p in spec.items())
    # setup cells a reader need not read are hidden in the rendered book (one click away)
    assert "hide-input" in check.metadata.get("tags", [])
    assert "hide-input" in nb.cells[idx - 1].metadata.get("tags", []), "the import cell is hidden"


@pytest.mark.parametrize("source", NOTEBOOK_SOURCES, ids=lambda p: p.name)
def test_committed_notebook_executed_cleanly(source: Path):
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert all(counts), f"{source.with_suffix('.ipynb').name} has unexecuted cells"
    assert counts == sorted(counts), "cells were executed out of order"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"committed notebook contains errors: {[e.ename for e in errors]}"


def test_book_toc_lists_every_notebook():
    toc = (PROJECT / "book" / "_toc.yml").read_text()
    for source in NOTEBOOK_SOURCES:
        assert f"notebooks/{source.stem}" in toc, f"{source.stem} is not in book/_toc.yml"


def test_no_shared_data_tracked():
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"(^|/)(meta/tags/tags\d+\.txt|Groundtruth\.zip|captions_\w+\.json|instances_\w+\.json)$")
    assert not [f for f in files if pattern.search(f)]
    big = [f for f in files if (PROJECT / f).is_file() and (PROJECT / f).stat().st_size > 4 * 2**20]
    assert not big, f"files over 4 MiB are tracked: {big}"


#: import name -> distribution name, where they differ
_DISTRIBUTION = {"sklearn": "scikit-learn", "skimage": "scikit-image", "PIL": "pillow"}


def _declared_distributions() -> set[str]:
    import tomllib

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for extra in project.get("optional-dependencies", {}).values()
                                              for s in extra]
    return {re.split(r"[<>=!~\[; ]", s, maxsplit=1)[0].lower() for s in specs}


def test_pyproject_declares_every_third_party_import_of_the_package():
    """``pip install .`` must give a package whose every module imports: each third-party
    module that ``neighborlib`` imports (at top level or inside a function) is declared."""
    import ast
    import sys

    imported: dict[str, str] = {}
    for path in sorted((PROJECT / "neighborlib").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "neighborlib":
                    imported.setdefault(top, f"{path.relative_to(PROJECT)}:{node.lineno}")
    assert {"numpy", "torch", "gensim", "timm", "nltk", "skimage"} <= set(imported)  # the walk finds them
    declared = _declared_distributions()
    missing = {top: where for top, where in imported.items() if _DISTRIBUTION.get(top, top).lower() not in declared}
    assert not missing, f"imported by neighborlib but not declared in pyproject.toml: {missing}"
