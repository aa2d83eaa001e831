"""Subscribers brought over from another newsletter tool's export.

Each source gets one small function mapping a CSV row to a `Record`; everything
after that (consent, suppression, uniqueness) is shared by `import_rows`. The
people were already opted in on the old tool, so nobody is sent a new opt-in:
the consent kept is the old tool's date and the source named, and whoever left
or bounced there is suppressed here.
"""

from __future__ import annotations

import csv
import datetime as dt
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter.models import MailingList, Subscriber, Subscription, Suppression

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
COMPLAINED = "complained"

SUPPRESSION_REASON = {
    UNSUBSCRIBED: Suppression.Reason.UNSUBSCRIBED,
    BOUNCED: Suppression.Reason.HARD_BOUNCE,
    COMPLAINED: Suppression.Reason.COMPLAINT,
}


class RowError(ValueError):
    """A row that cannot be imported; the others still are."""


@dataclass(frozen=True)
class Record:
    email: str
    status: str
    source: str
    name: str = ""
    consent_at: dt.datetime | None = None
    consent_ip: str | None = None


Row = Mapping[str, str | None]


def _get(row: Row, *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value:
            return value.strip()
    return ""


def _true(value: str) -> bool:
    return value.strip().lower() in {"true", "yes", "1", "y", "t"}


def _email(value: str) -> str:
    email = value.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise RowError(f"not an email address: {email!r}") from None
    return email


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y %H:%M", "%m/%d/%Y")


def parse_date(value: str) -> dt.datetime | None:
    """The old tools' timestamps (ISO 8601, "... UTC", a plain date) as aware UTC; blank is None.

    A time without a zone is taken as UTC: that is what each of these exports writes.
    """
    text = value.strip()
    if not text:
        return None
    if text.endswith(" UTC"):
        text = text[:-4]
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise RowError(f"not a date: {value.strip()!r}")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# --- One function per source ----------------------------------------------------------


def from_substack(row: Row) -> Record:
    # email_disabled is Substack's "unsubscribed from emails"; a paid plan changes nothing here.
    disabled = _true(_get(row, "email_disabled"))
    return Record(
        email=_email(_get(row, "email")),
        name=_get(row, "name"),
        status=UNSUBSCRIBED if disabled else SUBSCRIBED,
        consent_at=parse_date(_get(row, "created_at", "subscription_created_at")),
        source="Substack import",
    )


def from_ghost(row: Row) -> Record:
    subscribed = _true(_get(row, "subscribed_to_emails")) and not _get(row, "deleted_at")
    return Record(
        email=_email(_get(row, "email")),
        name=_get(row, "name"),
        status=SUBSCRIBED if subscribed else UNSUBSCRIBED,
        consent_at=parse_date(_get(row, "created_at")),
        source="Ghost import",
    )


def from_mailchimp(row: Row) -> Record:
    # Mailchimp exports subscribed, unsubscribed and cleaned members as separate
    # files; the last two carry UNSUB_TIME or CLEAN_TIME columns.
    if "CLEAN_TIME" in row:
        status = BOUNCED
    elif "UNSUB_TIME" in row:
        status = UNSUBSCRIBED
    else:
        status = SUBSCRIBED
    name = " ".join(p for p in (_get(row, "First Name"), _get(row, "Last Name")) if p)
    ip = _get(row, "CONFIRM_IP", "OPTIN_IP") or None
    return Record(
        email=_email(_get(row, "Email Address")),
        name=name,
        status=status,
        consent_at=parse_date(_get(row, "CONFIRM_TIME", "OPTIN_TIME")),
        consent_ip=_ip(ip),
        source="Mailchimp import",
    )


_KIT_STATES = {
    "active": SUBSCRIBED,
    "inactive": UNSUBSCRIBED,
    "cancelled": UNSUBSCRIBED,
    "unsubscribed": UNSUBSCRIBED,
    "bounced": BOUNCED,
    "complained": COMPLAINED,
}


def from_kit(row: Row) -> Record:
    state = _get(row, "state", "status").lower() or "active"
    if state not in _KIT_STATES:
        raise RowError(f"unknown state: {state!r}")
    return Record(
        email=_email(_get(row, "email_address", "email")),
        name=_get(row, "first_name"),
        status=_KIT_STATES[state],
        consent_at=parse_date(_get(row, "created_at")),
        source="Kit import",
    )


def from_csv(row: Row) -> Record:
    status = _get(row, "status").lower() or SUBSCRIBED
    if status not in {SUBSCRIBED, UNSUBSCRIBED, BOUNCED, COMPLAINED}:
        raise RowError(f"unknown status: {status!r}")
    return Record(
        email=_email(_get(row, "email")),
        name=_get(row, "name"),
        status=status,
        consent_at=parse_date(_get(row, "consent_date")),
        source=(_get(row, "source") or "CSV import")[:120],
    )


def _ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None  # an unusable IP is not worth losing the row for


SOURCES: dict[str, Callable[[Row], Record]] = {
    "substack": from_substack,
    "ghost": from_ghost,
    "mailchimp": from_mailchimp,
    "kit": from_kit,
    "csv": from_csv,
}


# --- Reading and writing --------------------------------------------------------------


def read_records(path: Path, source: str) -> Iterator[tuple[int, Record | RowError]]:
    """(line number, record or the reason it was refused) for every data row."""
    parse = SOURCES[source]
    # utf-8-sig: spreadsheet programs and Mailchimp start the file with a BOM.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            try:
                yield reader.line_num, parse(row)
            except RowError as error:
                yield reader.line_num, error


@dataclass
class Report:
    added: int = 0
    already_there: int = 0
    suppressed: int = 0
    already_suppressed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.already_there} already there, "
            f"{self.suppressed} suppressed, {self.already_suppressed} already suppressed, "
            f"{len(self.errors)} rejected"
        )


