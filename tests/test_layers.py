"""The layers' direction: the report reads stored records, weights and study files, the store keeps them
and the models are what training trains; none of the three imports the trainer or an executor, so that
writing a report, reading a record or building a model can never train.

Read from the source, not by importing: every import statement of the project's own modules is followed,
transitively, wherever it sits (a function's import runs when the function does), so a layer is charged
with everything it could ever load of the project, and no interpreter starts."""

from __future__ import annotations

import ast
import functools
import sys
from pathlib import Path

import pytest

from benchmark.home import PROJECT_ROOT

TRAINING = ("benchmark.training", "benchmark.executors")
PROJECT_PACKAGES = ("benchmark", "summer", "baselines")


def source_of(module: str) -> Path | None:
    """The file of one of the project's modules or packages, None for anything else."""
    if module.split(".")[0] not in PROJECT_PACKAGES:
        return None
    path = PROJECT_ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def imported_by(module: str) -> frozenset[str]:
    """The project's modules that `module`'s import statements name, with the packages above each (whose
    `__init__` runs first); `from package import name` counts `package.name` when that is a module."""
    source = source_of(module)
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    named: set[str] = set()
    for node in statements(ast.parse(source.read_text(), str(source)).body):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            named.add(origin)
            named.update(f"{origin}.{alias.name}" for alias in node.names)
    with_parents = {".".join(name.split(".")[:i]) for name in named for i in range(1, name.count(".") + 2)}
    return frozenset(name for name in with_parents if source_of(name) is not None)


def statements(body: list[ast.stmt]):
    """Every statement in `body` and in the blocks nested in it (functions, classes, ifs, trys, ...);
    expressions hold no import statement, so they are not walked."""
    for node in body:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, None) or []:
                yield from statements(
                    child.body if isinstance(child, ast.excepthandler | ast.match_case) else [child]
                )


