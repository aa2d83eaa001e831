"""CSV out (streamed, for contacts, orders and subscribers) and CSV in (contacts, all or nothing).

The import reads and checks every row before writing anything: one bad row
rejects the file with its row number and reason, and nothing is written.
A dry run reports what would change without writing either.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import StreamingHttpResponse

from clients.models import Contact, Pipeline, Source, Stage

MAX_IMPORT_BYTES = 5 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- Export -------------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is written as text instead.
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def stream_csv(filename: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Any:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


CONTACT_HEADER = [
    "email",
    "name",
    "time_zone",
    "company",
    "source",
    "source_detail",
    "pipeline",
    "stage",
    "lost_reason",
    "created_at",
    "last_activity_at",
]


def contact_rows(queryset: Any = None) -> Iterator[tuple[Any, ...]]:
    queryset = Contact.objects.all() if queryset is None else queryset
    yield from (
        queryset.order_by("pk")
        .values_list(
            "email",
            "name",
            "time_zone",
            "company",
            "source",
            "source_detail",
            "pipeline__name",
            "stage__name",
            "lost_reason",
            "created_at",
            "last_activity_at",
        )
        .iterator(chunk_size=2000)
    )


ORDER_HEADER = [
    "number",
    "email",
    "status",
    "currency",
    "subtotal",
    "discount",
    "total",
    "amount_refunded",
    "items",
    "created_at",
    "paid_at",
]


def order_rows() -> Iterator[tuple[Any, ...]]:
    from django.db.models import StringAgg, Value

    from store.models import Order

    yield from (
        Order.objects.order_by("pk")
        .annotate(titles=StringAgg("items__title", delimiter=Value("; "), default=""))
        .values_list(
            "number",
            "email",
            "status",
            "currency",
            "subtotal",
            "discount",
            "total",
            "amount_refunded",
            "titles",
            "created_at",
            "paid_at",
        )
        .iterator(chunk_size=2000)
    )


SUBSCRIBER_HEADER = [
    "email",
    "name",
    "status",
    "time_zone",
    "consent_at",
    "consent_source",
    "confirmed_at",
    "unsubscribed_at",
    "last_engaged_at",
]


def subscriber_rows() -> Iterator[tuple[Any, ...]]:
    from newsletter.models import Subscriber

    yield from (
        Subscriber.objects.order_by("pk").values_list(*SUBSCRIBER_HEADER).iterator(chunk_size=2000)
    )


EXPORTS = {
    "contacts": (CONTACT_HEADER, contact_rows),
    "orders": (ORDER_HEADER, order_rows),
    "subscribers": (SUBSCRIBER_HEADER, subscriber_rows),
}


# --- Import -------------------------------------------------------------------------------

FIELDS = {"name": 150, "time_zone": 64, "company": 150, "source_detail": 200}


@dataclass
class RowPlan:
    row: int
    email: str
    action: str  # create, update, unchanged
    changes: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    stage: Stage | None = None
    lost_reason: str = ""
    source: str = ""


@dataclass
class ImportReport:
    plans: list[RowPlan] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for plan in self.plans if plan.action == action)

    @property
    def creates(self) -> int:
        return self.count("create")

    @property
    def updates(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def read_rows(data: bytes) -> tuple[list[dict[str, str]], str | None]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], "The file is not UTF-8 text: save it as “CSV UTF-8” and try again."
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        return [], "The first row must be a header naming the columns, with an “email” column."
    if "\x00" in text:
        return [], "The file holds NUL characters: it is not a CSV text file."
    rows = []
    try:
        for raw in reader:
            rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k})
    except csv.Error as error:
        return [], f"The file is not valid CSV near row {reader.line_num}: {error}"
    return rows, None


def plan_import(data: bytes) -> ImportReport:
    """Check every row and work out what it would change; writes nothing."""
    report = ImportReport()
    rows, problem = read_rows(data)
    if problem:
        report.errors.append((1, problem))
        return report
    # A fresh workspace gets its default pipelines first (set-up, not imported data).
    default_id = Pipeline.objects.default().pk
    stages = list(Stage.objects.select_related("pipeline"))
    emails = [row.get("email", "").lower() for row in rows]
    existing = {
        c.email: c for c in Contact.objects.filter(email__in=emails).select_related("stage")
    }
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        email = row.get("email", "").lower()
        reason = _row_problem(row, email, seen)
        stage = None
        if reason is None and (row.get("stage") or row.get("pipeline")):
            stage, reason = _find_stage(row, stages, default_id)
        if reason is None and stage is not None and stage.is_lost and not row.get("lost_reason"):
            reason = f"stage “{stage.name}” needs a lost_reason"
        if reason is not None:
            report.errors.append((number, reason))
            continue
        seen[email] = number
        report.plans.append(_plan_row(number, email, row, existing.get(email), stage))
    return report


def _row_problem(row: dict[str, str], email: str, seen: dict[str, int]) -> str | None:
    if not email:
        return "email is empty"
    try:
        validate_email(email)
    except ValidationError:
        return f"“{email}” is not an email address"
    if email in seen:
        return f"{email} is already on row {seen[email]}"
    for name, limit in FIELDS.items():
        if len(row.get(name, "")) > limit:
            return f"{name} is longer than {limit} characters"
    if row.get("time_zone") and not _valid_zone(row["time_zone"]):
        return f"“{row['time_zone']}” is not a time zone (use e.g. Europe/London)"
    if row.get("source") and row["source"].lower() not in Source.values:
        return f"source “{row['source']}” is not one of {', '.join(Source.values)}"
    return None


def _find_stage(
    row: dict[str, str], stages: list[Stage], default_id: int | None
) -> tuple[Stage | None, str | None]:
    pipeline_name = row.get("pipeline", "").lower()
    stage_name = row.get("stage", "").lower()
    if pipeline_name and not any(s.pipeline.name.lower() == pipeline_name for s in stages):
        return None, f"there is no pipeline “{row['pipeline']}”"
    for stage in stages:
        in_pipeline = (
            stage.pipeline.name.lower() == pipeline_name
            if pipeline_name
            else stage.pipeline_id == default_id
        )
        if in_pipeline and (stage.name.lower() == stage_name or not stage_name):
            return stage, None
    return None, f"there is no stage “{row.get('stage')}” in that pipeline"


def _plan_row(
    number: int, email: str, row: dict[str, str], contact: Contact | None, stage: Stage | None
) -> RowPlan:
    values = {name: row[name] for name in FIELDS if row.get(name)}
    source = row.get("source", "").lower()
    plan = RowPlan(
        row=number,
        email=email,
        action="create",
        values=values,
        stage=stage,
        lost_reason=row.get("lost_reason", ""),
        source=source,
    )
    if contact is None:
        plan.changes = [f"{name}: {value}" for name, value in values.items()]
        if stage is not None:
            plan.changes.append(f"stage: {stage.name}")
        return plan
    for name, value in values.items():
        old = getattr(contact, name)
        if old != value:
            plan.changes.append(f"{name}: “{old}” → “{value}”")
    if stage is not None and stage.pk != contact.stage_id:
        old_stage = contact.stage.name if contact.stage else "none"
        plan.changes.append(f"stage: {old_stage} → {stage.name}")
    plan.action = "update" if plan.changes else "unchanged"
    return plan


def import_contacts(*, data: bytes, dry_run: bool, by: Any, filename: str = "") -> ImportReport:
    """Plan, then (not a dry run, no rejected row) write every row in one transaction."""
    report = plan_import(data)
    if dry_run or report.errors:
        return report
    from clients import services

    with transaction.atomic():
        for plan in report.plans:
            if plan.action == "unchanged":
                continue
            contact = services.contact_for(
                email=plan.email,
                source=plan.source or Source.IMPORT,
                detail=plan.values.get("source_detail") or filename,
            )
            assert contact is not None  # the address was validated
            fields = [
                name for name, value in plan.values.items() if getattr(contact, name) != value
            ]
            for name in fields:
                setattr(contact, name, plan.values[name])
            if fields:
                contact.save(update_fields=fields)
            if plan.stage is not None and plan.stage.pk != contact.stage_id:
                contact.move_to(plan.stage, by=by, reason=plan.lost_reason or "Imported")
    report.written = True
    return report
