"""Deploy from the files of a checkout: a diagram with the decision tables beside it and the forms it names
(plain names inside the forms folder: a name with a path is refused), the shared steps first, extra types."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine import (
    DiagramError,
    called_elements,
    decode_bpmn,
    named_forms,
    parse_process,
    plain_file_name,
)

from ...models import User
from ..errors import DeploymentRefused
from .versions import SHARED_DIR, TRANSLATED, DeployResult, deploy, texts_file


def collect_files(bpmn_path: Path, forms_dir: Path) -> tuple[str, dict[str, str]]:
    """Read a diagram and the files it needs: every decision table beside it (a shared step also those
    of the folder above), its forms (those of the shared steps it calls included, found in
    ``shared/`` beside it), and the translations beside the diagram and beside each form.

    Diagrams and decision tables are read as their XML declaration says (Latin-1 bytes in a file that
    says UTF-8 are forgiven); a file that cannot be read, and a form name that is not a plain file name
    (``../secret.json``), are refused naming it. The shared steps themselves are not among the files:
    deployment bundles their deployed versions."""
    if not bpmn_path.is_file():
        raise DeploymentRefused([(str(bpmn_path.name), "the diagram file does not exist")])
    bpmn = _read_xml(bpmn_path)
    folders = [bpmn_path.parent]
    if bpmn_path.parent.name == SHARED_DIR:
        folders.append(bpmn_path.parent.parent)
    files: dict[str, str] = {}
    for folder in reversed(folders):  # the diagram's own folder wins
        files.update({p.name: _read_xml(p) for p in sorted(folder.glob("*.dmn"))})
    for language in TRANSLATED:
        texts = bpmn_path.with_name(texts_file(bpmn_path.name, language))
        if texts.is_file():
            files[texts.name] = _read_text(texts)
    decisions = {n: t for n, t in files.items() if n.endswith(".dmn")}
    called = _called_on_disk(bpmn, bpmn_path)
    for name in sorted(_referenced_forms(bpmn, decisions, called)):
        if not plain_file_name(name):
            continue  # refused by the engine, naming the task; never read from outside the forms folder
        for file_name in (name, *(texts_file(name, language) for language in TRANSLATED)):
            path = forms_dir / file_name
            if path.is_file():
                files[file_name] = _read_text(path)
    return bpmn, files


def _read_xml(path: Path) -> str:
    """A diagram or decision table file's text, decoded as its XML declaration says."""
    try:
        return decode_bpmn(path.read_bytes())
    except DiagramError as exc:
        raise DeploymentRefused([(path.name, why) for _element, why in exc.problems]) from exc
    except OSError as exc:
        raise DeploymentRefused([(path.name, f"the file cannot be read: {exc.strerror or exc}")]) from exc


def _read_text(path: Path) -> str:
    """A form or translations file's text (UTF-8), refused naming the file when it is not."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DeploymentRefused(
            [(path.name, f"the file is not UTF-8 text (byte {exc.start + 1} cannot be read); save it as UTF-8")]
        ) from exc
    except OSError as exc:
        raise DeploymentRefused([(path.name, f"the file cannot be read: {exc.strerror or exc}")]) from exc


def _called_on_disk(bpmn: str, bpmn_path: Path) -> dict[str, str]:
    """The diagrams of the processes a diagram calls, read from the shared steps' folder (recursively)."""
    shared = bpmn_path.parent if bpmn_path.parent.name == SHARED_DIR else bpmn_path.parent / SHARED_DIR
    found: dict[str, str] = {}
    try:
        wanted = list(called_elements(bpmn).values())
    except DiagramError:
        return found
    while wanted:
        process_id = wanted.pop()
        path = shared / f"{process_id}.bpmn"
        if process_id in found or not plain_file_name(f"{process_id}.bpmn") or not path.is_file():
            continue
        found[process_id] = _read_xml(path)
        try:
            wanted.extend(called_elements(found[process_id]).values())
        except DiagramError:
            continue
    return found


def _referenced_forms(bpmn: str, decisions: dict[str, str], called: dict[str, str]) -> set[str]:
    try:
        model = parse_process(bpmn, decisions, called=called, validate_schema=False, require_lanes=False)
    except DiagramError:
        # The real deployment reports the problem; the forms its own user tasks name are still read
        # (a diagram whose shared steps are not beside it takes theirs from their deployed versions).
        return named_forms(bpmn)
    return model.form_files()


def deploy_path(
    bpmn_path: Path,
    forms_dir: Path,
    deployed_by: User | None = None,
    actor: str = "cli",
    *,
    process_id: str | None = None,
) -> DeployResult:
    """Deploy a diagram file with the decision tables beside it and the forms it references."""
    bpmn, files = collect_files(bpmn_path, forms_dir)
    return deploy(bpmn, files, deployed_by, actor, process_id=process_id)


def deploy_all(bpmn_dir: Path, forms_dir: Path, actor: str = "cli") -> list[DeployResult]:
    """Deploy the shared steps under ``bpmn_dir/shared`` first, then every diagram under ``bpmn_dir``
    (already-deployed content is left as it is)."""
    paths = [*sorted((bpmn_dir / SHARED_DIR).glob("*.bpmn")), *sorted(bpmn_dir.glob("*.bpmn"))]
    return [deploy_path(path, forms_dir, actor=actor) for path in paths]


def deploy_extra_types(folders: Sequence[Path], actor: str = "cli") -> list[DeployResult]:
    """Deploy the diagrams of each folder of further KITAS types (``KITAS_EXTRA_TYPES``): the diagrams
    beside its ``kitas_types.json``, their forms in its ``forms/`` (README, "Adding a KITAS type")."""
    return [
        deploy_path(path, folder / "forms", actor=actor) for folder in folders for path in sorted(folder.glob("*.bpmn"))
    ]
