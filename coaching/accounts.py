"""Glue between django-allauth and the site: django-axes, the sign-in by code, and
the limits on what a stranger can make the sign-in pages do."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import views as allauth_views
from allauth.account.internal.stagekit import clear_login
from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

from coaching import throttles


def login_attempt_email(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The address a sign-in attempt was for, so lockouts are per address and IP.

    allauth authenticates with `email=`, the admin and DRF with `username=`, and
    the sign-in form posts `login`.
    """
    credentials = credentials or {}
    value = (
        credentials.get("email")
        or credentials.get("username")
        or request.POST.get("login")
        or request.POST.get("username")
    )
    return str(value).strip().lower() if value else None


class AccountLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with a second, looser limit per account.

    The configured lockout counts failures per address and IP, so one attacker
    cannot lock the owner out from the owner's own network; but spread over many
    IPs the guesses were unbounded. Past AXES_ACCOUNT_FAILURE_LIMIT failures
    within the cool-off, from anywhere, the account takes no password at all
    (its owner can still sign in by a code sent to the address).
    """

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return super().is_locked(request, credentials) or self._account_locked(request, credentials)

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        # axes decides whether to show the lockout page from the failures per
        # address and IP alone; a refusal for the account's sake must show it too.
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not getattr(request, "axes_locked_out", False):
            request.axes_locked_out = self._account_locked(request, credentials)

    def _account_locked(self, request: HttpRequest, credentials: dict[str, Any] | None) -> bool:
        username = get_client_username(request, credentials)
        if not username:
            return False
        failures = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(total=Sum("failures_since_start"))["total"]
        return (failures or 0) >= settings.AXES_ACCOUNT_FAILURE_LIMIT


@receiver(email_confirmed, dispatch_uid="accounts-verified-by-code")
def drop_password_set_before_verification(
    request: HttpRequest | None, email_address: EmailAddress, **kwargs: Any
) -> None:
    """An address first proven by a sign-in code keeps no password set before then.

    Anyone can register someone else's address with a password of their own;
    the owner later buys as a guest and signs in by code, and the stranger's
    password would open the owner's library. The code proves the mailbox, the
    password proved nothing, so it goes, and with it every other session
    (Django ends sessions whose password hash no longer matches). allauth sends
    this signal only when an address turns verified, after recording the code.
    """
    if request is None or not hasattr(request, "session"):
        return
    records = request.session.get("account_authentication_methods") or []
    if not records or records[-1].get("method") != "code":
        return
    user = email_address.user
    user.set_unusable_password()
    user.save(update_fields=["password"])


def throttled(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Count each POST to an allauth view per IP (and per address, where limited)
    in PostgreSQL, answering 429 past the limit.

    allauth's own limits live in the cache and answer 429 to everyone when Redis
    is down; these hold without Redis, so they replace them (ACCOUNT_RATE_LIMITS).
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                address = login_attempt_email(request, {"email": request.POST.get("email")})
                wait = throttles.check(request, f"account-{action}", email=address)
                if wait is not None:
                    return throttles.too_many(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


class RequestLoginCodeView(allauth_views.RequestLoginCodeView):
    """allauth's "email me a sign-in code", where asking again sends a fresh code.

    allauth sends whoever has a code pending back to the "enter your code" page
    without sending anything, so a second request (lost email, other address)
    silently sent nothing while the page said a code was on its way. A new
    request drops the pending one: a new code goes out, the old one stops
    working, and allauth's rate limit per address still applies. The email is
    prefilled from `?email=` (the store's sign-in for a guest buyer).
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and not request.user.is_authenticated:
            clear_login(request)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {**super().get_initial(), "email": self.request.GET.get("email", "")[:254]}


request_login_code = throttled("request_login_code")(RequestLoginCodeView.as_view())
login = throttled("login")(allauth_views.login)
signup = throttled("signup")(allauth_views.signup)
reset_password = throttled("reset_password")(allauth_views.password_reset)