def modules_loaded_by(package: str) -> set[str]:
    """Every project module reachable from the package and each module directly in it."""
    folder = source_of(package).parent
    pending = [package, *(f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")]
    pending += [f"{package}.{p.parent.name}" for p in folder.glob("*/__init__.py")]
    loaded: set[str] = set()
    while pending:
        module = pending.pop()
        if module not in loaded:
            loaded.add(module)
            pending.extend(imported_by(module) - loaded)
    return loaded


def training_modules(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == t or m.startswith(t + ".") for t in TRAINING))


@pytest.mark.parametrize(
    ("package", "one_of_its_modules"),
    [
        ("benchmark.report", "benchmark.report.tables"),
        ("benchmark.store", "benchmark.store.runs"),
        ("benchmark.models", "benchmark.models.layers"),
    ],
)
def test_a_layer_below_training_imports_nothing_from_it(package, one_of_its_modules):
    loaded = modules_loaded_by(package)
    assert one_of_its_modules in loaded  # the probe did read the package's modules
    assert training_modules(loaded) == []


# Which layers each layer may import (docs/layers.md). Every top-level module of `benchmark/` is of the bottom
# layer; every other layer is a folder.
BOTTOM = "bottom"
BOTTOM_MODULES = (
    "errors",
    "console",
    "seeding",
    "registry",
    "home",
    "files",
    "stored",
    "variants",
    "metrics",
    "early_stopping",
)
ALLOWED_IMPORTS: dict[str, set[str]] = {
    BOTTOM: set(),
    "data": {BOTTOM},
    "models": {BOTTOM, "data"},
    "summer": {BOTTOM, "data", "models"},
    "baselines": {BOTTOM, "data", "models"},
    "experiment": {BOTTOM, "data", "models", "summer", "baselines"},
    "store": {BOTTOM, "data", "models"},
    "training": {BOTTOM, "data", "models", "experiment", "store"},
    "executors": {BOTTOM, "data", "models", "experiment", "store", "training"},
    "report": {BOTTOM, "data", "models", "experiment", "store"},
}
# commands/ and __main__ sit on top and may import every layer; scripts/ too.
TOP = {"commands", "__main__"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "benchmark":
        return parts[0]
    if len(parts) == 1 or parts[1] in BOTTOM_MODULES:
        return BOTTOM
    return parts[1]


def project_modules() -> list[str]:
    return sorted(
        ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
        for package in PROJECT_PACKAGES
        for path in (PROJECT_ROOT / package).rglob("*.py")
    )


def upward_imports(modules, imports=imported_by) -> list[str]:
    """`importer -> imported` for every import of a project module that its layer may not make."""
    found = []
    for module in modules:
        layer = layer_of(module)
        if layer in TOP:
            continue
        if layer not in ALLOWED_IMPORTS:
            found.append(f"{module}: layer {layer!r} is not in ALLOWED_IMPORTS (docs/layers.md)")
            continue
        for other in sorted(imports(module)):
            target = layer_of(other)
            if target != layer and target not in ALLOWED_IMPORTS[layer]:
                found.append(f"{module} -> {other}")
    return found


def test_every_module_of_every_package_imports_only_the_layers_below_it():
    modules = project_modules()
    assert {"summer.model", "baselines.mmgcn", "benchmark.data.utterances", "benchmark.report.claims"} <= set(
        modules
    )
    assert upward_imports(modules) == []


def test_the_layer_check_catches_a_rival_that_imports_summer():
    def with_summer(module: str) -> frozenset[str]:
        return imported_by(module) | {"summer.model"}

    assert upward_imports(["baselines.mmgcn"]) == []
    assert upward_imports(["baselines.mmgcn"], imports=with_summer) == ["baselines.mmgcn -> summer.model"]
    assert layer_of("benchmark.variants") == BOTTOM and layer_of("benchmark.report.claims") == "report"


def script_imports(path: Path) -> set[str]:
    named = set()
    for node in statements(ast.parse(path.read_text(), str(path)).body):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named.add(node.module)
    return {name for name in named if name.split(".")[0] in {*PROJECT_PACKAGES, "scripts", "tests"}}


def test_scripts_sit_on_top_and_nothing_imports_them():
    scripts = sorted((PROJECT_ROOT / "scripts").rglob("*.py"))
    assert scripts
    assert {
        f"{path.relative_to(PROJECT_ROOT)}: {name}"
        for path in scripts
        for name in script_imports(path)
        if name.split(".")[0] == "tests"
    } == set()
    package_files = [path for package in PROJECT_PACKAGES for path in (PROJECT_ROOT / package).rglob("*.py")]
    assert {
        f"{path.relative_to(PROJECT_ROOT)}: {name}"
        for path in package_files
        for name in script_imports(path)
        if name.split(".")[0] in {"scripts", "tests"}
    } == set()


def test_the_probe_sees_the_trainer_where_it_is_imported():
    assert "benchmark.training.runner" in training_modules(modules_loaded_by("benchmark.executors"))


def test_the_probe_follows_imports_inside_functions_and_names_the_packages_above():
    assert "benchmark.executors.ray_cluster" in imported_by("benchmark.executors.sweep")  # in run_sweep
    assert "benchmark.training" in imported_by("benchmark.executors.processes")


def test_the_probe_resolves_relative_imports(tmp_path, monkeypatch):
    layer = tmp_path / "benchmark" / "layer"
    layer.mkdir(parents=True)
    for path in (
        tmp_path / "benchmark" / "__init__.py",
        layer / "__init__.py",
        tmp_path / "benchmark" / "trainer.py",
    ):
        path.write_text("")
    (layer / "reader.py").write_text(
        "def read():\n    from ..trainer import train\n    from . import other\n"
    )
    (layer / "other.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PROJECT_ROOT", tmp_path)
    imported_by.cache_clear()
    try:
        assert {"benchmark.trainer", "benchmark.layer.other"} <= modules_loaded_by("benchmark.layer")
    finally:
        imported_by.cache_clear()
