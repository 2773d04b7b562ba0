"""Appointments in the browser journeys: the officers' office, the times they publish on their
appointments page, the free time the booking step picks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from playwright.sync_api import expect

from tests.e2e.words import Words

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer


SERIES = "Every working day up to the last day, a time every few minutes from the start time until closing"


def officers_work_in_an_office(server: LiveServer) -> None:
    """The office cases fall back to (the first active one, made here when there is none) with the
    staff officers as its officers, as an administrator sets up."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import Office, User, officer_offices

    with server.app.app_context():
        office = db.session.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.id)).first()
        if office is None:
            office = Office(
                code="JKS",
                name="Kantor Imigrasi Jakarta Selatan",
                city="Jakarta Selatan",
                address="Jl. Warung Buncit Raya No. 207",
                time_zone="Asia/Jakarta",
                opens="08:00",
                closes="16:00",
                working_days="1,2,3,4,5",
                active=True,
            )
            db.session.add(office)
            db.session.flush()
        for role in ("verifier", "supervisor"):
            user = db.session.scalars(select(User).where(User.email == server.staff[role][0])).one()
            mine = (officer_offices.c.user_id == user.id, officer_offices.c.office_id == office.id)
            known = db.session.execute(select(officer_offices).where(*mine)).first()
            if known is None:
                db.session.execute(officer_offices.insert().values(user_id=user.id, office_id=office.id))
        db.session.commit()
        db.session.remove()


def _working_day(after_days: int) -> date:
    day = date.today() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def officer_publishes_times(page: Any, words: Words, kind: str) -> None:
    """A signed-in officer publishes a week of times of ``kind`` on the appointments page (a series
    every hour from 09:00); times published before are kept."""
    page.get_by_role("link", name=words("Appointments")).click()
    form = page.get_by_test_id("publish-form")
    kind_label = words("Biometrics" if kind == "biometrics" else "Interview")
    form.get_by_label(words("Kind"), exact=True).select_option(label=kind_label)
    form.get_by_label(words("Date"), exact=True).fill(_working_day(3).isoformat())
    form.get_by_label(words("Start time"), exact=True).fill("09:00")
    form.get_by_label(words("Places"), exact=True).fill("3")
    form.get_by_label(words(SERIES), exact=True).check()
    form.get_by_label(words("Last day"), exact=True).fill(_working_day(10).isoformat())
    form.get_by_label(words("Every (minutes)"), exact=True).fill("60")
    form.get_by_role("button", name=words("Publish")).click()
    published = page.get_by_text(words.pattern("Published: %(count)s appointment times."))
    already = page.get_by_text(words("these times are already published"))
    expect(published.or_(already).first).to_be_visible()


def pick_first_free_time(page: Any) -> None:
    """On a booking step: the first free time offered."""
    page.locator('input[name="appointment_slot"]').first.check()
