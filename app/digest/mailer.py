"""E-mail through SMTP (the standard library's ``smtplib``, run in a thread): one message per recipient, the
digest as text (Markdown) with an HTML alternative.

``DECISION_LOG_SMTP_URL``: ``smtps://host[:465]`` (TLS from the start) or ``smtp://host[:25]`` (STARTTLS when the
server offers it). A user and password in the URL log in; they are never sent over a connection without TLS (a
server that offers no STARTTLS is refused), and never logged: errors name the host alone.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True, slots=True)
class Letter:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Outcome:
    sent: list[str]  # the addresses the server accepted, in order
    error: str | None  # why the others were not sent (None: all were)


class SmtpError(Exception):
    """A refusal of this side's own (no TLS for credentials)."""


def message(letter: Letter, sender: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = letter.subject
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(letter.text)
    mail.add_alternative(letter.html, subtype="html")
    return mail


def send(url: str, sender: str, recipients: Sequence[str], letter: Letter, *, timeout: float) -> Outcome:
    """Send ``letter`` to each recipient, one message each, over one connection; stops at the first failure.
    Blocking: run it in a thread."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else ""
    sent: list[str] = []
    try:
        context = ssl.create_default_context()
        client = (
            smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            if secure
            else smtplib.SMTP(host, port, timeout=timeout)
        )
        with client:
            client.ehlo()
            if not secure:
                if client.has_extn("starttls"):
                    client.starttls(context=context)
                    client.ehlo()
                elif user is not None:
                    raise SmtpError("the server offers no STARTTLS: the credentials are not sent without TLS")
            if user is not None:
                client.login(user, password)
            for to in recipients:
                client.send_message(message(letter, sender, to))
                sent.append(to)
    except (OSError, smtplib.SMTPException, SmtpError) as error:
        return Outcome(sent, f"{host}:{port}: {type(error).__name__}: {error}"[:500])
    return Outcome(sent, None)
