"""The arrows of the design stay honest: only engine/ imports SpiffWorkflow; engine/ and forms/ stay pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "forms", "workflows", "kitas", "bench", "tests")


def _import_names(path: Path, *, taken: bool = False, runtime_only: bool = False) -> set[str]:
    """Every module a file imports, relative imports resolved to absolute names.

    ``taken`` adds every name taken from a module (``kitas.extensions.db``); ``runtime_only`` leaves
    out the imports under ``if TYPE_CHECKING:`` (type hints only).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                node.body = []
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            names.add(module)
            if taken or not node.module:  # "from . import audit": each name is a module of the package
                names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _imports(path: Path) -> set[str]:
    """The modules a file imports."""
    return _import_names(path)


def _imported(path: Path) -> set[str]:
    """The modules a file imports and every name it takes from one."""
    return _import_names(path, taken=True)


def _runtime_imports(path: Path) -> set[str]:
    """Like ``_imported``, without the imports under ``if TYPE_CHECKING:``."""
    return _import_names(path, taken=True, runtime_only=True)


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


@pytest.mark.parametrize("path", _python_files("kitas/services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_hand_out_messages_and_translate_nothing_themselves(path: Path) -> None:
    # Services write Message objects (and e-mail template names with parameters); the words in a
    # language come from kitas.i18n at the edge. The outbox, which writes e-mails when it sends them,
    # is handed kitas.i18n's functions by the application (notifications.use_localizer in app.py).
    bad = {n for n in _imports(path) if _top(n) == "flask_babel" or n == "kitas.i18n" or n.startswith("kitas.i18n.")}
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: services hand out Messages, the edge translates"


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


# What a page may use besides services: whole modules (prefixes) and single names of the extensions.
_WEB_MODULES = ("kitas.services", "kitas.web", "kitas.i18n", "kitas.money")
_WEB_NAMES = (
    "kitas.extensions",
    "kitas.extensions.login_manager",
    "kitas.extensions.csrf",
    "kitas.extensions.app_clock",
)


def _outside(names: set[str], modules: tuple[str, ...], exact: tuple[str, ...] = ()) -> set[str]:
    """The project names in ``names`` that are neither inside one of ``modules`` nor one of ``exact``."""
    return {
        n
        for n in names
        if _top(n) == "kitas"
        and n != "kitas"
        and n not in exact
        and not any(n == m or n.startswith(m + ".") for m in modules)
    }


@pytest.mark.parametrize("path", _python_files("kitas/web"), ids=lambda p: str(p.relative_to(ROOT)))
def test_web_imports_services_only(path: Path) -> None:
    names = _runtime_imports(path)
    bad = _outside(names, _WEB_MODULES, _WEB_NAMES) | {
        n for n in names if _top(n) in {"workflows", "engine", "forms", "sqlalchemy"}
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: pages call services, services do the rest"


@pytest.mark.parametrize("path", _python_files("kitas/jobs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_jobs_import_services_only(path: Path) -> None:
    names = _runtime_imports(path)
    bad = _outside(names, ("kitas.services", "kitas.jobs"), ("kitas.extensions", "kitas.extensions.db"))
    bad |= {n for n in names if _top(n) in {"workflows", "engine", "forms", "sqlalchemy"}}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: jobs run services"


def _capability(path_or_module: str) -> str | None:
    parts = path_or_module.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["kitas", "services"] else None


@pytest.mark.parametrize("path", _python_files("kitas/services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_private_names_stay_inside_their_capability(path: Path) -> None:
    here = _capability(".".join(path.relative_to(ROOT).with_suffix("").parts))
    borrowed = {
        n
        for n in _imported(path)
        if n.rsplit(".", 1)[-1].startswith("_")
        and not n.rsplit(".", 1)[-1].startswith("__")
        and _capability(n) not in (None, here)
    }
    assert not borrowed, f"{path.relative_to(ROOT)} uses private names of another capability: {sorted(borrowed)}"


def test_the_web_and_jobs_checks_see_real_imports() -> None:
    routes = _runtime_imports(ROOT / "kitas" / "web" / "applicant" / "routes.py")
    assert "kitas.services.cases" in routes
    assert "kitas.models.User" in _imported(ROOT / "kitas" / "web" / "access.py")
    assert "kitas.models.User" not in _runtime_imports(ROOT / "kitas" / "web" / "access.py")
    assert _outside({"kitas.models.User", "kitas.extensions.db", "kitas.services.cases"}, _WEB_MODULES, _WEB_NAMES) == {
        "kitas.models.User",
        "kitas.extensions.db",
    }
    assert "kitas.services.cases.timers.fire_due_timers" in _runtime_imports(ROOT / "kitas" / "jobs" / "scheduler.py")
    assert _capability("kitas.services.audit.chain._digest") == "audit" and _capability("kitas.models") is None


def _imports_the_extensions_module(path: Path) -> bool:
    """True when a file takes ``kitas.extensions`` as a module (``from kitas import extensions``), which
    would let it reach ``extensions.db`` past the name-by-name checks."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name == "kitas.extensions" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            if module == "kitas" and any(alias.name == "extensions" for alias in node.names):
                return True
    return False


@pytest.mark.parametrize(
    "path", _python_files("kitas/web", "kitas/jobs", "kitas/adapters"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_extensions_are_taken_name_by_name(path: Path) -> None:
    assert not _imports_the_extensions_module(path), f"{path.relative_to(ROOT)} imports kitas.extensions whole"


@pytest.mark.parametrize("path", _python_files("kitas/web", "kitas/jobs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_and_jobs_use_no_private_names_of_services(path: Path) -> None:
    borrowed = {
        n
        for n in _imported(path)
        if _capability(n) is not None
        and any(part.startswith("_") and not part.startswith("__") for part in n.split("."))
    }
    assert not borrowed, f"{path.relative_to(ROOT)} uses private names of services: {sorted(borrowed)}"


@pytest.mark.parametrize("path", _python_files("kitas/services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_sandbox_bank_uses_the_sandbox_provider_adapters(path: Path) -> None:
    if path.is_relative_to(ROOT / "kitas" / "services" / "sandbox_bank"):
        return
    sandbox = {
        n
        for n in _imported(path)
        if n.startswith(("kitas.adapters.sandbox_provider", "kitas.adapters.sandbox_webhooks"))
    }
    assert not sandbox, (
        f"{path.relative_to(ROOT)} imports {sorted(sandbox)}: providers are reached through PaymentGateway"
    )


def test_scheduled_jobs_are_services() -> None:
    from kitas.jobs import scheduler

    targets = [target for _, target in (*scheduler.OUTBOX_JOBS, *scheduler.SANDBOX_JOBS)]
    assert targets and all(t.startswith("kitas.services.") for t in targets), targets


# What only the case unit of work may do to a case; audit/chain.py's own head update of a case row (for rows
# audited outside a step) is the one documented exception.
_CASE_KERNEL = {
    "CaseRuntime.restore(": {"kitas/services/cases/unit_of_work.py"},
    "with_for_update(of=Application)": {"kitas/services/cases/unit_of_work.py", "kitas/services/audit/chain.py"},
    "update(Application": {"kitas/services/cases/unit_of_work.py", "kitas/services/audit/chain.py"},
}


@pytest.mark.parametrize("marker", sorted(_CASE_KERNEL))
def test_nothing_else_locks_restores_or_saves_a_case(marker: str) -> None:
    users = {
        str(path.relative_to(ROOT))
        for path in _python_files("kitas", "app")
        if marker in path.read_text(encoding="utf-8")
    }
    assert users, f"nothing contains {marker!r}: the check looks for the wrong text"
    assert users <= _CASE_KERNEL[marker], f"{marker!r} outside the unit of work: {sorted(users - _CASE_KERNEL[marker])}"
