"""E-mail: the standalone HTML page (styles inline, one column) with a plain-text
alternative, sent over SMTP (STARTTLS, implicit TLS, or plain on a trusted relay).

``smtplib`` is blocking, so the conversation runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from app.config import EmailDeliveryConfig, resolve_secret
from app.reports.delivery.message import DeliveryError, Message, Sent


def compose(config: EmailDeliveryConfig, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.recipients)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2])
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


class EmailChannel:
    name = "email"

    def __init__(self, config: EmailDeliveryConfig, environ: Mapping[str, str]) -> None:
        self._config = config
        self._environ = environ

    def _credentials(self) -> tuple[str, str] | None:
        c = self._config
        if not (c.username_env and c.password_env):
            return None
        try:
            return (
                resolve_secret(c.username_env, self._environ).get_secret_value(),
                resolve_secret(c.password_env, self._environ).get_secret_value(),
            )
        except KeyError as exc:
            raise DeliveryError(str(exc.args[0]), transient=False) from None

    async def send(self, message: Message) -> Sent:
        mail = compose(self._config, message)
        credentials = self._credentials()
        refused = await asyncio.to_thread(self._send, mail, credentials)
        if refused:
            # The others have it; sending again would reach them twice.
            return Sent(note=f"refused by the server: {', '.join(sorted(refused))}")
        return Sent()

    def _send(self, mail: EmailMessage, credentials: tuple[str, str] | None) -> list[str]:
        c = self._config
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP = (
                smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_seconds, context=context)
                if c.security == "tls"
                else smtplib.SMTP(c.host, c.port, timeout=c.timeout_seconds)
            )
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=context)
                if credentials is not None:
                    smtp.login(*credentials)
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"the SMTP server refused the login ({exc.smtp_code})", transient=False
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"every recipient was refused: {', '.join(exc.recipients)}", transient=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"the SMTP server answered {exc.smtp_code}", transient=400 <= exc.smtp_code < 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"could not reach the SMTP server ({type(exc).__name__})", transient=True
            ) from None
        return list(refused)
