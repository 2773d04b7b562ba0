"""The account e-mails, written when the outbox sends them rather than in the request that asks for them.

A request for a reset link, a new confirmation link or an account queues one outbox
row for the typed address (``notifications.queue_for_address``), whether or not the
address has an account, so the answer costs the same either way. The renderers below
run in the scheduler: they look the account up, decide whether there is anything to
send and write the message with a fresh link in the account's language and zone, and audit what
they sent on the account's own chain. At most ``MAIL_LIMIT`` e-mails of one kind go to one address per hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import User
from ...transactions import write_transaction
from .. import audit, notifications
from . import login_limits
from . import tokens as account_tokens

# E-mails are also written outside any request (the scheduler), where url_for cannot build URLs.
VERIFY_PATH = "/auth/verify/{token}"
RESET_PATH = "/auth/reset/{token}"
SIGN_IN_PATH = "/auth/link/{token}"
VERIFY_SUBJECT = Message("Confirm your e-mail address for KITAS Online")
RESET_SUBJECT = Message("Reset your KITAS Online password")
REGISTERED_AGAIN_SUBJECT = Message("Someone tried to register with your address at KITAS Online")
SIGN_IN_SUBJECT = Message("Your one-time sign-in link for KITAS Online")
# At most this many e-mails of one kind per address per hour, so the forms cannot flood a mailbox.
MAIL_LIMIT = 3
MAIL_LIMIT_WINDOW = timedelta(hours=1)

VERIFY = "account.verify"
RESET = "account.reset"
REGISTERED_AGAIN = "account.registered_again"
SIGN_IN_LINK = "account.sign_in_link"


def queue(template: str, email: str, address: str) -> bool:
    """Queue an account e-mail of ``template`` to ``email`` in the caller's transaction (under the hourly cap)."""
    since = app_clock().now() - MAIL_LIMIT_WINDOW
    return notifications.queue_for_address(template, email, {"address": address}, cap=MAIL_LIMIT, since=since)


def _account(email: str) -> User | None:
    user = db.session.scalars(select(User).where(User.email == email)).first()
    return user if user is not None and user.is_active else None


def _mail(
    user: User, subject: Message, template: str, site_link: str | None = None, **context: Any
) -> notifications.RenderedMail:
    """The e-mail written from ``template`` in ``user``'s language and zone (``site_link``: the path it links to)."""
    with notifications.in_language_of(user):
        body = render_template(template, user=user, **context)
        return notifications.RenderedMail(notifications.localized(subject), body, site_link)


def _audited(user: User, action: str, params: dict[str, Any], queued_at: datetime) -> None:
    with write_transaction():
        row = db.session.get(User, user.id)
        detail = {"email": user.email, "address": params.get("address"), "queued_at": queued_at.isoformat()}
        audit.record(action, detail, user=row)


def _verification(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    user = _account(email)
    if user is None or user.email_verified_at is not None:
        return None  # no account, or nothing left to confirm
    link = VERIFY_PATH.format(token=account_tokens.verification_token(user))
    hours = int(account_tokens.VERIFY_MAX_AGE.total_seconds() // 3600)
    mail = _mail(
        user, VERIFY_SUBJECT, "email/verify_email.txt", link, link=notifications.absolute_link(link), hours=hours
    )
    _audited(user, "email_verification_sent", params, queued_at)
    return mail


def _reset(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    user = _account(email)
    if user is None:
        return None
    link = RESET_PATH.format(token=account_tokens.reset_token(user))
    minutes = int(account_tokens.RESET_MAX_AGE.total_seconds() // 60)
    mail = _mail(
        user, RESET_SUBJECT, "email/reset_password.txt", link, link=notifications.absolute_link(link), minutes=minutes
    )
    _audited(user, "password_reset_requested", params, queued_at)
    return mail


def _registered_again(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    user = _account(email)
    if user is None:
        return None
    mail = _mail(
        user,
        REGISTERED_AGAIN_SUBJECT,
        "email/registered_again.txt",
        login_link=notifications.absolute_link("/auth/login"),
        forgot_link=notifications.absolute_link("/auth/forgot"),
    )
    _audited(user, "registration_with_existing_address", params, queued_at)
    return mail


def _sign_in_link(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    user = _account(email)
    if user is None:
        return None
    token = account_tokens.sign_in_token(user, login_limits.last_success_id(user.email))
    link = SIGN_IN_PATH.format(token=token)
    minutes = int(account_tokens.SIGN_IN_MAX_AGE.total_seconds() // 60)
    mail = _mail(
        user, SIGN_IN_SUBJECT, "email/sign_in_link.txt", link, link=notifications.absolute_link(link), minutes=minutes
    )
    _audited(user, "sign_in_link_sent", params, queued_at)
    return mail


notifications.register_renderer(VERIFY, _verification)
notifications.register_renderer(RESET, _reset)
notifications.register_renderer(REGISTERED_AGAIN, _registered_again)
notifications.register_renderer(SIGN_IN_LINK, _sign_in_link)
