"""Store benchmarks: webhook handling, duplicate deliveries, the library page.

Run with the app's environment (DATABASE_URL, REDIS_URL); the database must be
migrated. Rows it creates are tagged (bench- slugs, @bench.invalid emails,
evt_bench ids) and removed at the end. Prints one JSON line per figure.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/store_webhook.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import BENCH_ENV, ensure_database  # noqa: E402

# Its own database on the machine's PostgreSQL, like every benchmark.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching_bench_store")
os.environ.setdefault("REDIS_URL", BENCH_ENV["REDIS_URL"])
ensure_database(os.environ["DATABASE_URL"])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")
# Plain static storage: the bench renders pages without running collectstatic.
os.environ.setdefault("TESTING", "true")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from coaching.celery import app  # noqa: E402
from coaching.models import OutboundEmail, User  # noqa: E402
from guides.models import Category, Guide  # noqa: E402
from store import stripe_gateway  # noqa: E402
from store.models import Entitlement, Order, OrderItem, Price, Product, StripeEvent  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
settings.STRIPE_SECRET_KEY = ""
DOMAIN = "bench.invalid"


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=100)[94], 2)


TARGETS: dict[str, tuple[str, Callable[[Any, dict[str, Any]], bool]]] = {
    "webhook_answer_p95": ("< 50 ms", lambda value, extra: value < 50),
    "webhook_processing_p95": ("< 50 ms", lambda value, extra: value < 50),
    "duplicate_deliveries": (
        "1 fulfilment, 1 entitlement, 1 receipt",
        lambda value, extra: (
            (extra["fulfilments"], extra["entitlements"], extra["receipts"]) == (1, 1, 1)
        ),
    ),
    "library_p95": ("< 100 ms", lambda value, extra: value < 100),
}


def emit(name: str, value: Any, unit: str, **extra: Any) -> None:
    """One figure in the shared format (bench.common.emit), with the issue's target."""
    from bench.common import emit as emit_figure

    target, check = TARGETS.get(name, ("", lambda value, extra: True))
    note = ", ".join(f"{key}={val}" for key, val in extra.items())
    emit_figure(f"store.{name}", value, unit, better="lower", target=target or None,
                met=check(value, extra) if target else None, note=note)  # fmt: skip


def timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def make_product(slug: str) -> Product:
    product = Product.objects.create(
        slug=slug, title=slug, summary="Bench product", kind=Product.Kind.ONLINE
    )
    Price.objects.create(product=product, amount=1900, currency="gbp")
    return product


def make_order(product: Product, email: str, number: str) -> Order:
    order = Order.objects.create(
        number=number,
        email=email,
        subtotal=1900,
        total=1900,
        stripe_checkout_session_id=f"cs_bench_{number}",
    )
    OrderItem.objects.create(order=order, product=product, title=product.title, unit_amount=1900)
    return order


def post(client: Client, event: dict[str, Any]) -> int:
    payload = json.dumps(event)
    response = client.post(
        "/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_gateway.sign(payload),
    )
    return response.status_code


def bench_webhook(client: Client, product: Product) -> None:
    orders = [make_order(product, f"w{i}@{DOMAIN}", f"BW{i:05d}") for i in range(200)]
    events = []
    for order in orders:
        event = stripe_gateway.make_event(
            "checkout.session.completed", stripe_gateway.simulated_session(order)
        )
        event["id"] = f"evt_bench_w_{order.number}"
        events.append(event)
    # Answering: verify, record, hand to Celery on a real Redis broker.
    app.conf.task_always_eager = False
    answer = [timed(lambda e=event: post(client, e)) for event in events]
    app.control.purge()
    emit(
        "webhook_answer_p95",
        p95(answer),
        "ms",
        n=len(answer),
        broker="redis",
        load_average=round(os.getloadavg()[0], 2),
    )
    # Processing: the Celery task's work, fulfilment included.
    from store.webhooks import process

    ids = list(StripeEvent.objects.filter(event_id__startswith="evt_bench_w_").values_list("pk"))
    work = [timed(lambda pk=pk: process(pk)) for (pk,) in ids]
    emit("webhook_processing_p95", p95(work), "ms", n=len(work))


def bench_duplicates(client: Client, product: Product) -> None:
    app.conf.task_always_eager = True
    order = make_order(product, f"dup@{DOMAIN}", "BDUP00001")
    event = stripe_gateway.make_event(
        "checkout.session.completed", stripe_gateway.simulated_session(order)
    )
    event["id"] = "evt_bench_duplicate"
    samples = [timed(lambda: post(client, event)) for _ in range(1000)]
    fulfilments = Order.objects.filter(pk=order.pk, fulfilled_at__isnull=False).count()
    emit(
        "duplicate_deliveries",
        1000,
        "deliveries",
        fulfilments=fulfilments,
        entitlements=Entitlement.objects.filter(order=order).count(),
        receipts=OutboundEmail.objects.filter(key=f"store-receipt-{order.pk}").count(),
        answer_p95_ms=p95(samples),
    )


def bench_library(client: Client) -> None:
    category, _ = Category.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    user = User.objects.create_user(f"library@{DOMAIN}")
    for i in range(50):
        product = make_product(f"bench-lib-{i}")
        guide = Guide.objects.create(
            title=f"Bench guide {i}",
            slug=f"bench-guide-{i}",
            summary="Bench",
            body="Bench body",
            category=category,
            visibility="paid",
            status="published",
            published_at=timezone.now(),
        )
        product.guides.add(guide)
        order = make_order(product, user.email, f"BL{i:05d}")
        order.user = user
        order.paid_at = order.fulfilled_at = timezone.now()
        order.status = Order.Status.PAID
        order.save()
        Entitlement.objects.create(user=user, product=product, order=order)
    client.force_login(user)
    client.get("/library/")
    samples = [timed(lambda: client.get("/library/")) for _ in range(200)]
    emit(
        "library_p95",
        p95(samples),
        "ms",
        orders=50,
        n=len(samples),
        p50_ms=round(statistics.median(samples), 2),
        load_average=round(os.getloadavg()[0], 2),
    )


def clean_up() -> None:
    StripeEvent.objects.filter(event_id__startswith="evt_bench").delete()
    OutboundEmail.objects.filter(to__endswith=f"@{DOMAIN}").delete()
    orders = Order.objects.filter(email__endswith=f"@{DOMAIN}")
    Entitlement.objects.filter(order__in=orders).delete()
    orders.delete()
    Product.objects.filter(slug__startswith="bench-").delete()
    Guide.objects.filter(slug__startswith="bench-guide-").delete()
    Category.objects.filter(slug="bench").delete()
    User.objects.filter(email__endswith=f"@{DOMAIN}").delete()


def main() -> None:
    clean_up()
    client = Client()
    try:
        product = make_product("bench-webhook")
        bench_webhook(client, product)
        bench_duplicates(client, product)
        bench_library(Client())
    finally:
        clean_up()


if __name__ == "__main__":
    main()
