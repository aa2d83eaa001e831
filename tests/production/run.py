"""`python -m tests.production` / `make prodcheck`: start the topology, prove it, print figures.

One line per figure on stdout; the exit status is 0 only when every check held.
Every loop below is bounded in count and in time.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg

from tests.faults.processes import ROOT
from tests.production import journeys
from tests.production.topology import Topology, terminate

PASSWORD = "Prodcheck-" + secrets.token_urlsafe(12)
PURCHASES = 50  # during the node drain; as many bookings
BOOKINGS = 50
DRAIN_AFTER = 20  # journeys finished before node 1 leaves
RECIPIENTS = 3000
KILL_AFTER_SENT = 300
SITECHECK = ROOT.parent / "shared" / "sitecheck"
ACCEPTANCE_PYTHON = Path(
    os.environ.get("ACCEPTANCE_VENV", str(Path.home() / ".cache" / "acceptance-venv"))
) / "bin" / "python"  # fmt: skip


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def figure(self, name: str, value: object) -> None:
        print(f"{name}: {value}", flush=True)

    def check(self, ok: bool, name: str, value: object) -> None:
        self.figure(name, f"{value}{'' if ok else '  <-- FAILED'}")
        if not ok:
            self.failures.append(name)


def query(topology: Topology, sql: str, *params: object) -> Any:
    with psycopg.connect(topology.database_url, autocommit=True) as connection:
        row = connection.execute(sql, params).fetchone()
        return row[0] if row else None


def wait_until(check: Callable[[], bool], timeout: float, every: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def cookie_flags(lines: list[str]) -> dict[str, set[str]]:
    """Cookie name -> its Secure, HttpOnly and SameSite=<value> attributes, lower-cased."""
    flags: dict[str, set[str]] = {}
    for line in lines:
        name, *attributes = [part.strip().lower() for part in line.split(";")]
        flags[name.split("=", 1)[0]] = {
            a for a in attributes if a in {"secure", "httponly"} or a.startswith("samesite=")
        }
    return flags


def check_headers(topology: Topology, report: Report, site: dict[str, Any]) -> None:
    base, ca = topology.url, str(topology.ca_file)
    plain = journeys.browser(ca).get(
        topology.http_url + "/guides/?page=1", allow_redirects=False, timeout=10
    )
    location = plain.headers.get("Location", "")
    report.check(
        plain.status_code in (301, 308) and location == base + "/guides/?page=1",
        "http->https redirect",
        f"{plain.status_code} {location}",
    )
    home = journeys.browser(ca).get(base + "/", timeout=20)
    hsts = home.headers.get("Strict-Transport-Security", "")
    report.check(
        "max-age=31536000" in hsts and "includeSubDomains" in hsts, "HSTS", hsts or "missing"
    )
    csp = home.headers.get("Content-Security-Policy", "")
    script_src = next((d for d in csp.split(";") if d.strip().startswith("script-src")), "")
    report.check(
        bool(csp) and "unsafe-inline" not in script_src and "frame-ancestors 'none'" in csp,
        "CSP",
        script_src.strip() or "missing",
    )
    session = journeys.browser(ca)
    flags = cookie_flags(journeys.log_in(session, base, site["buyer"], PASSWORD))
    sessionid, csrftoken = flags.get("sessionid", set()), flags.get("csrftoken", set())
    report.check(
        {"secure", "httponly", "samesite=lax"} <= sessionid,
        "session cookie",
        " ".join(sorted(sessionid)) or "not set",
    )
    # The CSRF cookie is read by the page's own scripts for htmx posts, so no HttpOnly.
    report.check(
        {"secure", "samesite=lax"} <= csrftoken, "CSRF cookie", " ".join(sorted(csrftoken))
    )


def timed(report: Report, name: str, journey: Callable[[], object]) -> None:
    started = time.monotonic()
    try:
        journey()
    except journeys.JourneyFailed as failure:
        report.check(False, name, str(failure))
    else:
        report.check(True, name, f"ok in {time.monotonic() - started:.1f} s")


def run_journeys(topology: Topology, report: Report, site: dict[str, Any]) -> None:
    base, ca = topology.url, str(topology.ca_file)
    buyer = journeys.browser(ca)
    journeys.log_in(buyer, base, site["buyer"], PASSWORD)

    def purchase() -> None:
        journeys.buy(buyer, base, site["product_path"], site["buyer"])
        pdf = journeys.download_stamped_copy(buyer, base, site["product_title"])
        journeys.expect(len(pdf) > 500, "the stamped PDF is empty")
        guide = buyer.get(base + site["guide_path"], timeout=20)
        journeys.expect("The paid part." in guide.text, "the bought guide is still gated")

    timed(report, "journey: buy a paid guide (checkout, signed webhook, library, stamped PDF)",
          purchase)  # fmt: skip
    start = journeys.call_starts(1, days_ahead=10)[0]
    timed(report, "journey: book a discovery call",
          lambda: journeys.book_call(journeys.browser(ca), base, site["event_type"], start,
                                     "caller@example.com"))  # fmt: skip
    timed(report, "journey: subscribe and confirm from the mail",
          lambda: journeys.subscribe_and_confirm(journeys.browser(ca), base, topology.smtp,
                                                 "reader@example.com"))  # fmt: skip
    status = query(topology, "select status from newsletter_subscriber where email = %s",
                   "reader@example.com")  # fmt: skip
    report.check(status == "confirmed", "subscriber after confirming", status)


def drain_during_traffic(topology: Topology, report: Report, site: dict[str, Any]) -> None:
    """Node 1 leaves Caddy (reload) and is stopped while purchases and bookings run."""
    base, ca = topology.url, str(topology.ca_file)
    starts = journeys.call_starts(BOOKINGS, days_ahead=3)
    finished = threading.Semaphore(0)
    failures: list[str] = []

    def one(kind: str, n: int) -> None:
        try:
            if kind == "buy":
                journeys.buy(journeys.browser(ca), base, site["product_path"],
                             f"drain-buyer{n}@example.com")  # fmt: skip
            else:
                journeys.book_call(journeys.browser(ca), base, site["event_type"], starts[n],
                                   f"drain-caller{n}@example.com")  # fmt: skip
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown
            failures.append(f"{kind} {n}: {error}")
        finally:
            finished.release()

    work = [("buy", n) for n in range(PURCHASES)] + [("book", n) for n in range(BOOKINGS)]
    work.sort(key=lambda item: item[1])  # interleaved: buy 0, book 0, buy 1, ...
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, kind, n) for kind, n in work]
        for _ in range(DRAIN_AFTER):
            finished.acquire(timeout=120)
        drained_at = sum(1 for f in futures if f.done())
        topology.drain(0)
        stop_seconds = terminate(topology.nodes[0])
        after_stop = sum(1 for f in futures if not f.done())
        for future in futures:
            future.result(timeout=300)
    seconds = time.monotonic() - started
    paid = query(topology, "select count(*) from store_order where email like 'drain-buyer%%' "
                 "and paid_at is not null")  # fmt: skip
    booked = query(topology, "select count(*) from bookings_booking where email like "
                   "'drain-caller%%' and status = 'confirmed'")  # fmt: skip
    report.figure("drain: node 1 out of Caddy, then SIGTERM",
                  f"after {drained_at} of {len(work)} journeys; stopped in {stop_seconds:.1f} s; "
                  f"{after_stop} journeys ran after it was gone")  # fmt: skip
    report.check(not failures, "drain: failed purchases or bookings",
                 f"{len(failures)} of {len(work)} in {seconds:.1f} s"
                 + (f" ({'; '.join(failures[:3])})" if failures else ""))  # fmt: skip
    report.check(paid == PURCHASES, "drain: orders paid", f"{paid} of {PURCHASES}")
    report.check(booked == BOOKINGS, "drain: bookings confirmed", f"{booked} of {BOOKINGS}")
    events = query(topology, "select count(*) from store_stripeevent")
    handled = query(topology, "select count(*) from store_stripeevent where processed_at is not "
                    "null and last_error = ''")  # fmt: skip
    report.check(events == handled == topology.stripe.deliveries, "stripe events handled",
                 f"{handled} of {events} recorded")  # fmt: skip
    undelivered = len(topology.stripe.undelivered)
    report.check(undelivered == 0, "stripe stand-in: webhook deliveries",
                 f"{topology.stripe.deliveries} delivered, {topology.stripe.delivery_retries} "
                 f"retried, {undelivered} given up")  # fmt: skip


def campaign_with_a_killed_worker(topology: Topology, report: Report) -> None:
    started = time.monotonic()
    campaign = json.loads(topology.seed("campaign", str(RECIPIENTS)))["campaign"]

    def sent() -> int:
        return int(query(topology, "select count(*) from newsletter_delivery where "
                         "campaign_id = %s and status = 'sent'", campaign))  # fmt: skip

    wait_until(lambda: sent() >= KILL_AFTER_SENT, timeout=180)
    topology.workers[0].kill()
    killed_at = sent()
    report.check(0 < killed_at < RECIPIENTS, "campaign: worker 1 SIGKILLed mid-send",
                 f"at {killed_at} sent")  # fmt: skip
    done = wait_until(
        lambda: query(topology, "select status from newsletter_campaign where id = %s",
                      campaign) == "sent",
        timeout=360,
        every=1,
    )  # fmt: skip
    seconds = time.monotonic() - started
    ledger = int(query(topology, "select count(*) from newsletter_delivery where "
                       "campaign_id = %s", campaign))  # fmt: skip
    ledger_sent = sent()
    wait_until(lambda: campaign_mail(topology) >= ledger_sent, timeout=10)
    arrived = Counter(
        recipient
        for (recipient, subject), count in topology.smtp.subjects().items()
        if "Prodcheck issue 1" in subject
        for _ in range(count)
    )
    twice = sum(1 for count in arrived.values() if count > 1)
    report.check(done, "campaign: finished", f"{'sent' if done else 'NOT sent'} in {seconds:.1f} s")
    report.check(
        ledger_sent == ledger >= RECIPIENTS,
        "campaign: delivery ledger",
        f"{ledger_sent} sent of {ledger} rows",
    )
    report.check(
        len(arrived) == ledger and twice == 0,
        "campaign: SMTP sink",
        f"{sum(arrived.values())} messages to {len(arrived)} recipients, {twice} twice",
    )


def campaign_mail(topology: Topology) -> int:
    return sum(
        count
        for (_, subject), count in topology.smtp.subjects().items()
        if "Prodcheck issue 1" in subject
    )


def security_headers(topology: Topology, report: Report) -> None:
    """../shared/sitecheck/security_headers.py against the https address, Secure required."""
    if not (SITECHECK / "security_headers.py").exists():
        report.check(False, "security_headers.py", f"not found in {SITECHECK}")
        return
    if not ACCEPTANCE_PYTHON.exists():
        subprocess.run(["bash", str(SITECHECK / "setup.sh")], check=False, timeout=900)
    # The checker's requests sessions trust the topology's CA (and only add that).
    runner = topology.folder / "run_security_headers.py"
    runner.write_text(
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(SITECHECK)!r})\n"
        "import acclib\n"
        "plain = acclib.session\n"
        "def session():\n"
        "    s = plain()\n"
        f"    s.verify = {str(topology.ca_file)!r}\n"
        "    return s\n"
        "acclib.session = session\n"
        f"sys.argv = ['security_headers.py', {topology.url!r}]\n"
        f"runpy.run_path({str(SITECHECK / 'security_headers.py')!r}, run_name='__main__')\n"
    )
    done = subprocess.run(
        [str(ACCEPTANCE_PYTHON), str(runner)], cwd=topology.folder, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    verdict = next((line for line in reversed(lines) if "security_headers" in line), "")
    report.check(done.returncode == 0, "security_headers.py (https, Secure required)",
                 verdict or (done.stdout + done.stderr)[-400:])  # fmt: skip


def main() -> int:
    report = Report()
    started = time.monotonic()
    topology = Topology()
    try:
        topology.start()
        report.figure("topology", f"up in {time.monotonic() - started:.0f} s at {topology.url}: "
                      "caddy, 2 gunicorn, 2 celery workers, beat, PostgreSQL, 2 Redis, SMTP sink, "
                      "Stripe stand-in")  # fmt: skip
        site = json.loads(topology.seed("site", PASSWORD))
        check_headers(topology, report, site)
        run_journeys(topology, report, site)
        drain_during_traffic(topology, report, site)
        campaign_with_a_killed_worker(topology, report)
        security_headers(topology, report)
        report.figure("redis keys", topology.redis_keys())
    except Exception as error:
        report.check(False, "prodcheck", f"{type(error).__name__}: {error}")
        print(topology.logs(), file=sys.stderr)
    finally:
        topology.stop()
    report.figure("total", f"{time.monotonic() - started:.0f} s")
    if report.failures:
        print(f"FAILED: {', '.join(report.failures)} (logs kept in {topology.folder})")
        return 1
    topology.cleanup()
    print("prodcheck: every check held")
    return 0
