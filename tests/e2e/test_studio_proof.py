"""The studio's proof (issue 12), one journey through the pages of a live server in a real browser:

1. Analyst A (password and app code) imports a Camunda 7 diagram, sees its problems on the elements and in the
   list, gives its lanes known names and its approval task a form (made in the form editor, picked in the
   properties panel); the autosaved draft's problems go away.
2. A opens the worker's draft, adds a field to the applicant's form (both languages, live preview, sample data
   checked), changes a fee in the shared payment step's table (where the worker's editor sends her) and tests
   it, tries the worker draft as the applicant in the sandbox, and proposes it with a comment.
3. Analyst B reviews the difference (the added field) and approves: version 2 of the worker is deployed.
4. A worker case started before the approval stays on version 1; a case started after it shows the new field.
5. A verifier of the cases' office sees each on its diagram, with its own version.

Runs on SQLite and on PostgreSQL (KITAS_TEST_POSTGRES_URL), like every browser test. The fee change stays in
the shared step's draft (it is tested, not deployed): deploying it is another four-eyes review of its own.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.studio import VENDOR_NOISE, console_problems, diagram, new_analyst, open_draft_of, wait_until_drawn
from tests.e2e.test_worker_journey import (
    Person,
    expect,
    sign_in,
    sign_out,
    staff,
    start_worker_application,
    type_applicant_data,
)
from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

FOREIGN = Path(__file__).resolve().parent.parent / "data" / "foreign" / "camunda7_leave_request.bpmn"
WORKER_FORM = "worker-applicant-data.schema.json"
NEW_FORM = "leave-approval.schema.json"
# A refused input answers 422 (the page says why beside the field); the browser logs the status too.
REFUSED = "Failed to load resource: the server responded with a status of 422"


class Journey:
    """What the steps hand on to each other."""

    def __init__(self) -> None:
        self.proposal_url = ""
        self.trial_reference = ""


@pytest.fixture(scope="module")
def journey() -> Journey:
    return Journey()


@pytest.fixture(scope="module")
def analysts(live_server: LiveServer) -> tuple[Person, Person]:
    """Analyst A, who builds and proposes, and analyst B, who reviews; each with an app of their own."""
    return new_analyst(live_server, "Alma Analyst"), new_analyst(live_server, "Bima Analyst")


@pytest.fixture(scope="module")
def applicant(live_server: LiveServer) -> Person:
    """An applicant with a confirmed account (the registration pages have their own journey test)."""
    from kitas.extensions import db
    from kitas.services.accounts import create_account

    person = Person(f"ana.{secrets.token_hex(3)}@example.org", "Kopi-Tubruk-" + secrets.token_hex(4), "Ana Lima")
    with live_server.app.app_context():
        create_account(person.email, person.name, person.password, ["applicant"], verified=True, language="en")
        db.session.remove()
    return person


@pytest.fixture(scope="module")
def old_case(live_server: LiveServer, applicant: Person) -> str:
    """A worker case started (and its first form filled in) on version 1, before any studio change; its
    register number. Started through the services, in the cases' office (the default one)."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import Application, User
    from kitas.services import cases
    from tests.services.helpers import complete

    with live_server.app.app_context():
        user = db.session.scalars(select(User).where(User.email == applicant.email)).one()
        application = cases.start_case("worker", user)
        complete(application.id, "applicant_data", user)
        reference = db.session.scalars(select(Application.reference).where(Application.id == application.id)).one()
        db.session.remove()
    return reference


def _version_of(server: LiveServer, reference: str) -> int:
    """The version of the worker diagram a case runs on (what it was started on)."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import Application, ProcessDefinition

    with server.app.app_context():
        version = db.session.scalars(
            select(ProcessDefinition.version)
            .join(Application, Application.definition_id == ProcessDefinition.id)
            .where(Application.reference == reference)
        ).one()
        db.session.remove()
    return int(version)


def _problem(page: Any, element: str, rule: str | None = None) -> Any:
    """The element's rows in the list of problems (of one rule)."""
    selector = f'[data-element="{element}"]' + (f'[data-rule="{rule}"]' if rule else "")
    return page.get_by_test_id("problems").locator(selector)


