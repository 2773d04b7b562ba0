"""The information pages are generated: each type's page from the catalog, the deployed diagram, its upload
form and the fee table; the guide and the FAQ from their data files. In both languages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kitas.money import rupiah
from kitas.services import cases, fees
from kitas.services.deployments import collect_files, deploy
from tests.conftest import ROOT, deploy_fee_table
from tests.services.helpers import complete
from tests.web.pages import task_url
from tests.worker_data import WORKER_STEPS
from workflows import catalog
from workflows.information import guide

IN_INDONESIAN = {"Accept-Language": "id"}


def _html(client: FlaskClient, path: str, headers: dict[str, str] | None = None, status: int = 200) -> str:
    response = client.get(path, headers=headers or {})
    assert response.status_code == status, path
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, testid: str) -> str:
    found = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', html, re.S)
    assert found is not None, f"no {testid} on the page"
    return found.group(2)


# -- a type's page ---------------------------------------------------------------


def test_the_worker_page_says_who_codes_sponsor_fees_duration_and_start(worker: int, client: FlaskClient) -> None:
    html = _html(client, "/types/worker")
    text = _text(html)
    entry = catalog().by_code("worker")
    assert entry.for_whom in text
    assert "E23" in _section(html, "index-codes") and entry.index_codes[0].name in text
    sponsor = _text(_section(html, "sponsor"))
    assert "a company registered in Indonesia that employs you" in sponsor and "No sponsor needed" not in sponsor
    assert _text(_section(html, "fees")).endswith("6 months Rp 1.200.000 12 months Rp 1.700.000 24 months Rp 2.200.000")
    assert f"Usually {entry.typical_days} working days" in text
    assert "Start this application" in _section(html, "start")
    assert "the table in the repository" not in text  # the deployed table


def test_the_steps_are_the_deployed_diagram_s_in_order_with_who_does_them(worker: int, client: FlaskClient) -> None:
    html = _html(client, "/types/worker")
    steps = _section(html, "steps")
    assert re.findall(r'data-element="(\w+)"', steps) == WORKER_STEPS
    corrections = re.search(r'data-element="submit_corrections">(.*?)</li>', steps, re.S)
    assert corrections is not None and "if needed" in corrections.group(1) and "You" in corrections.group(1)
    sponsor = re.search(r'data-element="sponsor_confirmation">(.*?)</li>', steps, re.S)
    assert sponsor is not None and "Your sponsor" in sponsor.group(1) and "if needed" not in sponsor.group(1)


def test_the_checklist_is_what_the_upload_step_asks_for(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Callable[[Any], FlaskClient]
) -> None:
    page = _html(client, "/types/worker")
    listed = re.findall(r'data-key="(\w+)"', _section(page, "checklist"))

    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    upload = _html(login_as(users["applicant"]), task_url(application, "document_checklist"))
    asked = re.findall(r'type="file" id="f-\w+" name="(\w+)"', upload)
    assert listed == asked and "passport_scan" in asked and "photo" in asked

    photo = re.search(r'data-key="photo">(.*?)</li>', page, re.S)
    assert photo is not None
    rules = _text(photo.group(1))
    assert "Format: JPEG" in rules and "at most 2 MB" in rules and "at least 10 kB" in rules
    assert "at least 300 × 400 pixels" in rules
    passport = re.search(r'data-key="passport_scan">(.*?)</li>', page, re.S)
    assert passport is not None and "Format: PDF, JPEG, PNG · at most 5 MB" in _text(passport.group(1))


def test_a_deployed_change_of_the_upload_form_changes_the_checklist(worker: int, client: FlaskClient) -> None:
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")
    schema = json.loads(files["worker-document-checklist.schema.json"])
    [rule] = schema["properties"]["photo"]["x-kitas-rules"]
    rule.update(formats=["jpeg", "png"], max_bytes=1_500_000, min_width=600, min_height=800)
    deploy(bpmn, {**files, "worker-document-checklist.schema.json": json.dumps(schema)})
    photo = re.search(r'data-key="photo">(.*?)</li>', _html(client, "/types/worker"), re.S)
    assert photo is not None
    rules = _text(photo.group(1))
    assert "Format: JPEG, PNG" in rules and "at most 1500 kB" in rules and "600 × 800 pixels" in rules


def test_a_type_without_a_deployed_diagram_gets_its_page_from_the_catalog(ctx: Flask, client: FlaskClient) -> None:
    html = _html(client, "/types/investor")
    text = _text(html)
    entry = catalog().by_code("investor")
    assert entry.for_whom in text and "E28A" in text
    assert "No sponsor needed" in _text(_section(html, "sponsor"))
    # Today's hand-written page said "no sponsor" and then listed a sponsor step: no step names a sponsor.
    assert "Your sponsor" not in text and "sponsor confirms" not in text
    assert "Not yet online" in _text(_section(html, "start")) and "Start this application" not in text
    assert "The steps are shown here once this type can be applied for online." in text
    assert "Rp 1.700.000" in text and "the table in the repository" in text  # the fees still come from the table


def test_the_worker_page_before_anything_is_deployed_is_not_online(ctx: Flask, client: FlaskClient) -> None:
    html = _html(client, "/types/worker")
    assert "Not yet online" in _text(_section(html, "start"))
    assert re.findall(r'data-key="(\w+)"', _section(html, "checklist"))[:2] == ["passport_scan", "photo"]


def test_sponsor_limits_come_from_the_catalog(ctx: Flask, client: FlaskClient) -> None:
    text = _text(_section(_html(client, "/types/family"), "sponsor"))
    limit = catalog().sponsor_limits["person"]
    assert f"A person may sponsor at most {limit} foreigners" in text
    student = _text(_section(_html(client, "/types/student"), "sponsor"))
    assert "the school, university or course provider that accepted you" in student and "A person may" in student


def test_an_unknown_type_is_not_found(ctx: Flask, client: FlaskClient) -> None:
    _html(client, "/types/astronaut", status=404)


def test_the_type_pages_in_indonesian(worker: int, client: FlaskClient) -> None:
    html = _html(client, "/types/worker", IN_INDONESIAN)
    text = _text(html)
    for words in ("Kode indeks", "Penjamin", "Dokumen yang diunggah", "Langkah-langkah", "Biaya", "Lama proses"):
        assert words in text
    assert "perusahaan terdaftar di Indonesia yang mempekerjakan Anda" in text
    assert "Halaman data paspor" in text and "paling besar 2 MB" in text and "12 bulan" in text
    ids = json.loads((ROOT / "bpmn" / "kitas_worker.id.json").read_text(encoding="utf-8"))
    assert ids["/applicant_data"] in _section(html, "steps") and "Mulai permohonan ini" in text
    assert "Fill in applicant data" not in text and "Documents to upload" not in text
    overview = _text(_html(client, "/types", IN_INDONESIAN))
    assert "ITAS Pelajar" in overview and "Biaya: Rp 6.000.000 sampai Rp 12.000.000" in overview


def test_the_types_page_lists_every_type_with_fees_and_whether_it_is_online(worker: int, client: FlaskClient) -> None:
    cards = _text(_html(client, "/types"))
    assert "Fee: Rp 1.200.000 to Rp 2.200.000" in cards and "apply online" in cards
    assert cards.count("not yet online") == 3  # investor, family, student have no diagram deployed


def test_home_and_navigation_link_the_guide_and_the_faq(ctx: Flask, client: FlaskClient) -> None:
    html = _html(client, "/")
    assert 'data-testid="home-guide"' in html and 'data-testid="home-faq"' in html
    for page in ("/", "/types", "/auth/login"):
        nav = _html(client, page)
        assert 'href="/guide" data-testid="nav-guide"' in nav and 'href="/faq" data-testid="nav-faq"' in nav


# -- the guide -------------------------------------------------------------------

PATHS = [
    (["work", "indonesian_company"], "worker", "E23"),
    (["invest", "shareholder"], "investor", "E28A"),
    (["family", "spouse_citizen"], "family", "E31A"),
    (["family", "spouse_holder"], "family", "E31B"),
    (["family", "parent"], "family", "E31C"),
    (["study", "school"], "student", "E30A"),
    (["study", "university"], "student", "E30B"),
    (["study", "course"], "student", "E30"),
]


def _follow(client: FlaskClient, labels: list[str], headers: dict[str, str] | None = None) -> str:
    """Click through the guide from its first page by the labels of the links, as a person does."""
    html = _html(client, "/guide", headers)
    for label in labels:
        links = dict(
            (unescape(" ".join(text.split())), unescape(href))
            for href, text in re.findall(r'<a class="btn[^"]*" href="([^"]+)">(.*?)</a>', html, re.S)
        )
        assert label in links, f"no answer {label!r} among {sorted(links)}"
        html = _html(client, links[label], headers)
    return html


@pytest.mark.parametrize(("answers", "code", "index"), PATHS, ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_every_path_of_the_guide_ends_at_the_right_type(
    ctx: Flask, client: FlaskClient, answers: list[str], code: str, index: str
) -> None:
    data = guide()
    question = data.questions[data.start]
    labels = []
    for answer in answers:
        option = question.option(answer)
        assert option is not None
        labels.append(option.label)
        question = data.questions[option.next] if option.next else question
    entry = catalog().by_code(code)
    months = entry.durations_months[-1]
    html = _follow(client, [*labels, f"{months} months"])
    outcome = re.search(r'data-testid="outcome" data-type="(\w+)" data-index="(\w+)"', html)
    assert outcome is not None and outcome.groups() == (code, index)
    # A type of several index codes: the type page hands the guide's index on to the start of an application.
    chosen = f"?index={index}" if len(entry.index_codes) > 1 else ""
    assert f'href="/types/{code}{chosen}"' in html
    assert f"Fee for {months} months: {rupiah(fees.fee_for(code, index, months))}" in _text(html)


def test_every_answer_of_the_guide_leads_somewhere_real(ctx: Flask) -> None:
    data = guide()
    reached = {data.start}
    for question in data.questions.values():
        for option in question.options:
            ends = [option.next is not None, option.kitas_type is not None, option.description is not None]
            assert ends.count(True) == 1, f"{question.id}/{option.id} must lead to one place"
            if option.next:
                assert option.next in data.questions
                reached.add(option.next)
            if option.kitas_type:
                codes = [c.code for c in catalog().by_code(option.kitas_type).index_codes]
                assert option.index_code in codes, f"{option.index_code} is not an index code of {option.kitas_type}"
    assert reached == set(data.questions), "a question no answer leads to"


def test_a_path_without_a_type_ends_with_the_guide_s_words(ctx: Flask, client: FlaskClient) -> None:
    html = _follow(client, ["To work", "Only a company abroad (I work remotely)"])
    assert "not one of the permits you can apply for online yet" in _text(_section(html, "no-type"))
    assert 'data-testid="outcome"' not in html


def test_answers_can_be_changed_and_a_made_up_answer_is_not_found(ctx: Flask, client: FlaskClient) -> None:
    html = _html(client, "/guide?a=family&a=spouse_holder")
    assert "How long do you want to stay?" in html
    assert 'href="/guide?a=family">change<' in html  # back to "whom do you join?"
    _html(client, "/guide?a=family&a=astronaut", status=404)
    _html(client, "/guide?a=family&a=spouse_holder&a=7", status=404)  # a length the type does not offer
    _html(client, "/guide?a=work&a=company_abroad&a=more", status=404)


def test_the_guide_in_indonesian(ctx: Flask, client: FlaskClient) -> None:
    html = _follow(client, ["Untuk belajar", "Di perguruan tinggi", "12 bulan"], IN_INDONESIAN)
    text = _text(html)
    assert "KITAS mana yang saya perlukan?" in text and "Anda memerlukan:" in text
    assert "ITAS Pelajar" in text and "Studi: perguruan tinggi" in text and "Biaya untuk 12 bulan: Rp 6.000.000" in text
    assert "Berapa lama Anda ingin tinggal?" in text  # among the answers given, in Indonesian


# -- the FAQ ---------------------------------------------------------------------


def _expected_values() -> tuple[str, str, int, int]:
    amounts = [row.amount for t in catalog().types for row in fees.fee_table(t.code).rows if row.amount is not None]
    days = [t.typical_days for t in catalog().types if t.typical_days is not None]
    return rupiah(min(amounts)), rupiah(max(amounts)), min(days), max(days)


def test_the_faq_answers_name_the_catalog_s_and_the_fee_table_s_values(worker: int, client: FlaskClient) -> None:
    text = _text(_html(client, "/faq"))
    lowest, highest, fewest, most = _expected_values()
    assert f"from {lowest} to {highest}" in text and (lowest, highest) == ("Rp 1.200.000", "Rp 12.000.000")
    assert f"Usually {fewest} to {most} working days" in text
    assert "(5 MB)" in text and "{" not in text
    for question in ("How do I create an account?", "Which documents do I need?", "What does it cost?"):
        assert question in text
    assert "How long does it take?" in text and "How do I follow my case?" in text


def test_a_deployed_fee_change_changes_the_faq(worker: int, client: FlaskClient) -> None:
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")
    deploy_fee_table(files["fees.dmn"].replace("<text>2200000</text>", "<text>15000000</text>", 1))
    assert "from Rp 1.200.000 to Rp 15.000.000" in _text(_html(client, "/faq"))


def test_the_faq_in_indonesian(ctx: Flask, client: FlaskClient) -> None:
    text = _text(_html(client, "/faq", IN_INDONESIAN))
    lowest, highest, fewest, most = _expected_values()
    assert "Pertanyaan yang sering diajukan" in text and "Bagaimana cara membuat akun?" in text
    assert f"dari {lowest} sampai {highest}" in text and f"Biasanya {fewest} sampai {most} hari kerja" in text
    assert "How do I create an account?" not in text and "{" not in text
