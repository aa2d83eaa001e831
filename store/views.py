from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core import signing
from django.db.models import Prefetch
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coaching import throttles
from coaching.covers import cover_response
from coaching.models import User
from guides.models import Guide
from store import accounting, guest, instalments, pdf, services, stripe_gateway, webhooks
from store.forms import BuyForm, RefundRequestForm
from store.models import (
    CreditGrant,
    CreditNote,
    Entitlement,
    FileVersion,
    Order,
    Product,
    ProductFile,
    StampedFile,
)
from store.plans import Instalment

LINK_SALT = "store.download"
LINK_MAX_AGE = 300  # seconds: long enough to start a download, too short to share


def buyer_login_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Like login_required, but to the sign-in by emailed code the store promises.

    A guest who bought in this browser finds their email already filled in.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        query = {"next": request.get_full_path()}
        email = guest.buyer_email(request.session)
        if email:
            query["email"] = email
        return redirect(f"{reverse('account_request_login_code')}?{urlencode(query)}")

    return wrapped


def _buyer(request: HttpRequest) -> User:
    # Behind @buyer_login_required, so the user is a real account.
    return cast(User, request.user)


def _get_order_for_user(request: HttpRequest, number: str) -> Order:
    return get_object_or_404(Order.objects.owned_by(request.user), number=number)


def _get_file_for_user(request: HttpRequest, file_pk: int) -> ProductFile:
    """A file the signed-in person holds an active entitlement for, or 404."""
    product_file = get_object_or_404(ProductFile.objects.select_related("product"), pk=file_pk)
    owns = (
        Entitlement.objects.active()
        .filter(user=_buyer(request), product=product_file.product)
        .exists()
    )
    if not owns:
        raise Http404("No such file.")
    return product_file


def _from_guide(request: HttpRequest) -> str:
    """The published guide whose paywall sent the buyer here (`?from=`), or ""."""
    slug = request.GET.get("from", "")[:200]
    return slug if slug and Guide.objects.published().filter(slug=slug).exists() else ""


def _success_entries(order: Order, *, guest_session: bool) -> list[dict[str, Any]]:
    """What the order gave, with the buttons that use it: read, download, book."""
    entitlements = (
        order.entitlements.active()
        .exclude(product__kind=Product.Kind.BUNDLE)  # what it bundles is listed instead
        .select_related("product")
        .prefetch_related(
            Prefetch("product__guides", queryset=Guide.objects.only("pk", "title", "slug")),
            "product__files",
        )
        .order_by("pk")
    )
    entries = []
    for entitlement in entitlements:
        product = entitlement.product
        files = [
            {
                "title": product_file.title,
                "url": reverse("store:guest-download", args=[order.number, product_file.pk])
                if guest_session
                else reverse("store:download", args=[product_file.pk]),
            }
            for product_file in product.files.all()
        ]
        entries.append(
            {
                "product": product,
                "guides": list(product.guides.all()),
                "files": files,
                "book": product.kind == Product.Kind.COACHING and product.session_credits > 0,
            }
        )
    return entries


# --- Catalogue and checkout ------------------------------------------------------


@require_GET
def product_list(request: HttpRequest) -> HttpResponse:
    products = Product.objects.listed()
    return render(request, "store/list.html", {"products": products})


@require_GET
def cover(request: HttpRequest, slug: str, digest: str) -> HttpResponse:
    """The cover drawn for a product without an uploaded one."""
    product = get_object_or_404(Product.objects.active().only("kind", "title"), slug=slug)
    return cover_response(product.get_kind_display(), product.title, digest)


def _buyer_initial(request: HttpRequest) -> dict[str, str]:
    """The signed-in buyer's email and the invoice details of their latest order that
    had any, so a business buyer types them once."""
    if not request.user.is_authenticated:
        return {}
    latest = (
        Order.objects.owned_by(request.user)
        .exclude(business_name="", business_address="", tax_id="")
        .values("business_name", "business_address", "tax_id")
        .first()
    )
    details = {key: str(value) for key, value in latest.items()} if latest else {}
    return {"email": _buyer(request).email, **details}