def _pick_in_panel(page: Any, element: str, rule: str, label: str, value: str) -> str:
    """Select an element from its problem in the list, then choose ``value`` in the panel's select ``label``.
    Returns the draft's revision before the change."""
    revision = page.locator("[data-revision-label]").inner_text()
    _problem(page, element, rule).get_by_role("button").click()
    expect(page.locator(f'g.djs-shape[data-element-id="{element}"]')).to_have_class(re.compile("selected"))
    page.get_by_test_id("properties").get_by_label(label, exact=True).select_option(value)
    return revision


def _autosaved(page: Any, words: Words, revision: str) -> None:
    """The change made on ``revision`` is saved without pressing anything (a few seconds later): a new revision."""
    expect(page.locator("[data-revision-label]")).not_to_have_text(revision)
    expect(page.get_by_test_id("save-status")).to_contain_text(words("Saved at %(time)s").split("%")[0].strip())


def test_1_an_analyst_imports_a_foreign_diagram_and_fixes_its_problems_in_the_modeler(
    browser_context: Any, words: Words, analysts: tuple[Person, Person], old_case: str
) -> None:
    page = browser_context.new_page()
    problems = console_problems(page, VENDOR_NOISE + (REFUSED,))
    page.goto("/")
    sign_in(page, words, analysts[0])
    page.goto("/studio/")
    page.get_by_label(words("Diagram file (.bpmn or .xml, at most 2 MB)")).set_input_files(str(FOREIGN))
    page.get_by_role("button", name=words("Import as a draft")).click()
    expect(page.get_by_text(words("The diagram was imported as a draft."))).to_be_visible()
    wait_until_drawn(page)
    draft_url = page.url
    expect(page.get_by_test_id("process-id")).to_have_text("leave_request")
    expect(page.get_by_test_id("draft-meta")).to_contain_text("camunda7_leave_request.bpmn")

    # The lanes Camunda named in lower case map to no role: errors, on the lanes and in the list.
    expect(page.get_by_test_id("lint-summary")).to_have_text("Cannot be deployed yet: 2 errors")
    for lane in ("Lane_verifier", "Lane_supervisor"):
        expect(page.locator(f'g.djs-shape[data-element-id="{lane}"]')).to_have_class(re.compile("studio-lint-error"))
        expect(_problem(page, lane, "kitas/lane-role")).to_contain_text("maps to no role")
    # Its user tasks carry no SpiffArena form: a warning each (a Confirm button only).
    expect(page.locator('.studio-lint-badge[data-lint-element="Task_approve"]')).to_have_attribute(
        "title", re.compile("names no form")
    )
    expect(_problem(page, "Task_approve", "kitas/form-exists")).to_have_count(1)
    expect(_problem(page, "Flow_yes", "kitas/form-fields")).to_contain_text("approved")

    # Lanes: the panel offers the catalog's lane names; each choice is autosaved and the list checked again.
    revision = _pick_in_panel(page, "Lane_verifier", "kitas/lane-role", words("Lane name"), "Verifier")
    expect(page.get_by_test_id("lane-role")).to_have_text("verifier")
    _autosaved(page, words, revision)
    expect(_problem(page, "Lane_verifier")).to_have_count(0)
    revision = _pick_in_panel(page, "Lane_supervisor", "kitas/lane-role", words("Lane name"), "Supervisor")
    _autosaved(page, words, revision)
    expect(_problem(page, "Lane_supervisor")).to_have_count(0)
    expect(page.get_by_test_id("lint-summary")).to_have_text(words("Can be deployed"))
    expect(page.locator("g.djs-shape.studio-lint-error")).to_have_count(0)
    saved = diagram(page)
    assert 'name="Verifier"' in saved and 'name="Supervisor"' in saved, "the lanes are renamed on the server"

    # A form for the approval: the draft has none, so one is made from the files page in the form editor.
    page.get_by_test_id("draft-files-link").click()
    expect(page.get_by_test_id("draft-forms")).to_contain_text(words("This draft has no forms yet."))
    page.get_by_label(words("New form (file name)")).fill("leave approval")  # a space: refused, kept
    page.get_by_role("button", name=words("Create the form")).click()
    expect(page.locator("#new-form-error")).to_contain_text("without a folder")
    expect(page.get_by_label(words("New form (file name)"))).to_have_value("leave approval")
    page.get_by_label(words("New form (file name)")).fill("leave-approval")
    page.get_by_role("button", name=words("Create the form")).click()
    page.wait_for_load_state("load")
    expect(page.locator("#schema-text")).to_have_value(re.compile('"title": "New form"'))
    page.locator("#new-name").fill("approved")
    page.locator("#new-kind").select_option("boolean")
    page.locator("#new-title").fill("The leave is approved")
    page.locator("#new-title_id").fill("Cuti disetujui")
    page.get_by_test_id("add-field-button").click()
    expect(page.get_by_text(words("The form was saved to the draft."))).to_be_visible()
    expect(page.locator('[data-field="approved"]')).to_be_visible()
    expect(page.get_by_test_id("form-preview").get_by_label("The leave is approved")).to_be_visible()

    # Back in the modeler, the task picks the new form (its UI schema too) and its warnings go away, the
    # condition's with them: the form now sets `approved`.
    page.goto(draft_url)
    wait_until_drawn(page)
    revision = _pick_in_panel(page, "Task_approve", "kitas/form-exists", words("JSON Schema file"), NEW_FORM)
    ui_schema = page.get_by_test_id("properties").get_by_label(words("UI schema file"), exact=True)
    ui_schema.select_option("leave-approval.uischema.json")
    expect(page.get_by_test_id("open-form-editor")).to_have_attribute("href", re.compile(re.escape(NEW_FORM) + "$"))
    _autosaved(page, words, revision)
    expect(_problem(page, "Task_approve", "kitas/form-exists")).to_have_count(0)
    expect(_problem(page, "Flow_yes")).to_have_count(0)
    # Now in an officer's lane, the approval is told to carry an SLA timer: a warning, as for any officer task.
    expect(_problem(page, "Task_approve", "kitas/sla-timer")).to_have_count(1)
    expect(_problem(page, "Task_check", "kitas/form-exists")).to_have_count(1)  # left a confirmation on purpose
    expect(page.get_by_test_id("lint-summary")).to_have_text(words("Can be deployed"))
    # The fixes are the draft's, on the server: a reload draws them again.
    page.reload()
    wait_until_drawn(page)
    expect(_problem(page, "Task_approve", "kitas/form-exists")).to_have_count(0)
    expect(page.locator('[data-file="leave-approval.schema.json"]')).to_be_visible()
    saved = diagram(page)
    assert 'name="formJsonSchemaFilename" value="leave-approval.schema.json"' in saved, saved
    assert 'name="formUiSchemaFilename" value="leave-approval.uischema.json"' in saved, saved
    assert problems == []


