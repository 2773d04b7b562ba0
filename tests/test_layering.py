"""The arrows of the design stay honest: only engine/ imports SpiffWorkflow; engine/ and forms/ stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "forms", "workflows", "kitas", "bench", "tests")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            if not node.module:  # "from . import audit": each name is a module of the package
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _python_files(*folders: str) -> list[Path]:
    files = [ROOT / "app.py"] if "app" in folders else []
    for folder in folders:
        if (ROOT / folder).is_dir():
            files.extend(sorted((ROOT / folder).rglob("*.py")))
    return files


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", _python_files("app", *PACKAGES), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_engine_imports_spiffworkflow(path: Path) -> None:
    if path.is_relative_to(ROOT / "engine"):
        return
    allowed_in_tests = path.is_relative_to(ROOT / "tests" / "engine") or path.is_relative_to(ROOT / "bench")
    spiff = {name for name in _imports(path) if _top(name) == "SpiffWorkflow"}
    assert not spiff or allowed_in_tests, f"{path.name} imports {spiff}: only engine/ may"


@pytest.mark.parametrize("path", _python_files("engine", "forms"), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_and_forms_are_framework_free(path: Path) -> None:
    forbidden = {"flask", "flask_sqlalchemy", "flask_login", "sqlalchemy", "kitas", "workflows", "app"}
    package = path.relative_to(ROOT).parts[0]
    forbidden |= {"engine", "forms"} - {package}
    bad = {name for name in _imports(path) if _top(name) in forbidden}
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize(
    "path", _python_files("app", "engine", "forms", "workflows", "kitas"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_nothing_imports_the_web_layer(path: Path) -> None:
    if path.is_relative_to(ROOT / "kitas" / "web") or path.name == "app.py":
        return
    assert not {n for n in _imports(path) if n.startswith("kitas.web")}, f"{path.name} imports kitas.web"


@pytest.mark.parametrize(
    "path", _python_files("kitas/adapters", "kitas/models"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_adapters_and_models_do_not_reach_up_into_services(path: Path) -> None:
    bad = {n for n in _imports(path) if n.startswith(("kitas.services", "kitas.web", "kitas.jobs"))}
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_layering_check_sees_real_imports() -> None:
    assert "SpiffWorkflow.bpmn" in _imports(ROOT / "engine" / "runtime.py")
    assert "kitas.services.documents" in _imports(ROOT / "kitas" / "services" / "cases" / "taskforms.py")
    assert "kitas.extensions" in _imports(ROOT / "kitas" / "services" / "cases" / "lifecycle.py")
    assert _python_files("engine") and _python_files("kitas")


def _imported(path: Path) -> set[str]:
    """Every module a file imports and every name it takes from one (``kitas.extensions.db``), resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _commits(path: Path) -> list[int]:
    """Lines that call ``.commit()`` on anything."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


@pytest.mark.parametrize("path", _python_files("kitas/adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_never_touch_models_or_transactions(path: Path) -> None:
    forbidden = ("kitas.models", "kitas.transactions", "kitas.extensions.db")
    bad = {n for n in _imported(path) if any(n == f or n.startswith(f + ".") for f in forbidden)}
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: adapters do I/O, services write rows"
    assert not _commits(path), f"{path.relative_to(ROOT)} commits on lines {_commits(path)}: only services commit"


@pytest.mark.parametrize("path", _python_files("kitas/services/payments"), ids=lambda p: str(p.relative_to(ROOT)))
def test_payments_reach_the_provider_only_through_the_gateway_interface(path: Path) -> None:
    adapters = {n.split(".")[2] for n in _imported(path) if n.startswith("kitas.adapters.")}
    assert adapters <= {"payments"}, f"{path.relative_to(ROOT)} imports kitas.adapters.{adapters - {'payments'}}"
    simulated = {n for n in _imported(path) if n.startswith("kitas.services.sandbox_bank")}
    assert not simulated, f"{path.relative_to(ROOT)} reaches into the simulated provider: {simulated}"


def test_the_adapter_and_payment_checks_see_real_imports_and_commits() -> None:
    outbox = _imported(ROOT / "kitas" / "services" / "notifications" / "outbox.py")
    assert "kitas.adapters.mail.Mailer" in outbox and "kitas.extensions.db" in outbox
    assert "kitas.adapters.payments" in _imported(ROOT / "kitas" / "services" / "payments" / "billing.py")
    assert _commits(ROOT / "kitas" / "transactions.py")
    assert _python_files("kitas/adapters") and _python_files("kitas/services/payments")
