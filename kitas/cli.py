"""The ``kitas`` command: init, demo, demo-code, deploy, lint, serve, scheduler, sweep-files, offices sync and
backfill, audit verify and seal."""

from __future__ import annotations

import getpass
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

if TYPE_CHECKING:
    from kitas.services.deployments import DeployResult


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _echo_callers(result: DeployResult) -> None:
    """The processes a new version of a shared step deployed again (they call it)."""
    for caller in result.callers:
        if caller.created:
            click.echo(f"{caller.process_id}: deployed as version {caller.version} (with {caller.because})")


def register_commands(app: Flask) -> None:
    """Attach the project's commands to the Flask CLI."""

    @app.cli.command("init")
    @with_appcontext
    def init_command() -> None:
        """Create or upgrade the database and deploy every diagram under bpmn/ and of KITAS_EXTRA_TYPES."""
        from flask_migrate import upgrade

        from kitas.services.accounts.roles import ensure_roles
        from kitas.services.deployments import deploy_all, deploy_extra_types
        from kitas.services.errors import DeploymentRefused

        upgrade()
        ensure_roles()
        try:
            results = deploy_all(Path(app.config["KITAS_BPMN_DIR"]), Path(app.config["KITAS_FORMS_DIR"]), _actor())
            extra = [Path(folder) for folder in app.config["KITAS_EXTRA_TYPES"]]
            results += deploy_extra_types(extra, _actor())
        except DeploymentRefused as exc:
            _refused(exc)
        for result in results:
            state = "deployed as" if result.created else "unchanged, still"
            click.echo(f"{result.process_id}: {state} version {result.version}")
            _echo_callers(result)
        _sync_offices()
        _backfill_offices()

    @app.cli.command("demo")
    @click.option("--reset", is_flag=True, help="Give every demo account a new password (and officers a new app).")
    @with_appcontext
    def demo_command(reset: bool) -> None:
        """Create one demo account per role and print how to sign in (the same passwords unless --reset)."""
        from kitas.services.accounts.demo import PASSWORDS_FILE, ensure_demo_accounts

        accounts = ensure_demo_accounts(reset=reset)
        where = Path(app.instance_path) / PASSWORDS_FILE
        click.echo(f"Demo accounts (passwords kept in {where}; 'kitas demo --reset' gives new ones):")
        for account in accounts:
            click.echo(f"  {account.role:<11} {account.email:<26} password: {account.password}")
        officers = [account for account in accounts if account.totp_secret]
        if officers:
            click.echo("Officers also enter a 6-digit code after the password. Without a phone, print it with")
            click.echo(f"  {_this_command()} demo-code {officers[0].email}")
            click.echo("or add the account to an authenticator app with its key:")
            for account in officers:
                click.echo(f"  {account.email:<26} key: {account.totp_secret}")

    @app.cli.command("demo-code")
    @click.argument("email")
    @with_appcontext
    def demo_code_command(email: str) -> None:
        """Print the code a demo officer's authenticator app would show now."""
        from kitas.services.accounts.demo import demo_code
        from kitas.services.errors import ServiceError

        try:
            found = demo_code(email)
        except ServiceError as exc:
            click.echo(f"no code: {exc}", err=True)
            sys.exit(1)
        click.echo(found.code)
        click.echo(f"(valid for another {found.seconds_left} s; each code signs in once)", err=True)

    @app.cli.command("deploy")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--process", "process_id", default=None, help="The process to deploy, when the file defines several.")
    @with_appcontext
    def deploy_command(path: Path, process_id: str | None) -> None:
        """Deploy a new version of one diagram (its forms come from the forms folder). A file that cannot be
        read or deployed is refused with every problem named by its element, never a traceback."""
        from kitas.services.deployments import deploy_path
        from kitas.services.errors import DeploymentRefused

        try:
            # A diagram of a KITAS_EXTRA_TYPES folder has its forms in forms/ beside it.
            own_forms = path.parent / "forms"
            forms_dir = own_forms if own_forms.is_dir() else Path(app.config["KITAS_FORMS_DIR"])
            result = deploy_path(path, forms_dir, actor=_actor(), process_id=process_id)
        except DeploymentRefused as exc:
            _refused(exc)
        if result.created:
            click.echo(f"{result.process_id}: deployed as version {result.version}")
            _echo_callers(result)
        else:
            click.echo(f"{result.process_id}: identical to version {result.version}; nothing deployed")

    @app.cli.command("lint")
    @click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    @click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
    @click.option(
        "--forms",
        "forms_dir",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=None,
        help="The folder of the forms the diagrams name (default: forms/ beside a diagram, else KITAS_FORMS_DIR).",
    )
    @click.option("--language", type=click.Choice(["en", "id"]), default="en", show_default=True)
    @with_appcontext
    def lint_command(paths: tuple[Path, ...], output: str, forms_dir: Path | None, language: str) -> None:
        """Lint diagrams (files, or folders of .bpmn files): whether each imports, whether it can be deployed,
        and every problem by element. Exits 1 when any cannot be deployed. Needs no database: without one,
        calls resolve to the shared steps in shared/ beside a diagram instead of the deployed versions."""
        import json

        from kitas.i18n import in_language, translate
        from kitas.services.studio.lint import lint_path

        diagrams = [found for path in paths for found in (sorted(path.rglob("*.bpmn")) if path.is_dir() else [path])]
        with in_language(language):
            reports = [(path, lint_path(path, forms_dir).as_json(translate)) for path in diagrams]
        if output == "json":
            click.echo(
                json.dumps([{"file": str(path), **report} for path, report in reports], ensure_ascii=False, indent=2)
            )
        else:
            for path, report in reports:
                _echo_lint(path, report)
        if not diagrams:
            click.echo("no .bpmn file found", err=True)
        sys.exit(1 if any(not report["deployable"] for _path, report in reports) else 0)

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @with_appcontext
    def serve_command(host: str, port: int) -> None:
        """Serve the application; on the embedded default the scheduler runs inside this process."""
        from kitas.jobs.scheduler import start_background
        from kitas.services.public_address import served_address

        # Without KITAS_PUBLIC_URL, links and callbacks go to the address actually served on.
        app.config["KITAS_SERVED_URL"] = served_address(host, port)
        scheduler = start_background(app) if app.config["KITAS_EMBEDDED_SCHEDULER"] else None
        click.echo(f"KITAS Online on http://{host}:{port}/ (scheduler: {'embedded' if scheduler else 'separate'})")
        try:
            # app.run() refuses to run inside a CLI command; the same development server, called directly.
            from werkzeug.serving import run_simple

            run_simple(host, port, app, threaded=True, use_reloader=False)
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    @app.cli.command("scheduler")
    @with_appcontext
    def scheduler_command() -> None:
        """Run the scheduler process that fires due timers (Ctrl+C stops it)."""
        from kitas.jobs.scheduler import run_blocking

        run_blocking(app)

    @app.cli.command("sweep-files")
    @click.option(
        "--grace-minutes",
        type=click.FloatRange(min=10),
        default=None,
        help="Only files older than this (default KITAS_SWEEP_GRACE_MINUTES, at least 10).",
    )
    @click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
    @with_appcontext
    def sweep_files_command(grace_minutes: float | None, dry_run: bool) -> None:
        """Remove stored files that no document row names (what a crash left), older than the grace period."""
        from datetime import timedelta

        from kitas.services.documents import sweep_orphan_files

        grace = timedelta(minutes=grace_minutes) if grace_minutes is not None else None
        report = sweep_orphan_files(grace=grace, dry_run=dry_run)
        verb = "would remove" if dry_run else "removed"
        for key in report.removed:
            click.echo(f"  {verb} {key}")
        click.echo(
            f"{report.store}: {report.scanned} files, {report.kept} with a document row, "
            f"{report.too_recent} too recent to judge, {verb} {len(report.removed)} without a row"
            + (f", {len(report.failed)} could not be removed" if report.failed else "")
            + (f", {report.abandoned_writes} unfinished writes removed" if report.abandoned_writes else "")
        )
        if report.failed:
            sys.exit(1)

    @app.cli.command("inbox-backfill")
    @with_appcontext
    def inbox_backfill_command() -> None:
        """Fill the inbox's search columns (name, passport number) of open cases saved before 0014_inbox."""
        from kitas.services.cases.unit_of_work import backfill_search_columns

        click.echo(f"{backfill_search_columns()} open cases filled")

    offices_group = click.Group("offices", help="The immigration offices of workflows/offices.json.")

    @offices_group.command("sync")
    @with_appcontext
    def offices_sync() -> None:
        """Make the office table equal the offices file (refused, naming each problem, when it is wrong)."""
        _sync_offices()

    app.cli.add_command(offices_group)

    @app.cli.command("offices-backfill")
    @with_appcontext
    def offices_backfill_command() -> None:
        """Give cases without an office their province's office (else the default one), and their tasks too."""
        _backfill_offices()

    audit_group = click.Group("audit", help="Inspect the audit trail.")

    @audit_group.command("verify")
    @with_appcontext
    def audit_verify() -> None:
        """Recompute every audit hash chain and the seals over them; report the first broken link."""
        from kitas.services.audit import verify_chain

        report = verify_chain()
        if report.ok:
            click.echo(f"audit chain intact: {report.rows} rows in {report.chains} chains, {report.seals} seals")
            return
        click.echo(f"audit chain BROKEN at row {report.broken_at} of chain {report.chain}: {report.problem}", err=True)
        sys.exit(1)

    @audit_group.command("seal")
    @with_appcontext
    def audit_seal() -> None:
        """Seal the heads of every audit chain that moved since the last seal (the scheduler does it too)."""
        from kitas.services.audit import seal_chains

        click.echo(f"sealed {seal_chains()} chain heads")

    app.cli.add_command(audit_group)


