"""Public newsletter pages: subscribe, confirm, preferences, unsubscribe, clicks, archive."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from coaching import throttles
from newsletter import services, tokens
from newsletter.forms import PreferencesForm, SubscribeForm
from newsletter.models import Campaign, MailingList, Subscriber, Subscription
from newsletter.rendering import render_body

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _subscriber_for_token(token: str) -> Subscriber | None:
    subscriber_id = tokens.read_subscriber_token(token)
    if subscriber_id is None:
        return None
    return Subscriber.objects.filter(pk=subscriber_id).first()


def _who_asked(request: HttpRequest) -> dict[str, Any]:
    """User agent and address of an open or a click: how reports tell machines from people."""
    address: str | None = throttles.client_ip(request)
    try:
        ipaddress.ip_address(address or "")
    except ValueError:
        address = None  # "unknown": no address to record
    return {"user_agent": request.headers.get("User-Agent", "")[:300], "ip": address}


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "newsletter/invalid_link.html", status=400)


@csrf_exempt  # posted from cached pages without a token; double opt-in makes a forgery harmless
@never_cache
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    partial = bool(getattr(request, "htmx", False))
    if request.method == "GET":
        own_list = MailingList.objects.filter(
            is_public=True, slug=request.GET.get("list", "")[:50]
        ).first()
        initial = {"source": "subscribe-page", "list": own_list.slug if own_list else ""}
        form = SubscribeForm(initial=initial)
        if own_list is not None:
            form.fields["lists"].initial = [own_list.pk]
        return render(request, "newsletter/subscribe.html", {"form": form, "own_list": own_list})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        template = "newsletter/_signup_result.html" if partial else "newsletter/subscribe.html"
        return render(request, template, {"form": form, "errors": True}, status=400)
    wait = throttles.check(request, "newsletter-signup")
    if wait is not None:
        template = "newsletter/_signup_result.html" if partial else "newsletter/rate_limited.html"
        return throttles.too_many(request, wait, template=template)
    email = form.cleaned_data["email"]
    ip = throttles.client_ip(request)
    # Over the per-address limit the page looks the same, but nothing is sent:
    # a stranger must not learn that the address is known, nor mail-bomb it.
    if throttles.check(request, "newsletter-signup", ip=None, email=email) is None:
        services.subscribe(
            email=email,
            name=form.cleaned_data["name"],
            lists=form.chosen_lists(),
            source=form.cleaned_data["source"] or "page",
            ip=ip,
            time_zone=form.cleaned_data["time_zone"],
            joined_through=form.joined_through(),
        )
    template = "newsletter/_signup_result.html" if partial else "newsletter/check_inbox.html"
    return render(request, template, {"email": email})


@csrf_exempt  # the signed token is the credential; the page may be opened in another browser
@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    subscriber_id = tokens.read_confirm_token(token)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if subscriber_id else None
    if subscriber is None:
        return _invalid_link(request)
    if request.method == "GET":
        # A GET changes nothing: link scanners fetch URLs, people press buttons.
        return render(request, "newsletter/confirm.html", {"subscriber": subscriber})
    subscriber = services.confirm(subscriber_id=subscriber.pk) or subscriber
    if subscriber.status != Subscriber.Status.CONFIRMED:
        return render(request, "newsletter/confirm_refused.html", {"subscriber": subscriber})
    return render(
        request,
        "newsletter/confirmed.html",
        {"subscriber": subscriber, "token": tokens.subscriber_token(subscriber.pk)},
    )


@csrf_exempt  # RFC 8058 one-click: mail providers POST here with no cookie and no token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber_for_token(token)
    if subscriber is None:
        return _invalid_link(request)
    if request.method == "GET":
        return render(
            request, "newsletter/unsubscribe.html", {"subscriber": subscriber, "token": token}
        )
    services.unsubscribe(subscriber=subscriber, reason="link")
    return render(
        request, "newsletter/unsubscribed.html", {"subscriber": subscriber, "token": token}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    subscriber = _subscriber_for_token(token)
    if subscriber is None:
        return _invalid_link(request)
    current = list(
        Subscription.objects.filter(
            subscriber=subscriber, status=Subscription.Status.SUBSCRIBED
        ).values_list("mailing_list_id", flat=True)
    )
    form = PreferencesForm(
        request.POST or None,
        initial={"lists": current, "time_zone": subscriber.time_zone},
        subscriber=subscriber,
    )
    saved = False
    if request.method == "POST" and form.is_valid():
        services.update_preferences(
            subscriber=subscriber,
            lists=list(form.cleaned_data["lists"]),
            time_zone=form.cleaned_data["time_zone"],
        )
        saved = True
    return render(
        request,
        "newsletter/preferences.html",
        {
            "form": form,
            "subscriber": subscriber,
            "token": token,
            "saved": saved,
        },
        status=400 if request.method == "POST" and not saved else 200,
    )


@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    ids = tokens.read_click_token(token)
    url = (
        services.record_click(delivery_id=ids[0], link_id=ids[1], **_who_asked(request))
        if ids
        else None
    )
    if not url:
        return _invalid_link(request)
    return HttpResponseRedirect(url)


@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    delivery_id = tokens.read_open_token(token)
    if delivery_id:
        services.record_open(delivery_id=delivery_id, **_who_asked(request))
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def archive(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.archived().only("subject", "slug", "preheader", "finished_at")
    return render(request, "newsletter/archive.html", {"campaigns": campaigns})


@require_GET
def archive_detail(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.archived(), slug=slug)
    body_html, _ = render_body(campaign.body)
    if not body_html:
        raise Http404
    return render(
        request, "newsletter/archive_detail.html", {"campaign": campaign, "body_html": body_html}
    )