def test_2_the_analyst_edits_the_worker_tries_it_and_proposes_it(
    browser_context: Any, words: Words, analysts: tuple[Person, Person], journey: Journey
) -> None:
    page = browser_context.new_page()
    problems = console_problems(page, VENDOR_NOISE + (REFUSED,))
    page.goto("/")
    sign_in(page, words, analysts[0])
    draft_url = open_draft_of(page, "kitas_worker")
    expect(page.get_by_test_id("lint-summary")).to_have_text(words("Can be deployed"))

    # The applicant's form gets a field, in both languages, seen in the live preview as it is typed.
    page.locator(f'[data-file="{WORKER_FORM}"]').get_by_role("link").click()
    page.wait_for_load_state("load")
    preview = page.get_by_test_id("form-preview")
    expect(preview.get_by_label("Full name")).to_be_visible()
    page.locator("#new-name").fill("employee_id")
    page.locator("#new-kind").select_option("string")
    page.locator("#new-title").fill("Employee number")
    page.locator("#new-title_id").fill("Nomor karyawan")
    page.locator("#new-help").fill("As on your employment contract")
    page.locator("#new-help_id").fill("Seperti pada kontrak kerja Anda")
    page.get_by_test_id("add-field-button").click()
    expect(page.get_by_text(words("The form was saved to the draft."))).to_be_visible()
    expect(page.locator('[data-field="employee_id"]')).to_be_visible()
    expect(page.get_by_test_id("form-preview").get_by_label("Employee number")).to_be_visible()
    page.get_by_test_id("preview-language").select_option("id")
    expect(page.get_by_test_id("form-preview")).to_have_attribute("data-language", "id")
    expect(page.get_by_test_id("form-preview").get_by_label("Nomor karyawan")).to_be_visible()
    page.get_by_test_id("preview-language").select_option("en")
    expect(page.get_by_test_id("form-preview")).to_have_attribute("data-language", "en")
    # Sample data is checked as the server would: a too-short name is refused beside its field.
    page.get_by_test_id("form-preview").get_by_label("Full name").fill("A")
    page.get_by_test_id("form-preview").get_by_label("Employee number").fill("EMP-0042")
    page.get_by_test_id("check-sample").click()
    expect(page.locator("#full_name-error")).to_contain_text("Enter at least 2 characters.")
    expect(page.locator("#employee_id-error")).to_have_count(0)

    # The worker's fee table is a copy of the shared payment step's: its editor says so and opens that draft.
    page.goto(draft_url + "/decisions/fees.dmn")
    expect(page.get_by_test_id("shared-file")).to_contain_text("shared_payment")
    page.get_by_test_id("shared-file").get_by_role("button").click()
    wait_until_drawn(page)
    expect(page.get_by_test_id("process-id")).to_have_text("shared_payment")
    page.locator('[data-file="fees.dmn"]').get_by_role("link").click()
    expect(page.get_by_test_id("shared-file")).to_have_count(0)
    cell = page.locator(".dmn-decision-table-container td", has_text="1700000").first
    expect(cell).to_be_visible()
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("1750000")
    page.locator("h1").click()
    expect(page.locator("[data-dmn-dirty]")).to_be_visible()
    page.get_by_test_id("dmn-input-kitas_type").fill("worker")
    page.get_by_test_id("dmn-input-index_code").fill("E23")
    page.get_by_test_id("dmn-input-duration_months").fill("12")
    page.get_by_test_id("dmn-test-button").click()
    expect(page.get_by_test_id("dmn-output-fee_amount")).to_contain_text("1.750.000")
    page.get_by_test_id("save-table").click()
    expect(page.get_by_text(words("The decision table was saved to the draft."))).to_be_visible()
    expect(page.get_by_test_id("dmn-readonly")).to_contain_text("1750000")

    # Try the worker draft: a sandbox case whose first step, done as the applicant, shows the new field.
    page.goto(draft_url)
    wait_until_drawn(page)
    page.get_by_test_id("try-version").click()
    expect(page.get_by_test_id("trial-reference")).to_be_visible()
    journey.trial_reference = page.get_by_test_id("trial-reference").inner_text().strip()
    expect(page.get_by_test_id("trial-task")).to_have_attribute("data-element", "applicant_data")
    page.get_by_test_id("do-step").click()
    expect(page.get_by_test_id("acting-as")).to_contain_text("applicant")
    type_applicant_data(page, words, analysts[0].email)
    page.get_by_label("Employee number").fill("EMP-0042")
    page.locator('#task-form button[value="submit"]').click()
    expect(page.get_by_test_id("trial-task")).to_have_attribute("data-element", "employment_data")
    expect(page.get_by_test_id("trial-status")).to_be_visible()

    # Propose it, with a comment (none is refused, beside the field).
    page.goto(draft_url)
    page.get_by_test_id("propose-link").click()
    expect(page.locator(f'[data-field="{WORKER_FORM}#employee_id"][data-status="added"]')).to_be_visible()
    page.get_by_role("button", name="Propose for review").click()
    expect(page.get_by_test_id("propose-form").locator(".invalid-feedback")).to_be_visible()
    page.get_by_label("What does this version change, and why?").fill("Ask for the employee number")
    page.get_by_role("button", name="Propose for review").click()
    expect(page.get_by_test_id("own-proposal")).to_be_visible()
    expect(page.get_by_test_id("approve")).to_have_count(0)  # four eyes: not by the one who proposed
    journey.proposal_url = page.url
    assert problems == []


