"""Sending e-mail: a ``Mailer`` protocol, SMTP for real delivery, the log for development."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol

log = logging.getLogger("kitas.mail")

# Port 465 speaks TLS from the first byte (SMTPS); every other port starts in plain text.
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class OutgoingMail:
    """One plain-text e-mail to one recipient."""

    to: str
    subject: str
    text: str
    # Stable across retries (the outbox row's id): a message sent twice after a crash carries the same
    # Message-ID, so mail clients show it once. None: a fresh one.
    message_key: str | None = None


class Mailer(Protocol):
    """Anything that can send an e-mail; raises on failure so the outbox retries."""

    def send(self, mail: OutgoingMail) -> None:
        """Send ``mail`` or raise."""
        ...


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The MIME message for ``mail``, from ``sender``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "kitas.invalid"
    message["Message-ID"] = f"<{mail.message_key}@{domain}>" if mail.message_key else make_msgid(domain=domain)
    # Tells auto-responders and mailing lists not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text)
    return message


class SmtpMailer:
    """Delivery through an SMTP server, with STARTTLS and login when configured."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 30.0,
    ):
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, mail: OutgoingMail) -> None:
        """Open a connection, send one message and close it."""
        message = build_message(mail, self.sender)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.port == IMPLICIT_TLS_PORT:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls and self.port != IMPLICIT_TLS_PORT:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class LogMailer:
    """Development stand-in: writes each message to the log instead of sending it."""

    def __init__(self, sender: str):
        self.sender = sender

    def send(self, mail: OutgoingMail) -> None:
        """Log the message (at WARNING, so it shows with Python's default logging setup)."""
        # Alembic's fileConfig (migrations/env.py) disables loggers created before it runs; this
        # logger is the only way the message is seen, so it is switched back on.
        log.disabled = False
        log.warning(
            "no SMTP server configured (KITAS_SMTP_HOST); this e-mail was NOT sent:\nTo: %s\nSubject: %s\n\n%s",
            mail.to,
            mail.subject,
            mail.text,
        )


def mailer_from_config(config: Mapping[str, Any]) -> Mailer:
    """SMTP when ``KITAS_SMTP_HOST`` is set, else the log."""
    sender = str(config["KITAS_MAIL_FROM"])
    host = config.get("KITAS_SMTP_HOST")
    if not host:
        return LogMailer(sender)
    return SmtpMailer(
        str(host),
        int(config.get("KITAS_SMTP_PORT") or 25),
        sender,
        user=config.get("KITAS_SMTP_USER") or None,
        password=config.get("KITAS_SMTP_PASSWORD") or None,
        starttls=bool(config.get("KITAS_SMTP_STARTTLS")),
    )