CONSENT_TEXT = "Opted in on {tool}; imported without a new opt-in."


def import_rows(
    rows: Iterable[tuple[int, Record | RowError]],
    *,
    mailing_list: MailingList,
    dry_run: bool = False,
) -> Report:
    """Write the records; on a dry run do the same work and roll it back, so counts match."""
    report = Report()
    with transaction.atomic():
        for line, record in rows:
            if isinstance(record, RowError):
                report.errors.append((line, str(record)))
            elif record.status == SUBSCRIBED:
                _add(record, mailing_list, report)
            else:
                _suppress(record, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _add(record: Record, mailing_list: MailingList, report: Report) -> None:
    email_lower = record.email.lower()
    if Suppression.objects.filter(email=email_lower).exists():
        report.already_suppressed += 1
        return
    if Subscriber.objects.filter(email_lower=email_lower).exists():
        report.already_there += 1
        return
    consent_at = record.consent_at or timezone.now()
    try:
        # A savepoint so that a row taken meanwhile (uniqueness) leaves the rest going.
        with transaction.atomic():
            subscriber = Subscriber.objects.create(
                email=record.email,
                name=record.name[:150],
                status=Subscriber.Status.CONFIRMED,
                consent_at=consent_at,
                consent_ip=record.consent_ip,
                consent_source=record.source[:120],
                consent_text=CONSENT_TEXT.format(tool=record.source.removesuffix(" import")),
                created_at=consent_at,
                confirmed_at=consent_at,
            )
            Subscription.objects.create(
                subscriber=subscriber, mailing_list=mailing_list, created_at=consent_at
            )
    except IntegrityError:
        report.already_there += 1
        return
    report.added += 1


def _suppress(record: Record, report: Report) -> None:
    _, created = Suppression.objects.get_or_create(
        email=record.email.lower(),
        defaults={"reason": SUPPRESSION_REASON[record.status], "detail": record.source},
    )
    if created:
        report.suppressed += 1
    else:
        report.already_suppressed += 1