def test_3_a_second_analyst_approves_and_each_case_keeps_its_version(
    browser_context: Any,
    live_server: LiveServer,
    words: Words,
    analysts: tuple[Person, Person],
    applicant: Person,
    old_case: str,
    journey: Journey,
) -> None:
    assert journey.proposal_url, "the proposal of step 2 is missing"
    page = browser_context.new_page()
    problems = console_problems(page)
    page.goto("/")
    sign_in(page, words, analysts[1])
    page.goto("/studio/proposals")
    number = journey.proposal_url.rsplit("/", 1)[1]
    page.get_by_role("link", name=f"Proposal {number}").click()
    expect(page.get_by_text("Ask for the employee number")).to_be_visible()
    expect(page.get_by_test_id("proposal-facts")).to_contain_text("Alma Analyst")
    added = page.get_by_test_id("diff-fields").locator(f'[data-field="{WORKER_FORM}#employee_id"]')
    expect(added).to_have_attribute("data-status", "added")
    expect(page.get_by_test_id("diff-fields").locator("[data-field]")).to_have_count(1)
    expect(page.get_by_test_id("diff-fees")).to_have_count(0)  # the fee change stays in shared_payment's draft
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("proposal-status")).to_have_attribute("data-status", "approved")
    page.goto("/studio/processes/kitas_worker/versions")
    expect(page.locator('[data-version="2"]')).to_contain_text("Ask for the employee number")
    expect(page.locator('[data-version="2"]')).to_contain_text("current")
    sign_out(page, words)

    # The old case stays on version 1; a new one starts on version 2 and its first form has the new field.
    assert _version_of(live_server, old_case) == 1
    sign_in(page, words, applicant)
    new_case = start_worker_application(page, words)
    assert _version_of(live_server, new_case) == 2
    type_applicant_data(page, words, applicant.email)
    page.get_by_label("Employee number").fill("EMP-0042")
    page.get_by_role("button", name=words("Save and continue"), exact=True).click()
    expect(page.get_by_role("heading", name=words("Employment details"))).to_be_visible()
    sign_out(page, words)

    # A verifier of their office sees each case on the diagram of its own version.
    sign_in(page, words, staff(live_server, "verifier"))
    for reference, version, has_field in ((old_case, 1, False), (new_case, 2, True)):
        page.goto(f"/officer/cases/{reference}/diagram")
        expect(page.get_by_test_id("diagram-version")).to_contain_text(f"Version {version} of")
        expect(
            page.locator(".djs-container .djs-element.kitas-current[data-element-id=employment_data]")
        ).to_have_count(1)
        expect(page.locator(".djs-element.kitas-taken[data-element-id=applicant_data]")).to_have_count(1)
        step = page.get_by_test_id("path-step").and_(page.locator("[data-element=applicant_data]"))
        step.get_by_test_id("step-data").locator("summary").click()
        expect(step.get_by_test_id("step-data")).to_contain_text("Passport number")
        field = step.get_by_test_id("step-data").get_by_text("Employee number")
        expect(field).to_have_count(1 if has_field else 0)
        if has_field:
            expect(step.get_by_test_id("step-data")).to_contain_text("EMP-0042")
    assert problems == [] and live_server.problems == []
