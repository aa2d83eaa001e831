"""The workspace's own admin pages: board, moves, notes, tasks, outcomes, brief, CSV.

Each view takes the ContactAdmin first (for `admin_site.each_context`); they are
wired in ContactAdmin.get_urls behind `staff_view`. Reads use a fixed number of
queries whatever the number of contacts or events (tests count them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Subquery, Window
from django.db.models.functions import RowNumber
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from clients import csvio, results, services
from clients.brief import build_brief
from clients.forms import GiveBackForm, ImportForm, MoveForm, NoteForm, OutcomeForm, TaskForm
from clients.models import (
    ClientsError,
    Contact,
    Engagement,
    Pipeline,
    Session,
    Stage,
    Task,
    TimelineEvent,
)
from coaching.admin_site import permission_required_or_403, require_permissions
from coaching.roles import sees_money

# Exporting also needs the permission to see what the file holds.
EXPORT_VIEW_PERMISSION = {
    "contacts": "clients.view_contact",
    "orders": "store.view_order",
    "subscribers": "newsletter.view_subscriber",
}

CARDS_PER_STAGE = 20
TIMELINE_PAGE = 25


def staff_view(
    admin: Any, view: Callable[..., HttpResponse], *perms: str
) -> Callable[..., HttpResponse]:
    """Like every admin page: anyone but active staff is sent to the admin's sign-in
    (which hands over to the site's); staff without the permissions named (the view
    permission on contacts at least) get 403."""

    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(admin, request, *args, **kwargs)

    checked = permission_required_or_403("clients.view_contact", *perms)(inner)
    return admin.admin_site.admin_view(checked)


def post_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """require_POST for views whose first argument is the model admin."""

    def wrapped(admin: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(admin, request, *args, **kwargs)

    return wrapped


def open_tasks_subquery() -> Subquery:
    return Subquery(
        Task.objects.filter(contact=OuterRef("pk"), done_at__isnull=True)
        .order_by()
        .values("contact")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(default)


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _contact(pk: int) -> Contact:
    return get_object_or_404(Contact, pk=pk)


# --- The contact page ------------------------------------------------------------------------


def _stage_groups(
    stages: list[Stage], contact: Contact
) -> list[tuple[str, list[tuple[Stage, str]]]]:
    """The stage menu: the contact's own pipeline first, each other one after it
    with its name on every option, so two "Lost" stages never read the same."""
    own = contact.stage.pipeline_id if contact.stage else contact.pipeline_id
    groups: dict[int, tuple[str, list[tuple[Stage, str]]]] = {}
    for stage in stages:
        mine = stage.pipeline_id == own
        label = f"{stage.pipeline.name} (this contact's)" if mine else stage.pipeline.name
        text = stage.name if mine else f"{stage.name} · {stage.pipeline.name}"
        groups.setdefault(stage.pipeline_id, (label, []))[1].append((stage, text))
    return [groups[pk] for pk in sorted(groups, key=lambda pk: pk != own)]


def workspace_context(request: HttpRequest, contact: Contact) -> dict[str, Any]:
    money = sees_money(request.user)
    events = contact.timeline.all().order_by("-occurred_at", "-pk")
    if not money:
        events = events.exclude(kind__in=TimelineEvent.MONEY_KINDS)
    timeline = Paginator(events, TIMELINE_PAGE).get_page(request.GET.get("tl"))
    engagements = list(
        contact.engagements.prefetch_related("sessions__booking", "adjustments").order_by(
            "-started_at"
        )
    )
    stages = list(
        Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "pipeline_id", "position"
        )
    )
    return {
        "stage_groups": _stage_groups(stages, contact),
        "contact": contact,
        "timeline": timeline,
        "notes": list(contact.notes.select_related("author")[:50]),
        "tasks": list(contact.tasks.order_by("done_at", "due_on")[:50]),
        "engagements": engagements,
        "credits_left": sum(
            e.credits_left for e in engagements if e.status == Engagement.Status.ACTIVE
        ),
        "outcomes": list(contact.outcomes.all()),
        "stage_history": list(
            contact.stage_changes.select_related("from_stage", "to_stage", "by")[:30]
        ),
        "note_form": NoteForm(),
        "task_form": TaskForm(initial={"due_on": timezone.localdate()}),
        "outcome_form": OutcomeForm(initial={"kind": "offer"}, contact=contact),
        "today": timezone.localdate(),
        "sees_money": money,
        "can_give_back": request.user.has_perms(
            ["clients.change_session", "clients.add_creditadjustment"]
        ),
    }


@post_only
def move(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(pk)
    form = MoveForm(request.POST)
    error = None
    if not form.is_valid():
        error = "; ".join(str(m) for errors in form.errors.values() for m in errors)
    else:
        try:
            services.move_contact(
                contact=contact,
                stage=form.cleaned_data["stage"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ClientsError as refused:
            error = str(refused)
    if _wants_json(request):
        if error:
            return JsonResponse({"ok": False, "error": error}, status=400)
        name = contact.stage.name if contact.stage else ""
        return JsonResponse({"ok": True, "stage": contact.stage_id, "name": name})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{contact} moved to {contact.stage or 'no stage'}.")
    return _back(request, reverse("admin:clients_contact_change", args=[pk]))


@post_only
def add_note(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        note = form.save(commit=False)
        note.contact, note.author = contact, request.user
        note.save()
        messages.success(request, "Note added.")
    else:
        messages.error(request, "A note needs some text.")
    return redirect(reverse("admin:clients_contact_change", args=[pk]) + "#cl-notes")


@post_only
def add_task(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(pk)
    form = TaskForm(request.POST)
    if form.is_valid():
        task = form.save(commit=False)
        task.contact, task.created_by = contact, request.user
        task.save()
        messages.success(request, "Follow-up added.")
    else:
        messages.error(request, "A follow-up needs a title and a due date.")
    return redirect(reverse("admin:clients_contact_change", args=[pk]) + "#cl-tasks")


@post_only
def complete_task(admin: Any, request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    task = get_object_or_404(Task, pk=task_pk, contact_id=pk)
    if task.complete():
        messages.success(request, f"Done: {task.title}.")
    return _back(request, reverse("admin:clients_contact_change", args=[pk]) + "#cl-tasks")


@post_only
def add_outcome(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(pk)
    form = OutcomeForm(request.POST, contact=contact)
    if form.is_valid():
        outcome = form.save(commit=False)
        outcome.contact = contact
        # A new offer also asks the client for a testimonial.
        results.record_outcome(outcome)
        messages.success(request, f"Recorded: {outcome}.")
    else:
        messages.error(
            request,
            "Could not record the outcome: "
            + "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()),
        )
    return redirect(reverse("admin:clients_contact_change", args=[pk]) + "#cl-outcomes")


@post_only
def give_back(admin: Any, request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    session = get_object_or_404(Session, pk=session_pk, contact_id=pk)
    form = GiveBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Giving a credit back needs a reason.")
    elif services.give_back_credit(
        session=session, reason=form.cleaned_data["reason"], by=request.user
    ):
        messages.success(request, "Credit given back.")
    else:
        messages.warning(request, "That session had no credit to give back.")
    return redirect(reverse("admin:clients_contact_change", args=[pk]) + "#cl-engagements")


@post_only
def session_outcome(admin: Any, request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    session = get_object_or_404(Session, pk=session_pk, contact_id=pk)
    outcome = request.POST.get("outcome", "")
    try:
        services.record_session_outcome(session=session, outcome=outcome, by=request.user)
    except ClientsError as refused:
        messages.error(request, str(refused))
    return redirect(reverse("admin:clients_contact_change", args=[pk]) + "#cl-engagements")


# --- The board ---------------------------------------------------------------------------------


def url_for_each(name: str) -> Callable[[int], str]:
    """The URL named `name` for any primary key, with one `reverse()` for them all.

    A board holds up to 160 cards with two links each; reversing each one cost
    more than the board's queries.
    """
    marker = "987654321987654321"
    pattern = reverse(name, args=[marker])
    return lambda pk: pattern.replace(marker, str(int(pk)))


def board(admin: Any, request: HttpRequest) -> HttpResponse:
    pipelines = list(Pipeline.objects.order_by("position", "pk"))
    if not pipelines:
        pipelines = [Pipeline.objects.default()]
    chosen = request.GET.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == chosen), None)
    pipeline = pipeline or next((p for p in pipelines if p.is_default), pipelines[0])
    stages = list(pipeline.stages.order_by("position", "pk"))
    counts = dict(
        Contact.objects.filter(stage__pipeline=pipeline)
        .order_by()
        .values_list("stage")
        .annotate(n=Count("pk"))
    )
    ranked = (
        Contact.objects.filter(stage__pipeline=pipeline)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("stage_changed_at").desc(nulls_last=True), F("pk").desc()],
            ),
            open_tasks=open_tasks_subquery(),
        )
        .filter(rank__lte=CARDS_PER_STAGE)
        .order_by("stage_id", "rank")
    )
    cards: dict[int, list[Contact]] = {stage.pk: [] for stage in stages}
    for contact in ranked:
        cards.setdefault(contact.stage_id or 0, []).append(contact)
    now = timezone.now()
    change_url = url_for_each("admin:clients_contact_change")
    move_url = url_for_each("admin:clients_contact_move")
    columns = [
        {
            "stage": stage,
            "cards": [
                {
                    "contact": c,
                    "days": (now - c.stage_changed_at).days if c.stage_changed_at else 0,
                    "change_url": change_url(c.pk),
                    "move_url": move_url(c.pk),
                }
                for c in cards.get(stage.pk, [])
            ],
            "count": counts.get(stage.pk, 0),
            "more": max(0, counts.get(stage.pk, 0) - CARDS_PER_STAGE),
            # Every card's "Move to" menu, this column's stage selected: built once
            # per column, not once per card (160 cards x 8 stages through the
            # template engine was a third of the page's time).
            "move_options": format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((s.pk, " selected" if s.pk == stage.pk else "", s.name) for s in stages),
            ),
        }
        for stage in stages
    ]
    context = {
        **admin.admin_site.each_context(request),
        "title": f"Pipeline board: {pipeline.name}",
        "opts": admin.model._meta,
        "pipeline": pipeline,
        "pipelines": pipelines,
        "columns": columns,
        "list_url": reverse("admin:clients_contact_changelist"),
        "back_to": request.get_full_path(),
    }
    return TemplateResponse(request, "clients/admin/board.html", context)


# --- Prep brief ------------------------------------------------------------------------------


def brief(admin: Any, request: HttpRequest, booking_pk: int) -> HttpResponse:
    from bookings.models import Booking

    booking = get_object_or_404(Booking.objects.select_related("event_type"), pk=booking_pk)
    data = build_brief(booking)
    context = {
        **admin.admin_site.each_context(request),
        "title": f"Prep brief: {booking.name or booking.email}",
        "opts": admin.model._meta,
        "brief": data,
        "booking": booking,
        "sees_money": sees_money(request.user),
    }
    return TemplateResponse(request, "clients/admin/brief.html", context)


# --- CSV ---------------------------------------------------------------------------------------


def export(admin: Any, request: HttpRequest, what: str) -> HttpResponse:
    if what not in csvio.EXPORTS:
        raise Http404("No such export.")
    require_permissions(request, EXPORT_VIEW_PERMISSION[what])
    header, rows = csvio.EXPORTS[what]
    stamp = timezone.now().strftime("%Y%m%d")
    return csvio.stream_csv(f"{what}-{stamp}.csv", header, rows())


def import_contacts(admin: Any, request: HttpRequest) -> HttpResponse:
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > csvio.MAX_IMPORT_BYTES:
            form.add_error("file", "The file is larger than 5 MB: split it and import each part.")
        else:
            report = csvio.import_contacts(
                data=upload.read(),
                dry_run=form.cleaned_data["dry_run"],
                by=request.user,
                filename=upload.name,
            )
            if report.written:
                messages.success(
                    request,
                    f"Imported: {report.count('create')} new, {report.count('update')} updated.",
                )
    status = 400 if report is not None and report.errors else 200
    context = {
        **admin.admin_site.each_context(request),
        "title": "Import contacts",
        "opts": admin.model._meta,
        "form": form,
        "report": report,
    }
    return TemplateResponse(request, "clients/admin/import.html", context, status=status)
