"""The sponsor's group pages with the test client: start a group, follow it, fill a member's step, confirm
once, pay together; bad lists, the individual sponsor's 11th foreigner and another sponsor's look refused."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, ApplicationGroup
from kitas.services import groups
from tests.factories import make_user
from tests.services.group_helpers import group_post, people, person_sponsored
from tests.services.helpers import complete
from tests.web.pages import form_errors, post_form, start_worker_case, task_url
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _group() -> ApplicationGroup:
    db.session.expire_all()
    group = db.session.scalars(select(ApplicationGroup).order_by(ApplicationGroup.id.desc())).first()
    assert group is not None
    return group


def _members(group: ApplicationGroup) -> list[Application]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Application).where(Application.group_id == group.id).order_by(Application.id))
    )


def _start(client: FlaskClient, rows: list[dict[str, str]]) -> Any:
    return client.post("/sponsor/groups/new/worker", data={k: v[0] for k, v in group_post(rows).items()})


def test_a_sponsor_starts_a_group_and_follows_every_member_on_one_page(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["sponsor"])
    page = client.get("/sponsor/groups/new/worker")
    assert page.status_code == 200
    text = _text(page)
    # The sponsor's fields and the people's columns come from the worker's own forms.
    for label in ("Employer (company name)", "RPTKA approval number", "Full name", "E-mail address", "Nationality"):
        assert label in text
    response = _start(client, people(2))
    assert response.status_code == 303
    group = _group()
    assert response.headers["Location"].endswith(f"/sponsor/groups/{group.reference}")
    shown = _text(client.get(f"/sponsor/groups/{group.reference}"))
    members = _members(group)
    assert shown.count('data-testid="group-member"') == 2
    for member, name in zip(members, ("Person Number 1", "Person Number 2"), strict=True):
        assert member.reference in shown and name in shown
    assert shown.count("You: Fill in applicant data") == 2
    # The sponsor fills a member's own step on the applicant's page: it starts with the member's data.
    url = task_url(members[0], "applicant_data")
    form = _text(client.get(url))
    assert 'value="Person Number 1"' in form and 'value="p1@team.example.org"' in form
    assert post_form(client, url, {**APPLICANT_DATA, "email": "p1@team.example.org"}).status_code == 302
    employment = _text(client.get(task_url(members[0], "employment_data")))
    assert 'value="PT Contoh Teknologi"' in employment and 'value="RPTKA-2026-00042"' in employment
    assert "You: Fill in employment data" in _text(client.get(f"/sponsor/groups/{group.reference}"))
    # The group appears in the sponsor's list of groups.
    assert group.reference in _text(client.get("/sponsor/groups/"))


def test_the_group_page_pages_a_long_group(worker: int, users: dict[str, Any], login_as: Any) -> None:
    group = groups.start_group("worker", users["sponsor"], group_post(people(12)))
    client = login_as(users["sponsor"])
    first = _text(client.get(f"/sponsor/groups/{group.reference}"))
    second = _text(client.get(f"/sponsor/groups/{group.reference}?page=2"))
    assert first.count('data-testid="group-member"') == 10 and "Page 1 of 2 (12 in all)" in first
    assert second.count('data-testid="group-member"') == 2 and "Person Number 12" in second
    assert "Person Number 12" not in first


def test_confirm_once_and_pay_together_from_the_group_pages(worker: int, users: dict[str, Any], login_as: Any) -> None:
    sponsor = users["sponsor"]
    group = groups.start_group("worker", sponsor, group_post(people(2)))
    for index, member in enumerate(_members(group)):
        complete(member.id, "applicant_data", sponsor, email=f"p{index + 1}@team.example.org")
        complete(member.id, "employment_data", sponsor, sponsor_email=sponsor.email)
    client = login_as(sponsor)
    assert "2 applications wait for your guarantee" in _text(client.get(f"/sponsor/groups/{group.reference}"))
    done = client.post(f"/sponsor/groups/{group.reference}/confirm", follow_redirects=True)
    assert "You confirmed the guarantee for 2 people." in _text(done)
    assert {m.status for m in _members(group)} == {"awaiting_documents"}
    for member in _members(group):
        complete(member.id, "document_checklist", sponsor)
    pay = _text(client.get(f"/sponsor/groups/{group.reference}/payment"))
    assert "2 applications wait for payment." in pay and 'data-testid="issue-group-bill"' in pay
    issued = _text(client.post(f"/sponsor/groups/{group.reference}/payment", follow_redirects=True))
    code = re.search(r'data-testid="billing-code">(\d+)<', issued)
    assert code is not None and "This code pays the fees of 2 applications:" in issued
    # The member's own pay page names the same code and its share.
    own = _text(client.get(f"/payments/{_members(group)[0].reference}"))
    assert code.group(1) in own and "pays the fees of 2 applications of your group" in own


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ([], "Add at least one person"),
        (
            [
                {"full_name": "Ana Lima", "email": "same@team.example.org", "nationality": "BR"},
                {"full_name": "Bo Lima", "email": "same@team.example.org", "nationality": "PT"},
            ],
            "already given in row 1",
        ),
        ([{"full_name": "Ana Lima", "email": "not-an-address", "nationality": "BR"}], "Enter an email address"),
        (people(21), "at most 20 people"),
    ],
    ids=["empty", "duplicate-email", "invalid-email", "too-many"],
)
def test_a_bad_list_comes_back_with_the_reason_and_everything_typed(
    worker: int, users: dict[str, Any], login_as: Any, rows: list[dict[str, str]], words: str
) -> None:
    response = _start(login_as(users["sponsor"]), rows)
    assert response.status_code == 422
    text = _text(response)
    assert words in text and 'value="PT Contoh Teknologi"' in text
    for row in rows[:3]:
        assert f'value="{row["full_name"]}"' in text and f'value="{row["email"]}"' in text
    assert db.session.scalars(select(Application)).first() is None


def test_an_individual_sponsors_eleventh_foreigner_is_refused_with_the_reason(
    worker: int, users: dict[str, Any], login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_sponsored(monkeypatch)
    citizen = make_user("sponsor", email="budi@example.id", name="Budi Santoso", confirmed=True)
    sponsor_client = login_as(citizen)
    assert _start(sponsor_client, people(10)).status_code == 303
    # An eleventh in a group of her own...
    refused = _start(sponsor_client, people(1, "late.example.org"))
    assert refused.status_code == 422
    assert "budi@example.id already sponsors 10 foreigners in open applications" in _text(refused)
    assert "at most 10 at a time" in _text(refused)
    # ... and an applicant naming her for an eleventh: refused next to the sponsor's e-mail.
    applicant_client = login_as(users["applicant"])
    application = start_worker_case(applicant_client, users["applicant"])
    assert post_form(applicant_client, task_url(application, "applicant_data"), APPLICANT_DATA).status_code == 302
    named = post_form(
        applicant_client, task_url(application, "employment_data"), {**EMPLOYMENT_DATA, "sponsor_email": citizen.email}
    )
    assert named.status_code == 422
    [problem] = [e for e in form_errors(named) if "sponsors" in e]
    assert "at most 10 at a time" in html.unescape(problem)
    assert len(db.session.scalars(select(Application).where(Application.sponsor_email == citizen.email)).all()) == 10


def test_the_limit_refusal_in_indonesian(
    worker: int, users: dict[str, Any], login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    person_sponsored(monkeypatch, limit=1)
    citizen = make_user("sponsor", email="budi@example.id", confirmed=True, language="id")
    client = login_as(citizen)
    response = client.post("/sponsor/groups/new/worker", data={k: v[0] for k, v in group_post(people(2)).items()})
    assert response.status_code == 422
    assert "penjamin perorangan boleh menjamin paling banyak 1 orang sekaligus" in _text(response)


def test_another_sponsor_gets_not_found(worker: int, users: dict[str, Any], login_as: Any) -> None:
    group = groups.start_group("worker", users["sponsor"], group_post(people(2)))
    other = make_user("sponsor", email="hr@other.co.id", confirmed=True)
    client = login_as(other)
    for url in (f"/sponsor/groups/{group.reference}", f"/sponsor/groups/{group.reference}/payment"):
        assert client.get(url).status_code == 404
    assert client.post(f"/sponsor/groups/{group.reference}/confirm").status_code == 404
    assert client.post(f"/sponsor/groups/{group.reference}/payment").status_code == 404
    assert group.reference not in _text(client.get("/sponsor/groups/"))
    # Nor can an applicant open the sponsor's pages.
    assert login_as(users["applicant"]).get(f"/sponsor/groups/{group.reference}").status_code == 403


def test_the_error_summary_names_each_field_and_the_persons_row(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    """A summary of "This field is required." three times cannot be acted on: each line names its field."""
    rows = [{"full_name": "Ana Lima", "email": "not-an-address", "nationality": "BR"}]
    client = login_as(users["sponsor"])
    posted = {k: v[0] for k, v in group_post(rows, employer_name="").items()}
    response = client.post("/sponsor/groups/new/worker", data=posted)
    assert response.status_code == 422
    summary = _text(response).split('data-testid="form-errors"', 1)[1].split("</div>", 1)[0]
    items = [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", summary, re.S)]
    assert any(item.startswith("Employer (company name): ") for item in items), items
    assert any(item.startswith("Person 1, E-mail address: ") for item in items), items
