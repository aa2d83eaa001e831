"""What visitors and buyers do, over https through Caddy, as a browser would send it.

Each journey raises JourneyFailed with what went wrong; the callers count them.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.faults.processes import SmtpSink

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LONDON = ZoneInfo("Europe/London")


class JourneyFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise JourneyFailed(message)


def browser(ca_file: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never through a proxy from the environment
    session.verify = ca_file  # trust Caddy's local CA and nothing else extra
    return session


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    expect(found is not None, "no CSRF token in the page")
    assert found is not None
    return found.group(1)


def set_cookies(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def post_form(
    session: requests.Session, page_url: str, data: dict[str, str], *, action: str | None = None
) -> requests.Response:
    """GET a form page, then POST it with its CSRF token and the Referer a browser sends."""
    page = session.get(page_url, timeout=20)
    expect(page.status_code == 200, f"{page_url} answered {page.status_code}")
    return session.post(
        action or page_url,
        data={**data, "csrfmiddlewaretoken": csrf_token(page.text)},
        headers={"Referer": page_url},
        allow_redirects=False,
        timeout=30,
    )


def log_in(session: requests.Session, base: str, email: str, password: str) -> list[str]:
    """Sign in with a password; returns the Set-Cookie lines of the answer."""
    answer = post_form(session, base + "/accounts/login/", {"login": email, "password": password})
    expect(answer.status_code == 302, f"sign-in answered {answer.status_code}")
    return set_cookies(answer)


def buy(session: requests.Session, base: str, product_path: str, email: str) -> str:
    """Product form, Stripe's hosted page (the stand-in), back to the success page."""
    started = post_form(session, base + product_path, {"email": email})
    expect(started.status_code == 302, f"the buy form answered {started.status_code}")
    checkout = started.headers["Location"]
    expect(checkout.startswith("http://127.0.0.1:"), f"checkout went to {checkout}")
    paid = session.post(checkout, allow_redirects=False, timeout=60)
    expect(paid.status_code == 303, f"the hosted page answered {paid.status_code}")
    success_url = paid.headers["Location"]
    expect(success_url.startswith(base + "/"), f"Stripe sent the buyer to {success_url}")
    success = session.get(success_url, timeout=30)
    expect(success.status_code == 200, f"the success page answered {success.status_code}")
    return success_url.rsplit("=", 1)[-1]


def download_stamped_copy(session: requests.Session, base: str, title: str) -> bytes:
    """From the library: the buyer's stamped PDF (waits, bounded, while it is prepared)."""
    library = session.get(base + "/library/", timeout=20)
    expect(library.status_code == 200, f"the library answered {library.status_code}")
    expect(title in library.text, "the bought product is not in the library")
    # A download link, or (while a worker stamps the copy) its status fragment's address.
    found = re.search(r"/library/files/(\d+)/(?:download|status)/", library.text)
    expect(found is not None, "no file in the library")
    assert found is not None
    download = base + f"/library/files/{found.group(1)}/download/"
    for _ in range(60):
        answer = session.get(download, allow_redirects=False, timeout=20)
        expect(answer.status_code == 302, f"download answered {answer.status_code}")
        target = answer.headers["Location"]
        if "/store/files/" in target:
            pdf = session.get(base + target if target.startswith("/") else target, timeout=30)
            expect(pdf.status_code == 200, f"the signed file answered {pdf.status_code}")
            expect(pdf.content.startswith(b"%PDF-"), "the download is not a PDF")
            return pdf.content
        time.sleep(0.5)  # the stamped copy is still being made by a worker
    raise JourneyFailed("the stamped copy was not ready within 30 s")


def call_starts(count: int, *, days_ahead: int = 3) -> list[datetime]:
    """`count` distinct weekday half-hour starts, 09:00-16:30 in London."""
    found: list[datetime] = []
    day = date.today() + timedelta(days=days_ahead)
    while len(found) < count:
        if day.weekday() < 5:
            for slot in range(16):
                found.append(datetime(day.year, day.month, day.day, 9 + slot // 2,
                                      30 * (slot % 2), tzinfo=LONDON))  # fmt: skip
        day += timedelta(days=1)
    return found[:count]


def book_call(
    session: requests.Session, base: str, event_type: str, start: datetime, email: str
) -> None:
    answer = session.post(
        base + "/api/bookings/",
        json={
            "event_type": event_type,
            "start": start.isoformat(),
            "name": "Visitor",
            "email": email,
            "time_zone": "Europe/London",
            "answers": {"goal": "A new job"},
        },
        headers={"Referer": base + f"/book/{event_type}/"},
        timeout=30,
    )
    expect(answer.status_code == 201, f"booking answered {answer.status_code}: {answer.text[:200]}")


def mail_to(sink: SmtpSink, address: str, *, timeout: float = 90) -> list[str]:
    """The bodies of the messages the sink got for `address`, waiting (bounded) for one."""
    from email import message_from_bytes, policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sink.lock:
            raw = [body for rcpts, body in sink.messages if address in [r.lower() for r in rcpts]]
        if raw:
            bodies = []
            for data in raw:
                message: Any = message_from_bytes(data, policy=policy.default)
                part = message.get_body(preferencelist=("plain", "html"))
                bodies.append(part.get_content() if part else "")
            return bodies
        time.sleep(0.5)
    raise JourneyFailed(f"no mail for {address} within {timeout:.0f} s")


def subscribe_and_confirm(session: requests.Session, base: str, sink: SmtpSink, email: str) -> None:
    # The signup form sits on cached pages and so carries no CSRF token (see its template).
    answer = session.post(
        base + "/newsletter/subscribe/",
        data={"email": email, "time_zone": "Europe/London", "source": "prodcheck"},
        headers={"Referer": base + "/newsletter/subscribe/"},
        timeout=20,
    )
    expect(answer.status_code == 200, f"subscribing answered {answer.status_code}")
    links = [
        link
        for body in mail_to(sink, email)
        for link in re.findall(re.escape(base) + r"/newsletter/confirm/[^/\s\"]+/", body)
    ]
    expect(bool(links), "the confirmation mail has no confirm link on the site's https address")
    page = session.get(links[0], timeout=20)
    expect(page.status_code == 200, f"the confirm page answered {page.status_code}")
    done = session.post(links[0], headers={"Referer": links[0]}, timeout=20)
    expect(done.status_code == 200, f"confirming answered {done.status_code}")
    expect("confirm" in done.text.lower(), "the confirmed page does not say so")