@require_http_methods(["GET", "POST"])
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(
        Product.objects.active().prefetch_related("prices", "bundled", "guides", "files"),
        slug=slug,
    )
    initial = _buyer_initial(request)
    form = BuyForm(request.POST or None, product=product, initial=initial)
    error = ""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wait = throttles.check(request, "checkout", email=data["email"])
        if wait is not None:
            return throttles.too_many(
                request, wait, message="Too many checkouts were started from here."
            )
        success_url = request.build_absolute_uri(reverse("store:checkout-success"))
        try:
            started = services.start_checkout(
                product=product,
                email=data["email"],
                user=_buyer(request),
                amount=form.amount_minor(),
                coupon_code=data["coupon"],
                business_name=data["business_name"],
                business_address=data["business_address"],
                tax_id=data["tax_id"],
                success_url=success_url,
                cancel_url=request.build_absolute_uri(product.get_absolute_url()),
                instalments=form.instalments(),
            )
        except services.CheckoutError as problem:
            if problem.field and problem.field in form.fields:
                form.add_error(problem.field, str(problem))
            else:
                error = str(problem)
        else:
            guest.remember_started(request.session, started.order, from_guide=_from_guide(request))
            return redirect(started.url)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "store/detail.html",
        {"product": product, "form": form, "error": error, "price": product.price},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def simulated_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """The local stand-in for Stripe's hosted page, only when no Stripe key is set."""
    if not stripe_gateway.is_simulated():
        raise Http404("Simulated payments are off.")
    instalment = (
        Instalment.objects.select_related("plan__order")
        .filter(stripe_checkout_session_id=session_id)
        .first()
    )
    if instalment is not None:
        return _simulated_instalment_checkout(request, instalment)
    order = get_object_or_404(
        Order.objects.prefetch_related("items"), stripe_checkout_session_id=session_id
    )
    if request.method == "POST" and order.paid_at is None:
        if request.POST.get("action") == "cancel":
            return redirect(order.return_url or order.items.all()[0].product.get_absolute_url())
        plan = order.payment_plan
        if plan is not None and request.POST.get("decline_later") == "on":
            plan.simulate_decline = True
            plan.save(update_fields=["simulate_decline"])
        session = stripe_gateway.simulated_session(order)
        stripe_gateway.emit_simulated_event("checkout.session.completed", session)
        success = order.return_url or reverse("store:checkout-success")
        return redirect(f"{success}?session_id={session_id}")
    return render(
        request, "store/simulated_checkout.html", {"order": order, "plan": order.payment_plan}
    )


def _simulated_instalment_checkout(request: HttpRequest, instalment: Instalment) -> HttpResponse:
    """The stand-in for Stripe's page when the buyer pays a missed instalment."""
    order = instalment.plan.order
    if request.method == "POST" and instalment.paid_at is None:
        if request.POST.get("action") != "cancel":
            session = stripe_gateway.simulated_instalment_session(instalment)
            stripe_gateway.emit_simulated_event("checkout.session.completed", session)
        return redirect(f"{order.get_absolute_url()}#instalments")
    return render(
        request,
        "store/simulated_instalment_checkout.html",
        {"order": order, "instalment": instalment},
    )


@buyer_login_required
@require_POST
def instalment_pay(request: HttpRequest, number: str, instalment_number: int) -> HttpResponse:
    """The buyer pays a missed instalment now, with any card, on Stripe's page."""
    order = _get_order_for_user(request, number)
    instalment = get_object_or_404(
        Instalment.objects.select_related("plan__order"),
        plan__order=order,
        number=instalment_number,
        paid_at__isnull=True,
    )
    if not instalment.is_missed:
        messages.info(request, "This instalment is not due yet; it is taken automatically.")
        return redirect(order.get_absolute_url())
    back = request.build_absolute_uri(order.get_absolute_url())
    try:
        url = instalments.start_instalment_checkout(
            instalment=instalment, success_url=back, cancel_url=back
        )
    except stripe_gateway.GatewayError as error:
        messages.error(request, str(error))
        return redirect(order.get_absolute_url())
    return redirect(url)


