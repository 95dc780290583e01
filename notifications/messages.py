"""Every message the portal sends is built here, by one function, from three templates (healthchecks'
hc/lib/emails.py): notifications/email/<name>_subject.txt, <name>.txt and <name>.html. They are
written in English with {% translate %} and rendered in Vietnamese (the portal's language): a string
without a Vietnamese translation falls back to its English text, never to nothing. The in-app notice
shows the same subject and text, so the bell and the e-mail always say the same thing."""
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_datetime

from accounts.choices import TurnoverAction

from .models import Notice


@dataclass(frozen=True)
class BuiltMessage:
    subject: str
    text: str
    html: str


def message_build(name: str, context: dict, *, language: str | None = None, in_app: bool = False) -> BuiltMessage:
    """The subject (one line), the plain text and the HTML of message `name`, in `language`. `in_app`
    leaves out the letter's greeting and footer from the text (the bell's list shows the body only)."""
    context = {**context, "in_app": in_app, "PORTAL_NAME": settings.PORTAL_NAME, "PORTAL_URL": settings.PORTAL_URL.rstrip("/"),
               "IT_CENTER_CONTACT": settings.IT_CENTER_CONTACT}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"notifications/email/{name}_subject.txt", context).split())
        text = render_to_string(f"notifications/email/{name}.txt", context).strip() + "\n"
        html = render_to_string(f"notifications/email/{name}.html", context)
    return BuiltMessage(subject=subject, text=text, html=html)


def _link(name: str, *args) -> str:
    return settings.PORTAL_URL.rstrip("/") + reverse(name, args=args)


def notice_context(notice: Notice) -> dict:
    """What a notice's templates see: its stored context (times given back as datetimes), the recipient,
    and the links it points to."""
    stored = {}
    for key, value in (notice.context or {}).items():
        stored[key] = parse_datetime(value) if key.endswith("_at") and isinstance(value, str) else value
    return {
        **stored,
        "notice": notice,
        "recipient": notice.recipient,
        "threshold": notice.threshold,
        "deadline": notice.deadline,
        "created_at": notice.created_at,
        "password_change_url": _link("password_change"),
        "notifications_url": _link("notifications:list"),
        "preferences_url": _link("notifications:preferences"),
        "failed_url": _link("notifications:failed"),
        "home_url": _link("home"),
        "recertification_url": _link("accounts:recertification"),
        "action_label": TurnoverAction(stored["action"]).label if stored.get("action") in TurnoverAction.values else "",
    }


def notice_message(notice: Notice, *, in_app: bool = False) -> BuiltMessage:
    # Every IT Center alert and daily report has one triple: its source wrote the title and the lines.
    return message_build(notice.kind, notice_context(notice), in_app=in_app)


def _message_id(notice: Notice) -> str:
    """The same Message-ID for every attempt of one notice: should a worker die between the SMTP
    server's "250 OK" and the row's "sent", the second copy carries the first one's id, and mail
    systems that deduplicate by it show one message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<notice-{notice.pk}@{domain}>"


def notice_email(notice: Notice, *, connection=None) -> EmailMultiAlternatives:
    built = notice_message(notice)
    name = notice.recipient.full_name.replace('"', "").replace("\\", "")
    # Django encodes a non-ASCII display name itself (sanitize_address); quoted for commas in names.
    to = f'"{name}" <{notice.email_to}>' if name else notice.email_to
    email = EmailMultiAlternatives(built.subject, built.text, settings.DEFAULT_FROM_EMAIL, [to],
                                   headers={"Message-ID": _message_id(notice), "Auto-Submitted": "auto-generated"},
                                   connection=connection)
    email.attach_alternative(built.html, "text/html")
    return email

