"""The supervisors' pages: the dashboard with its SVG chart, each figure as CSV in the reader's language,
the late work per officer, the SLA on a task page, and who may open them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from kitas.extensions import db
from kitas.models import Application, Office
from kitas.services.cases import timers
from kitas.services.dashboard import FIGURES
from tests.services.helpers import request_corrections, start_until_verification
from tests.web.pages import open_task_row

pytestmark = pytest.mark.usefixtures("worker")

PAGES = ["/officer/dashboard", "/officer/late", *(f"/officer/dashboard/{key}.csv" for key in FIGURES)]


@pytest.mark.parametrize("url", PAGES)
def test_a_verifier_is_refused_and_supervisors_and_admins_are_let_in(
    users: dict[str, Any], login_as: Any, url: str
) -> None:
    assert login_as(users["verifier"]).get(url).status_code == 403
    assert login_as(users["applicant"]).get(url).status_code == 403
    assert login_as(users["supervisor"]).get(url).status_code == 200
    assert login_as(users["admin"]).get(url).status_code == 200


def test_the_dashboard_shows_every_figure_and_the_chart_as_svg_with_a_table(
    users: dict[str, Any], login_as: Any
) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Please upload a sharper passport scan")
    page = login_as(users["admin"]).get("/officer/dashboard").get_data(as_text=True)
    for key in FIGURES:
        assert f'data-testid="figure-{key}"' in page and f'href="/officer/dashboard/{key}.csv"' in page
    svg = page.split('<svg role="img"')[1].split("</svg>")[0]
    assert 'aria-labelledby="flow-title flow-desc"' in svg
    assert '<title id="flow-title">Daily arrivals and completions</title>' in svg
    assert "1 cases arrived (paid) and 0 were completed" in svg
    assert svg.count("<polyline") == 2
    assert 'data-testid="table-flow"' in page  # the chart's data as a table
    assert "Please upload a sharper passport scan" in page
    assert "100% of 1 cases sent back or decided were sent back for corrections" in page
    assert 'href="/officer/late"' in page


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_each_figure_exports_as_csv_with_a_header_row_in_the_readers_language(
    users: dict[str, Any], login_as: Any
) -> None:
    application = start_until_verification(users)
    request_corrections(application.id, users["verifier"], "Blurred photo")
    admin = users["admin"]
    client = login_as(admin)
    response = client.get("/officer/dashboard/corrections.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="kitas-corrections.csv"'
    assert _csv(response) == [["Reason", "Requests"], ["Blurred photo", "1"]]
    flow = _csv(client.get("/officer/dashboard/flow.csv"))
    assert flow[0] == ["Day", "Arrivals (paid)", "Completions (closed)"] and len(flow) == 31
    assert ["2026-01-05", "1", "0"] in flow
    steps = _csv(client.get("/officer/dashboard/steps.csv"))
    office = "Kantor Imigrasi Kelas I Khusus TPI Jakarta Selatan (Jakarta Selatan)"  # the default office
    assert steps == [["Step", "Office", "Open tasks", "Late"], ["Submit corrections", office, "1", "0"]]
    admin.language = "id"
    db.session.commit()
    steps = _csv(client.get("/officer/dashboard/steps.csv"))
    assert steps[0] == ["Langkah", "Kantor", "Tugas terbuka", "Terlambat"]
    assert steps[1][1] == office


def test_an_unknown_figure_is_404(users: dict[str, Any], login_as: Any) -> None:
    response = login_as(users["supervisor"]).get("/officer/dashboard/salaries.csv")
    assert response.status_code == 404
    assert "There is no figure salaries; the figures are steps, late," in response.get_data(as_text=True)


def test_the_task_page_shows_its_sla_and_why_it_was_escalated(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    application = start_until_verification(users)  # Monday 5 January 2026, 09:00 WIB: due five days later
    task = open_task_row(application.id, "verify_documents")
    url = f"/officer/cases/{application.reference}/tasks/{task.task_id}"
    client = login_as(users["verifier"])
    sla = client.get(url).get_data(as_text=True).split('data-testid="sla"')[1].split("</div>")[0]
    assert 'data-state="ok"' in sla and "10 Jan 2026, 09:00 WIB" in sla
    assert "Western Indonesian Time (WIB)" in sla and "5 d 0 h left" in sla
    clock.advance(days=6)
    timers.fire_due_timers("test")
    page = client.get(url).get_data(as_text=True)
    sla = page.split('data-testid="sla"')[1].split("</div>\n</div>")[0]
    assert 'data-state="late"' in sla and "late by 1 d 0 h" in sla
    assert "Escalated to the supervisors" in sla
    assert "since 11 Jan 2026, 09:00 WIB, by the deadline “Verification SLA (5 days)”." in sla


def test_late_work_per_officer_links_each_task(users: dict[str, Any], login_as: Any, clock: Any) -> None:
    application = start_until_verification(users)
    # The case is in the default office (no province given), where the factory's officers work.
    office = db.session.get(Office, db.session.get(Application, application.id).office_id)
    assert office.code == "JKS"
    shown = f"{office.name} ({office.city})"
    client = login_as(users["supervisor"])
    assert 'data-testid="no-late-work"' in client.get("/officer/late").get_data(as_text=True)
    clock.advance(days=5, hours=3)
    timers.fire_due_timers("test")
    task = open_task_row(application.id, "verify_documents")
    page = client.get("/officer/late").get_data(as_text=True)
    assert "1 late task in your offices" in page
    assert "Nobody (unclaimed)" in page and shown in page
    assert f'href="/officer/cases/{application.reference}/tasks/{task.task_id}"' in page
    assert "late by 3 h 0 min" in page and "Verification SLA (5 days)" in page
    steps = _csv(client.get("/officer/dashboard/steps.csv"))
    assert steps[1:] == [["Verify documents", shown, "1", "1"]]


def test_an_admin_let_in_for_the_dashboard_opens_late_cases_on_the_admins_page(
    users: dict[str, Any], login_as: Any, clock: Any
) -> None:
    application = start_until_verification(users)
    clock.advance(days=6)
    client = login_as(users["admin"])
    assert client.get("/officer/").status_code == 200
    page = client.get("/officer/late").get_data(as_text=True)
    assert f'href="/admin/cases/{application.reference}"' in page and 'data-testid="nav-dashboard"' in page
    assert 'data-testid="nav-dashboard"' not in login_as(users["verifier"]).get("/officer/").get_data(as_text=True)