@never_cache  # personal: no shared or browser cache may keep it
@require_GET
def checkout_success(request: HttpRequest) -> HttpResponse:
    session_id = request.GET.get("session_id", "")
    order = (
        Order.objects.filter(stripe_checkout_session_id=session_id).first() if session_id else None
    )
    if order is None:
        raise Http404("No such checkout.")
    # Racing the webhook is fine: both paths lock the order and fulfil once. If
    # Stripe cannot be asked, the webhook fulfils it; the page says "confirming".
    with contextlib.suppress(stripe_gateway.GatewayError):
        services.fulfil_checkout(session_id=session_id)
    order.refresh_from_db()
    started_here = guest.started_here(request.session, order)
    mine = (request.user.is_authenticated and order.user_id == request.user.pk) or started_here
    # The session that paid reads what it paid for at once, signed in or not.
    guest.remember_paid(request.session, order)
    back = guest.from_guide(request.session, order) if started_here else ""
    context = {
        "order": order if mine else None,
        "paid": order.paid_at is not None,
        "entries": _success_entries(order, guest_session=not request.user.is_authenticated)
        if mine and order.paid_at is not None and order.grants_access
        else [],
        "back": Guide.objects.published().filter(slug=back).only("title", "slug").first()
        if back
        else None,
    }
    template = "store/_success_status.html" if request.htmx else "store/success.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@never_cache  # personal: no shared or browser cache may keep it
@require_GET
def guest_download(request: HttpRequest, number: str, file_pk: int) -> HttpResponseBase:
    """A file of an order this browser session paid for, before any sign-in.

    The same copy the library serves: stamped for the order's buyer when a PDF.
    """
    order = guest.paid_order(request.session, number)
    if order is None or order.user is None:
        raise Http404("No such file.")
    product_file = get_object_or_404(ProductFile.objects.select_related("product"), pk=file_pk)
    if not order.entitlements.active().filter(product=product_file.product).exists():
        raise Http404("No such file.")
    version = product_file.current_version
    if version is None:
        raise Http404("No version yet.")
    field, filename = version.file, version.filename
    if version.is_pdf:
        stamp = services.request_stamp(user=order.user, version=version, order=order)
        stamp.refresh_from_db()
        if stamp.status != StampedFile.Status.READY:
            messages.info(request, f"Your copy of {product_file.title} is being prepared.")
            return redirect(
                f"{reverse('store:checkout-success')}?session_id={order.stripe_checkout_session_id}"
            )
        field = stamp.file
    Entitlement.record_download(user=order.user, product_id=product_file.product_id)
    response = FileResponse(field.open("rb"), as_attachment=True, filename=filename)
    return response


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    status, body = webhooks.receive(request.body, request.headers.get("Stripe-Signature"))
    return JsonResponse(body, status=status)


# --- After buying ------------------------------------------------------------------


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    entitlements = list(
        Entitlement.objects.for_library(request.user).prefetch_related(
            Prefetch("product__guides", queryset=Guide.objects.only("pk", "title", "slug")),
            Prefetch("product__files", queryset=ProductFile.objects.prefetch_related("versions")),
        )
    )
    products: dict[int, Product] = {}
    for entitlement in entitlements:
        products.setdefault(entitlement.product_id, entitlement.product)
    entries = _library_entries(request, list(products.values()), entitlements)
    credits = CreditGrant.objects.usable_by(request.user).select_related("product")
    paused = CreditGrant.objects.filter(
        user=_buyer(request), paused_at__isnull=False, revoked_at__isnull=True
    ).select_related("product", "order")
    orders = (
        Order.objects.owned_by(request.user)
        .exclude(paid_at=None)
        .only(
            "number", "paid_at", "total", "currency", "status", "invoice_year", "invoice_sequence"
        )[:100]
    )
    return render(
        request,
        "store/library.html",
        {"entries": entries, "credits": credits, "paused": paused, "orders": orders},
    )


