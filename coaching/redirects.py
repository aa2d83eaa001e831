"""Old addresses of the coach's previous site: validation, the 404 fallback, CSV import.

One rule decides whether an address is live (`live_at`), used both when a redirect
is saved (it may not hide a live page) and when a page's slug is chosen. At request
time the table is read only after the site answered 404, so even a redirect saved
before a page went live can never shadow it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve

# Asked about an address that a view with arguments answers (a guide, a product):
# receivers get `view_name` and `kwargs` and return True when a visitor would see a
# live page there. Apps above coaching connect to it (guides, store) so that coaching
# never imports them.
address_is_live = Signal()

PAGE_VIEW = "page"
# A chain longer than this is refused at save time and not followed at request time.
MAX_HOPS = 10


def normalise_old_path(value: str) -> str:
    """An old address as a path: '/papers', 'papers/' and 'https://old.site/papers' agree."""
    value = (value or "").strip()
    if value.startswith(("http://", "https://")):
        parts = urlsplit(value)
        value = parts.path + (f"?{parts.query}" if parts.query else "")
    if not value.startswith("/"):
        value = "/" + value
    return lookup_key(value)


def normalise_new_path(value: str) -> str:
    value = (value or "").strip()
    if value.startswith(("http://", "https://")):
        return value
    return value if value.startswith("/") else "/" + value


def lookup_key(path: str) -> str:
    """What a request and a stored old path are compared by: no trailing slash, so
    /papers and /papers/ are one address (APPEND_SLASH answers one of them anyway)."""
    return path.rstrip("/") or "/"


def fixed_view_at(path: str) -> str:
    """The name of the view (other than the coach's pages) that answers `path`, or ''."""
    try:
        match = resolve(path)
    except Resolver404:
        return ""
    if match.view_name == PAGE_VIEW:
        return ""
    return match.view_name or match._func_path


def live_at(path: str) -> str:
    """What a visitor sees at `path` now ('' when nothing does): the one rule for
    "a redirect may not hide a live page"."""
    from coaching.models import CoachingOffer, Page

    path = path.split("?", 1)[0]
    candidates = {path, path if path.endswith("/") else path + "/"}
    for candidate in sorted(candidates):
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        if match.view_name == PAGE_VIEW:
            if Page.objects.published().filter(slug=match.kwargs.get("slug")).exists():
                return "a published page"
            continue
        if match.view_name == "coaching-offer":
            offers = CoachingOffer.objects.filter(is_published=True)
            if offers.filter(slug=match.kwargs.get("slug")).exists():
                return "a published coaching offer"
            continue
        if not match.kwargs:
            return f"a page of the site ({match.view_name})"
        answers = address_is_live.send(sender=None, view_name=match.view_name, kwargs=match.kwargs)
        if any(answer for _, answer in answers):
            return f"a live page ({match.view_name})"
    return ""


def _redirects_by_key(exclude_pk: int | None) -> dict[str, str]:
    from coaching.models import Redirect

    rows = Redirect.objects.exclude(pk=exclude_pk) if exclude_pk else Redirect.objects.all()
    return {lookup_key(old): new for old, new in rows.values_list("old_path", "new_path")}


def follow(new_path: str, table: dict[str, str]) -> tuple[str, list[str]]:
    """Where `new_path` finally leads through the table, and the hops on the way
    (stopping at the first address seen twice, or after MAX_HOPS)."""
    hops, seen, current = [new_path], {lookup_key(new_path)}, new_path
    while not current.startswith(("http://", "https://")) and lookup_key(current) in table:
        current = table[lookup_key(current)]
        hops.append(current)
        if lookup_key(current) in seen or len(hops) > MAX_HOPS:
            break
        seen.add(lookup_key(current))
    return current, hops


def validate_redirect(
    old_path: str,
    new_path: str,
    *,
    exclude_pk: int | None = None,
    table: dict[str, str] | None = None,
) -> tuple[str, str]:
    """The normalised pair, or a ValidationError saying what is wrong with it."""
    old, new = normalise_old_path(old_path), normalise_new_path(new_path)
    errors: dict[str, str] = {}
    if old == "/":
        errors["old_path"] = "Give the old address, e.g. /papers."
    elif old.startswith(("/admin/", "/accounts/", "/static/", "/media/")):
        errors["old_path"] = "This address belongs to the site's own machinery."
    elif live := live_at(old):
        errors["old_path"] = f"{old} is {live}: a redirect would hide it."
    if not (new_path or "").strip():
        errors["new_path"] = "Give the new address."
    if errors:
        raise ValidationError(errors)
    if lookup_key(old) == lookup_key(new):
        raise ValidationError({"new_path": "A redirect cannot point at itself."})
    table = _redirects_by_key(exclude_pk) if table is None else table
    _, hops = follow(new, table)
    keys = [lookup_key(hop) for hop in hops]
    if lookup_key(old) in keys:
        chain = " → ".join([old, *hops[: keys.index(lookup_key(old)) + 1]])
        raise ValidationError({"new_path": f"This would make a loop: {chain}."})
    if len(hops) > MAX_HOPS or len(set(keys)) < len(keys):
        raise ValidationError({"new_path": "This leads into a chain of redirects that never ends."})
    return old, new


def target_for(path: str) -> str | None:
    """Where an unanswered path should go, following a chain to its end so the
    visitor gets one 301 rather than several."""
    from coaching.models import Redirect

    new = (
        Redirect.objects.filter(old_path=lookup_key(path))
        .values_list("new_path", flat=True)
        .first()
    )
    if new is None:
        return None
    end, _ = follow(new, _redirects_by_key(None))
    return end


class RedirectFallbackMiddleware:
    """After the site answered 404 to a GET, look the path up in the redirect table."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or request.method not in ("GET", "HEAD"):
            return response
        full = request.get_full_path()
        target = target_for(full) if "?" in full else None
        target = target or target_for(request.path)
        if target is None:
            return response
        return HttpResponsePermanentRedirect(target)


# --- Import ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def import_redirects(rows: Iterable[list[str]], *, dry_run: bool = False) -> ImportResult:
    """Rows of (old, new[, note]) from a CSV. Each row is checked against the table as
    the rows before it left it, so a loop inside the file is caught too. Any error
    rolls everything back: a half-imported table is worse than none."""
    from coaching.models import Redirect

    result = ImportResult()
    with transaction.atomic():
        table = _redirects_by_key(None)
        for number, row in enumerate(rows, start=1):
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if number == 1 and [c.lower() for c in cells[:2]] == ["old_path", "new_path"]:
                continue
            if len(cells) < 2:
                result.errors.append(f"Row {number}: needs two columns, old_path and new_path.")
                continue
            old_raw, new_raw, note = cells[0], cells[1], (cells[2] if len(cells) > 2 else "")
            own = table.pop(normalise_old_path(old_raw), None)
            try:
                old, new = validate_redirect(old_raw, new_raw, table=table)
            except ValidationError as error:
                if own is not None:
                    table[normalise_old_path(old_raw)] = own
                messages = "; ".join(m for ms in error.message_dict.values() for m in ms)
                result.errors.append(f"Row {number}: {messages}")
                continue
            table[old] = new
            _, created = Redirect.objects.update_or_create(
                old_path=old, defaults={"new_path": new, "note": note[:200]}
            )
            if created:
                result.created += 1
            else:
                result.updated += 1
        if dry_run or result.errors:
            transaction.set_rollback(True)
    return result


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
