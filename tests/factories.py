"""Factories for test data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from kitas.extensions import app_clock, db
from kitas.models import Application, AppointmentSlot, Office, Role, SecondFactor, User, officer_offices
from kitas.services.accounts.passwords import hash_password
from kitas.services.accounts.second_factor import MFA_ROLES, code_at, current_step
from kitas.services.cases.access import OFFICER_ROLES
from kitas.services.offices.directory import default_office

# The authenticator-app secret of every officer the factory makes (tests compute its codes with it).
OFFICER_TOTP_SECRET = "KITASTESTSECRETKITASTESTSECRET23"


def make_user(
    *roles: str,
    email: str,
    name: str = "Test Person",
    password: str | None = None,
    app: bool | None = None,
    confirmed: bool = False,
    language: str | None = "en",
    offices: tuple[str, ...] | None = None,
) -> User:
    """Create and commit a user with the given roles (and a password to sign in with, when given).

    Officers (the roles that need a second factor) get a confirmed authenticator app with
    ``OFFICER_TOTP_SECRET``, as if they had enrolled; ``app`` overrides that either way.
    ``confirmed``: the address was proven by the verification link, as for ``users`` of conftest.
    ``language``: English by default, as the test client's browser asks (None: no setting).
    ``offices``: the codes of the offices an officer works in; by default the default office, where
    cases started without a province go (``()``: none).
    """
    now = app_clock().now()
    user = User(email=email, full_name=name, created_at=now, is_active=True, language=language)
    if confirmed:
        user.email_verified_at = now
    if password is not None:
        # Hashed directly, without the policy, so tests can also hold accounts with weak old passwords.
        user.password_hash = hash_password(password)
    user.roles = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    db.session.add(user)
    db.session.flush()
    if app if app is not None else any(role in MFA_ROLES for role in roles):
        now = app_clock().now()
        db.session.add(SecondFactor(user_id=user.id, secret=OFFICER_TOTP_SECRET, created_at=now, confirmed_at=now))
    if any(role in OFFICER_ROLES for role in roles):
        give_offices(user, offices if offices is not None else (default_office().code,))
    db.session.commit()
    return user


def give_offices(user: User, codes: tuple[str, ...]) -> None:
    """Make ``user`` an officer of exactly these offices (committed by the caller)."""
    db.session.execute(delete(officer_offices).where(officer_offices.c.user_id == user.id))
    for office in db.session.scalars(select(Office).where(Office.code.in_(codes))):
        db.session.execute(insert(officer_offices).values(user_id=user.id, office_id=office.id))


def work_in(user: User, office: Office) -> None:
    """Add ``office`` to the offices ``user`` works in (if she does not already), committed."""
    member = officer_offices.c.user_id == user.id, officer_offices.c.office_id == office.id
    if db.session.execute(select(officer_offices).where(*member)).first() is None:
        db.session.execute(insert(officer_offices).values(user_id=user.id, office_id=office.id))
    db.session.commit()


def current_code(secret: str = OFFICER_TOTP_SECRET, steps_ahead: int = 0) -> str:
    """The code an app with ``secret`` shows now on the application's clock (or ``steps_ahead`` steps later)."""
    return code_at(secret, current_step() + steps_ahead)


def make_office(
    code: str = "JKS",
    name: str = "Kantor Imigrasi Jakarta Selatan",
    time_zone: str = "Asia/Jakarta",
    opens: str = "08:00",
    closes: str = "16:00",
    working_days: str = "1,2,3,4,5",
) -> Office:
    """The office ``code`` as given, committed: the shipped offices are synced before each test, so one
    with this code is set to these values (its zone, hours, days), otherwise it is created."""
    office = db.session.scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        office = Office(code=code)
        db.session.add(office)
    office.name = name
    office.city = name.rsplit(" ", 1)[-1]
    office.address = "Jl. Test 1"
    office.time_zone = time_zone
    office.opens = opens
    office.closes = closes
    office.working_days = working_days
    office.active = True
    db.session.commit()
    return office


def make_slot(
    office: Office, starts_at: datetime, kind: str = "biometrics", capacity: int = 5, minutes: int = 30
) -> AppointmentSlot:
    """Create and commit a published slot (as an officer's page would, without its checks)."""
    slot = AppointmentSlot(
        office_id=office.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        capacity=capacity,
        booked=0,
        created_at=app_clock().now(),
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def free_slot_for(application_id: int, kind: str) -> int:
    """A free slot of the case's office (an office made when there is none), three days ahead at 10:00
    in the office's zone, moved to a working day: what a test books when it does not test booking."""
    application = db.session.get(Application, application_id)
    office = db.session.get(Office, application.office_id) if application and application.office_id else None
    office = office or db.session.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.id)).first()
    office = office or make_office()
    zone = ZoneInfo(office.time_zone)
    day = app_clock().now().astimezone(zone).date() + timedelta(days=3)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    starts_at = datetime.combine(day, time(10), zone).astimezone(UTC)
    slot = db.session.scalars(
        select(AppointmentSlot).where(
            AppointmentSlot.office_id == office.id, AppointmentSlot.kind == kind, AppointmentSlot.starts_at == starts_at
        )
    ).first()
    if slot is None or slot.booked >= slot.capacity:
        slot = make_slot(office, starts_at if slot is None else starts_at + timedelta(hours=1), kind=kind, capacity=50)
    db.session.commit()
    return slot.id
