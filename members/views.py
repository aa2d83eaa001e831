"""The pricing page, the member's own page, and the simulated provider's checkout and portal."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import throttles
from members import billing, services, simulator
from members.forms import PlanForm
from members.models import Interval, MembershipSettings, Tier
from store import stripe_gateway
from store.views import buyer_login_required


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    tiers = list(Tier.objects.offered().prefetch_related("newsletter_lists"))
    membership = services.current_membership(request.user)
    held = membership.tier if membership and services.has_access(membership) else None
    return render(
        request,
        "members/pricing.html",
        {"tiers": tiers, "held": held},
    )


@never_cache
@buyer_login_required
@require_POST
def subscribe(request: HttpRequest) -> HttpResponseBase:
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _back_to_pricing(request, _form_error(form))
    # Each attempt opens a Checkout Session at Stripe, as a store checkout does.
    wait = throttles.check(request, "checkout", email=request.user.email)  # type: ignore[union-attr]
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many checkouts were started from here."
        )
    account = request.build_absolute_uri(reverse("members:account"))
    try:
        url = services.start_subscription(
            user=request.user,  # type: ignore[arg-type]
            tier=form.cleaned_data["tier"],
            interval=form.cleaned_data["interval"],
            success_url=f"{account}?welcome=1",
            cancel_url=request.build_absolute_uri(reverse("members:pricing")),
        )
    except services.MembershipError as error:
        return _back_to_pricing(request, str(error))
    return redirect(url)


def _form_error(form: PlanForm) -> str:
    return " ".join(str(error) for error in form.non_field_errors()) or "Choose a plan."


def _back_to_pricing(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("members:pricing")


@never_cache
@buyer_login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    membership = services.current_membership(request.user)
    access = services.has_access(membership)
    invoices = request.user.membership_invoices.all()[:50]  # type: ignore[union-attr]
    other_plans = [
        (tier, interval, label)
        for tier in Tier.objects.offered()
        for interval, label in tier.plans()
        if membership is None or (tier, interval) != (membership.tier, membership.interval)
    ]
    return render(
        request,
        "members/account.html",
        {
            "membership": membership,
            "access": access,
            "invoices": invoices,
            "other_plans": other_plans,
            "grace_days": MembershipSettings.current().grace_days,
            "welcome": request.GET.get("welcome") == "1",
            "card_declines": stripe_gateway.is_simulated()
            and simulator.card_declines(request.user),  # type: ignore[arg-type]
        },
    )


def _own_membership(request: HttpRequest) -> services.Membership:
    membership = services.current_membership(request.user)
    if membership is None:
        raise Http404("No membership.")
    return membership


@never_cache
@buyer_login_required
@require_POST
def change(request: HttpRequest) -> HttpResponse:
    membership = _own_membership(request)
    form = PlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_error(form))
        return redirect("members:account")
    return _member_request(
        request,
        lambda: services.change_plan(
            membership=membership,
            tier=form.cleaned_data["tier"],
            interval=form.cleaned_data["interval"],
        ),
        f"Your plan is now {form.cleaned_data['tier'].name} "
        f"({Interval(form.cleaned_data['interval']).label.lower()}).",
    )


@never_cache
@buyer_login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    membership = _own_membership(request)
    return _member_request(
        request,
        lambda: services.cancel(membership=membership),
        "Your membership is cancelled: you keep access until the end of the period you paid for.",
    )


@never_cache
@buyer_login_required
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    membership = _own_membership(request)
    return _member_request(
        request, lambda: services.resume(membership=membership), "Your membership continues."
    )


def _member_request(request: HttpRequest, action: object, done: str) -> HttpResponse:
    try:
        action()  # type: ignore[operator]
    except services.MembershipError as error:
        messages.error(request, str(error))
        return redirect("members:account")
    # The change comes back from Stripe as an event; the page says what was asked.
    messages.success(request, done)
    return redirect("members:account")


@never_cache
@buyer_login_required
@require_GET
def card(request: HttpRequest) -> HttpResponseBase:
    """Update the card: a new Stripe customer portal session (they expire), or the stand-in."""
    membership = _own_membership(request)
    try:
        url = billing.portal_url(membership, request.build_absolute_uri(reverse("members:account")))
    except billing.GatewayError as error:
        messages.error(request, str(error))
        return redirect("members:account")
    return redirect(url)


# --- The simulated provider's pages ------------------------------------------------------


@never_cache
@buyer_login_required
@require_http_methods(["GET", "POST"])
def simulated_checkout(request: HttpRequest, token: str) -> HttpResponse:
    if not stripe_gateway.is_simulated():
        raise Http404("Simulated payments are off.")
    try:
        data = simulator.read_checkout(token)
    except billing.GatewayError as error:
        return _back_to_pricing(request, str(error))
    if data["user"] != request.user.pk:
        raise Http404("Not your checkout.")
    tier = Tier.objects.filter(pk=data["tier"]).first()
    if tier is None:
        raise Http404("No such tier.")
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return redirect("members:pricing")
        try:
            simulator.complete_checkout(token)
        except billing.GatewayError as error:
            return _back_to_pricing(request, str(error))
        return redirect(f"{reverse('members:account')}?{urlencode({'welcome': 1})}")
    return render(
        request,
        "members/simulated_checkout.html",
        {
            "tier": tier,
            "interval": data["interval"],
            "trial_days": data["trial"],
            "price": tier.price_display(data["interval"]),
        },
    )


@never_cache
@buyer_login_required
@require_http_methods(["GET", "POST"])
def simulated_portal(request: HttpRequest) -> HttpResponse:
    if not stripe_gateway.is_simulated():
        raise Http404("Simulated payments are off.")
    if request.method == "POST":
        declines = request.POST.get("card") == "declines"
        try:
            simulator.set_card(request.user, declines=declines)  # type: ignore[arg-type]
        except billing.GatewayError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                "Card updated: the next payment will be declined (test)."
                if declines
                else "Card updated. Anything overdue is paid.",
            )
        return redirect("members:account")
    return render(
        request,
        "members/simulated_portal.html",
        {"declines": simulator.card_declines(request.user)},  # type: ignore[arg-type]
    )
