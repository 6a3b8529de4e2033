"""The architecture holds: each layer of ``sim`` imports only the layers below it, and the
heavy libraries stay where they belong (see docs/architecture.md).

The check reads every module's source (imports inside functions and ``TYPE_CHECKING``
blocks count too: a type-only back edge is still a back edge), so it needs no import of the
package, and it is tested on made-up sources to show that it catches what it claims to.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "sim"

# Lowest first. A module may import its own layer and the layers before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("sim.domain", "sim.errors", "sim.data"),
    ("sim.core",),
    ("sim.config",),
    ("sim.model",),
    ("sim.results",),
    ("sim.io",),
    ("sim.running",),
    ("sim.calibration",),
    ("sim.present",),
    ("sim.cli",),
    ("sim.app",),
)
# The public facade sits above every layer: it may import any of them, and none may import it.
FACADE = ("sim", "sim.plots", "sim.__main__")

# Third-party packages a layer may not import at all (at module level or inside a function).
HEAVY = {
    "hydra": "composing YAML: sim.config.load, sim.config.design and the command line only",
    "omegaconf": "composing YAML: sim.config.load, sim.config.design and the command line only",
    "pandas": "tables: the results layer and above",
    "pyarrow": "tables: the results layer and above",
    "matplotlib": "figures: sim.present only",
    "dask": "distributed sweeps: sim.running only",
    "distributed": "distributed sweeps: sim.running only",
    "simpy": "the model: sim.model (and the runners that build it)",
    "statsmodels": "count and outcome models fitted to a case log: sim.calibration only",
    "sklearn": "the simulation fit's emulator: sim.calibration only",
    "openpyxl": "reading a case log from Excel: sim.io only (through pandas)",
    "shiny": "the workbench in the browser: sim.app only",
    "SALib": "variance-based sensitivity: the designs (sim.config.design) and their analysis (sim.results.sensitivity) only",
}
ALLOWED_HEAVY: dict[str, tuple[str, ...]] = {
    "hydra": ("sim.config.load", "sim.config.design", "sim.cli"),
    "omegaconf": ("sim.config.load", "sim.config.design", "sim.cli"),
    "pandas": ("sim.results", "sim.io", "sim.running", "sim.calibration", "sim.present", "sim.cli"),
    "pyarrow": ("sim.results", "sim.io", "sim.running", "sim.calibration", "sim.present", "sim.cli"),
    "matplotlib": ("sim.present",),
    "dask": ("sim.running",),
    "distributed": ("sim.running",),
    "simpy": ("sim.model", "sim.running"),
    "statsmodels": ("sim.calibration",),
    "sklearn": ("sim.calibration",),
    "openpyxl": ("sim.io",),
    "shiny": ("sim.app",),
    "SALib": ("sim.config.design", "sim.results.sensitivity"),
}


def layer_of(module: str) -> int | None:
    """The index of ``module``'s layer in LAYERS, or None for the facade."""
    for k, homes in enumerate(LAYERS):
        if any(module == h or module.startswith(h + ".") for h in homes):
            return k
    return None


def _within(module: str, homes: tuple[str, ...]) -> bool:
    return any(module == h or module.startswith(h + ".") for h in homes)


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if node.module is None:
                # ``from . import plots`` imports a submodule by name
                found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Every import in ``source`` that breaks the layering, as readable lines."""
    own = layer_of(module)
    out = []
    for line, target in imported_modules(module, source, is_package):
        top = target.split(".")[0]
        if top == "sim":
            if own is None:
                continue  # the facade may import anything
            if target in FACADE or target == "sim":
                out.append(f"{module}:{line} imports the public facade {target} (import the layer itself)")
                continue
            theirs = layer_of(target)
            if theirs is not None and theirs > own:
                out.append(f"{module}:{line} imports {target}, a layer above it ({LAYERS[theirs][0]} over {LAYERS[own][0]})")
        elif top in ALLOWED_HEAVY and own is not None and not _within(module, ALLOWED_HEAVY[top]):
            out.append(f"{module}:{line} imports {top} ({HEAVY[top]})")
    return out


def package_modules() -> list[tuple[str, Path]]:
    mods = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        rel = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
        name = ".".join(rel.parts)
        mods.append((name[: -len(".__init__")] if name.endswith(".__init__") else name, path))
    return mods


def test_every_module_belongs_to_a_layer_or_the_facade():
    strays = [m for m, _ in package_modules() if layer_of(m) is None and m not in FACADE]
    assert not strays, f"modules outside every layer (add them to LAYERS or move them): {strays}"


def test_no_module_imports_a_layer_above_it():
    found = []
    for module, path in package_modules():
        found += violations(module, path.read_text(), is_package=path.name == "__init__.py")
    assert not found, "layering broken:\n" + "\n".join(found)


@pytest.mark.parametrize("module, source, problem", [
    ("sim.model.force", "from ..results import Results\n", "a layer above it"),
    ("sim.model.force", "def f():\n    from sim.running.runner import simulate\n", "a layer above it"),
    ("sim.core.calendar", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..config.schema import X\n",
     "a layer above it"),
    ("sim.results.tables", "import sim\n", "public facade"),
    ("sim.model.demand", "import pandas as pd\n", "imports pandas"),
    ("sim.results.summary", "import matplotlib.pyplot as plt\n", "imports matplotlib"),
    ("sim.config.schema", "def f():\n    from hydra import compose\n", "imports hydra"),
    ("sim.present.plots", "def f():\n    from SALib.analyze import sobol\n", "imports SALib"),
])
def test_the_check_catches_a_back_edge(module, source, problem):
    found = violations(module, source)
    assert len(found) == 1 and problem in found[0], found


@pytest.mark.parametrize("module, source", [
    ("sim.running.runner", "from ..model import run_replication\nfrom ..results import Results\n"),
    ("sim.model.force", "from .staff import Team\nfrom ..domain import Stage\nimport simpy\n"),
    ("sim.config.load", "def f():\n    from hydra import compose\n"),
    ("sim", "from .cli import main\n"),
])
def test_the_check_allows_downward_imports(module, source):
    assert violations(module, source) == []


def test_importing_the_model_loads_no_heavy_library():
    """``import sim.model`` (a notebook's or another program's way in) loads none of Hydra,
    OmegaConf, pandas or matplotlib: checked in a fresh interpreter."""
    code = ("import sys, sim.model, sim.config.schema\n"
            "print(','.join(m for m in ('hydra', 'omegaconf', 'pandas', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=PACKAGE_DIR.parent)
    assert done.stdout.strip() == "", f"import sim.model loaded: {done.stdout.strip()}"


def test_importing_sim_is_lazy():
    """``import sim`` loads no layer until a public name is used, and then only what it needs."""
    code = ("import sys, sim\n"
            "before = sorted(m for m in ('pandas', 'matplotlib', 'hydra') if m in sys.modules)\n"
            "sim.load_config\n"
            "after = sorted(m for m in ('pandas', 'matplotlib') if m in sys.modules)\n"
            "print(before, after)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=PACKAGE_DIR.parent)
    assert done.stdout.strip() == "[] []", done.stdout