def _library_entries(
    request: HttpRequest, products: list[Product], entitlements: list[Entitlement]
) -> list[dict[str, Any]]:
    """One entry per product, touching each prefetched relation once (a 50-order library)."""
    first_entitlement: dict[int, Entitlement] = {}
    for entitlement in entitlements:
        first_entitlement.setdefault(entitlement.product_id, entitlement)
    files_of = {product.pk: list(product.files.all()) for product in products}
    versions: dict[int, FileVersion | None] = {}
    for product_files in files_of.values():
        for product_file in product_files:
            candidates = list(product_file.versions.all())
            versions[product_file.pk] = (
                max(candidates, key=lambda v: (v.created_at, v.pk)) if candidates else None
            )
    version_ids = [v.pk for v in versions.values() if v is not None]
    stamps = (
        {
            stamp.version_id: stamp
            for stamp in StampedFile.objects.filter(
                user=_buyer(request), version_id__in=version_ids
            )
        }
        if version_ids
        else {}
    )
    entries = []
    for product in products:
        files = [
            {"file": product_file, "version": version, "stamp": stamps.get(version.pk)}
            for product_file in files_of[product.pk]
            if (version := versions[product_file.pk]) is not None
        ]
        entries.append(
            {
                "product": product,
                "entitlement": first_entitlement[product.pk],
                "guides": list(product.guides.all()),
                "files": files,
            }
        )
    return entries


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def library_item(request: HttpRequest, pk: int) -> HttpResponse:
    entitlement = get_object_or_404(
        Entitlement.objects.active().select_related("product", "order"),
        pk=pk,
        user=_buyer(request),
    )
    product = entitlement.product
    files = [
        {
            "file": product_file,
            "versions": list(product_file.versions.all()),
            "stamp": StampedFile.objects.filter(
                user=_buyer(request), version=product_file.current_version
            ).first(),
        }
        for product_file in product.files.all()
    ]
    credits = CreditGrant.objects.filter(
        user=_buyer(request), order=entitlement.order, product=product
    ).first()
    return render(
        request,
        "store/library_item.html",
        {
            "entitlement": entitlement,
            "product": product,
            "guides": list(product.guides.all()),
            "files": files,
            "credits": credits,
        },
    )


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def file_status(request: HttpRequest, file_pk: int) -> HttpResponse:
    """htmx fragment: "preparing" until the buyer's stamped copy is ready."""
    product_file = _get_file_for_user(request, file_pk)
    version = product_file.current_version
    stamp = StampedFile.objects.filter(user=_buyer(request), version=version).first()
    return render(
        request,
        "store/_file_status.html",
        {"file": product_file, "version": version, "stamp": stamp},
    )


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def download(request: HttpRequest, file_pk: int) -> HttpResponse:
    product_file = _get_file_for_user(request, file_pk)
    version = product_file.current_version
    if version is None:
        raise Http404("No version yet.")
    if not version.is_pdf:
        return redirect(_signed_link(request, "v", version.pk))
    stamp = StampedFile.objects.filter(user=_buyer(request), version=version).first()
    if stamp is None:
        entitlement = (
            Entitlement.objects.active()
            .filter(user=_buyer(request), product=product_file.product)
            .select_related("order")
            .first()
        )
        assert entitlement is not None  # _get_file_for_user checked
        stamp = services.request_stamp(
            user=_buyer(request), version=version, order=entitlement.order
        )
        stamp.refresh_from_db()
    if stamp.status != StampedFile.Status.READY:
        messages.info(request, f"Your copy of {product_file.title} is being prepared.")
        return redirect("store:library")
    return redirect(_signed_link(request, "s", stamp.pk))


@buyer_login_required
@require_POST
def stamp_retry(request: HttpRequest, file_pk: int) -> HttpResponse:
    """The buyer's "Try again" on a copy that could not be prepared: a fresh round of
    attempts. The coach was already told; the library shows progress from here."""
    product_file = _get_file_for_user(request, file_pk)
    stamp = get_object_or_404(
        StampedFile, user=_buyer(request), version=product_file.current_version
    )
    wait = throttles.check(request, "stamp-retry", ip=None, account=str(request.user.pk))
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many attempts; the coach will fix it."
        )
    if services.retry_stamp(stamp):
        messages.info(request, f"Preparing {product_file.title} again.")
    return redirect("store:library")


