"""Every notebook under notebooks/ runs top to bottom in quick mode (CASESIM_QUICK=1).

The kernel is pinned to the interpreter running the tests (ipykernel's own spec for
``sys.executable``), so a stray ``python3`` kernelspec in the user's or the system's Jupyter
path can never run the notebooks against another environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 600


class ThisInterpreterKernelSpecs(KernelSpecManager):
    """Resolves every kernel name to ipykernel's spec for the running interpreter."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


def _client(nb: nbformat.NotebookNode, cwd: Path) -> NotebookClient:
    km = KernelManager(kernel_name="python3", kernel_spec_manager=ThisInterpreterKernelSpecs())
    return NotebookClient(nb, km=km, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                          resources={"metadata": {"path": str(cwd)}})


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOKS_DIR}"


def test_kernel_is_this_interpreter(tmp_path):
    code = "import os, sys; print(sys.executable); print(os.getcwd())"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    _client(nb, tmp_path).execute()
    out = nb.cells[0].outputs[0]["text"].splitlines()
    assert Path(out[0]).resolve() == Path(sys.executable).resolve()
    assert Path(out[1]).resolve() == tmp_path.resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    """A failing cell raises nbclient's CellExecutionError and fails the test."""
    monkeypatch.setenv("CASESIM_QUICK", "1")  # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    _client(nb, path.parent).execute()
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in ran)
    errors = [o for c in ran for o in c.outputs if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_thin_with_parameters_first(path):
    """No model logic in a notebook: no functions or classes of its own (they belong in
    ``sim``), and every tunable, with the quick mode, in its first code cell."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name}: no code"
    for src in code:
        for line in src.splitlines():
            assert not line.lstrip().startswith(("def ", "class ", "async def ")), f"{path.name}: {line.strip()}"
    assert "CASESIM_QUICK" in code[0], f"{path.name}: the first code cell holds the parameters and the quick mode"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), f"{path.name}: a title first"