def _echo_lint(path: Path, report: dict[str, Any]) -> None:
    """One diagram's lint for people: a line saying whether it imports and deploys, then each problem."""
    problems = report["problems"]
    errors = sum(1 for p in problems if p["severity"] == "error")
    if not report["imports"]:
        verdict = "does not import"
    elif report["deployable"]:
        verdict = "imports, can be deployed"
    else:
        verdict = "imports, cannot be deployed"
    counts = f"{errors} errors, {len(problems) - errors} warnings"
    click.echo(f"{path}: {report['process_id'] or '(no process)'} {verdict} ({counts})")
    for problem in problems:
        click.echo(f"  {problem['severity']:<7} {problem['element']} [{problem['rule']}] {problem['message']}")


def _sync_offices() -> None:
    from kitas.services.offices.data import OfficesFileRefused
    from kitas.services.offices.directory import offices_file_path, sync_offices

    try:
        report = sync_offices()
    except OfficesFileRefused as exc:
        click.echo(f"offices file refused ({offices_file_path()}):", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    changes = [
        f"{label} {', '.join(codes)}"
        for label, codes in (("added", report.created), ("updated", report.updated), ("closed", report.deactivated))
        if codes
    ]
    click.echo(f"offices: {'; '.join(changes) if changes else 'unchanged'} ({report.unchanged} unchanged)")


def _backfill_offices() -> None:
    from kitas.services.offices.backfill import backfill_offices

    report = backfill_offices(_actor())
    click.echo(f"offices: {report.cases} cases and {report.tasks} tasks given an office")


def _refused(exc: Exception) -> None:
    problems = getattr(exc, "problems", [])
    click.echo("deployment refused:", err=True)
    for element, message in problems:
        click.echo(f"  {element}: {message}", err=True)
    sys.exit(1)


def _create_app() -> Flask:
    from app import create_app
    from kitas.config import ConfigurationError

    try:
        return create_app()
    except ConfigurationError as exc:
        # A refusal to start is a sentence for the operator, not a traceback.
        click.echo(f"KITAS Online cannot start: {exc}", err=True)
        sys.exit(2)


def command_group() -> FlaskGroup:
    """The ``kitas`` command group (the application is created from the environment when a command runs)."""
    return FlaskGroup(
        create_app=_create_app,
        add_default_commands=True,
        add_version_option=False,
        help="KITAS Online: permit applications driven by BPMN.",
    )


def main() -> None:
    """Entry point of the ``kitas`` console script."""
    command_group().main(prog_name="kitas")


def _this_command() -> str:
    """How to call this ``kitas`` again from here: as typed when it is on PATH, else its path (.venv/bin/kitas)."""
    program = Path(sys.argv[0])
    found = shutil.which("kitas")
    if program.name != "kitas" or (found is not None and Path(found).resolve() == program.resolve()):
        return "kitas"
    try:
        return str(program.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(program)