def _signed_link(request: HttpRequest, kind: str, pk: int) -> str:
    token = signing.dumps({"u": request.user.pk, "k": kind, "id": pk}, salt=LINK_SALT)
    return reverse("store:signed-file", args=[token])


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def signed_file(request: HttpRequest, token: str) -> HttpResponseBase:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This download link has expired. Start it again from your library.") from None
    if data.get("u") != request.user.pk:
        raise Http404("No such file.")
    if data.get("k") == "s":
        stamp = get_object_or_404(
            StampedFile.objects.select_related("version__product_file"),
            pk=data.get("id"),
            user=_buyer(request),
            status=StampedFile.Status.READY,
        )
        field, filename = stamp.file, stamp.version.filename
        product_id = stamp.version.product_file.product_id
    else:
        version = get_object_or_404(
            FileVersion.objects.select_related("product_file"), pk=data.get("id")
        )
        field, filename = version.file, version.filename
        product_id = version.product_file.product_id
    if (
        not Entitlement.objects.active()
        .filter(user=_buyer(request), product_id=product_id)
        .exists()
    ):
        raise Http404("No such file.")
    Entitlement.record_download(user=_buyer(request), product_id=product_id)
    response = FileResponse(field.open("rb"), as_attachment=True, filename=filename)
    return response


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = _get_order_for_user(request, number)
    return render(
        request,
        "store/order.html",
        {
            "order": order,
            "items": list(order.items.all()),
            "credit_notes": list(order.credit_notes.all()),
            "plan": order.payment_plan,
            "refund_form": RefundRequestForm(),
        },
    )


def _invoiced_order(request: HttpRequest, number: str) -> Order:
    order = _get_order_for_user(request, number)
    if not order.invoice_number:
        raise Http404("No invoice for this order.")
    return order


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def invoice_page(request: HttpRequest, number: str) -> HttpResponse:
    """The printable invoice: the browser's "Print" makes the paper or PDF copy."""
    order = _invoiced_order(request, number)
    return render(
        request,
        "store/document.html",
        {
            "doc": accounting.invoice_document(order),
            "order": order,
            "pdf_url": reverse("store:invoice", args=[order.number]),
        },
    )


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def invoice(request: HttpRequest, number: str) -> HttpResponse:
    order = _invoiced_order(request, number)
    return _pdf_response(
        pdf.document(accounting.invoice_document(order)), f"{order.invoice_number}.pdf"
    )


def _credit_note_for_user(request: HttpRequest, number: str, pk: int) -> CreditNote:
    order = _get_order_for_user(request, number)
    return get_object_or_404(order.credit_notes.select_related("order__user"), pk=pk)


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def credit_note_page(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    note = _credit_note_for_user(request, number, pk)
    return render(
        request,
        "store/document.html",
        {
            "doc": accounting.credit_note_document(note),
            "order": note.order,
            "pdf_url": reverse("store:credit-note-pdf", args=[number, note.pk]),
        },
    )


@never_cache  # personal: no shared or browser cache may keep it
@buyer_login_required
@require_GET
def credit_note_pdf(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    note = _credit_note_for_user(request, number, pk)
    return _pdf_response(pdf.document(accounting.credit_note_document(note)), f"{note.number}.pdf")


@buyer_login_required
@require_POST
def refund_request(request: HttpRequest, number: str) -> HttpResponse:
    order = _get_order_for_user(request, number)
    wait = throttles.check(request, "refund-request", email=order.email)
    if wait is not None:
        return throttles.too_many(request, wait, message="Too many refund requests in a day.")
    form = RefundRequestForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "store/order.html",
            {"order": order, "items": list(order.items.all()), "refund_form": form},
            status=400,
        )
    outcome = services.request_refund(order=order, reason=form.cleaned_data["reason"])
    if outcome == services.RefundOutcome.REFUNDED:
        messages.success(
            request,
            "Refunded: the money is on its way back to your card (banks take 5 to 10 days) "
            "and what this order gave you is no longer in your library.",
        )
    elif outcome == services.RefundOutcome.REQUESTED:
        messages.success(request, "We received your refund request and emailed you a copy.")
    else:
        messages.error(request, "This order can no longer be refunded from here.")
    return redirect(order.get_absolute_url())
