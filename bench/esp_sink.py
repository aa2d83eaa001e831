"""A stand-in ESP for the newsletter bench: Postmark's send API on 127.0.0.1.

POST /email takes one message, POST /email/batch a list of them (Postmark's JSON
shapes); each answers as Postmark does, so anymail's real Postmark backend reads
it. Counts recipients like peers/lib/smtp_sink.py, prints READY, then one JSON
line when `--expect` recipients arrived (plus `--linger`) or at `--timeout`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.recipients = self.messages = self.requests = self.bytes = 0
        self.connections: set[tuple[str, int]] = set()
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.missing_unsubscribe = 0


COUNTS = Counts()
DONE = threading.Event()
EXPECT = 0


def answer(message: dict) -> dict:
    return {
        "To": message.get("To", ""),
        "SubmittedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "MessageID": str(uuid.uuid4()),
        "ErrorCode": 0,
        "Message": "OK",
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real ESP's API

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("X-Postmark-Server-Token") is None:
            return self.reply(401, {"ErrorCode": 10, "Message": "No token"})
        data = json.loads(body)
        if self.path.rstrip("/") == "/email":
            messages, batch = [data], False
        elif self.path.rstrip("/") == "/email/batch":
            messages, batch = list(data), True
        else:
            return self.reply(404, {"ErrorCode": 404, "Message": "Not found"})
        now = time.time()
        with COUNTS.lock:
            COUNTS.requests += 1
            COUNTS.messages += len(messages)
            COUNTS.bytes += len(body)
            COUNTS.connections.add(self.client_address)
            for message in messages:
                COUNTS.recipients += len([a for a in message.get("To", "").split(",") if a])
                headers = {h.get("Name"): h.get("Value") for h in message.get("Headers", [])}
                COUNTS.missing_unsubscribe += "List-Unsubscribe" not in headers
            COUNTS.first_ts = COUNTS.first_ts or now
            COUNTS.last_ts = now
            if EXPECT and COUNTS.recipients >= EXPECT:
                DONE.set()
        replies = [answer(m) for m in messages]
        return self.reply(200, replies if batch else replies[0])

    def reply(self, status: int, payload: object) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass


def main() -> None:
    global EXPECT
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--linger", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    EXPECT = args.expect
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("READY", flush=True)
    DONE.wait(args.timeout)
    time.sleep(args.linger)  # anything extra (a duplicate) still counts
    server.shutdown()
    with COUNTS.lock:
        print(
            json.dumps(
                {
                    "recipients": COUNTS.recipients,
                    "messages": COUNTS.messages,
                    "requests": COUNTS.requests,
                    "bytes": COUNTS.bytes,
                    "connections": len(COUNTS.connections),
                    "first_ts": COUNTS.first_ts,
                    "last_ts": COUNTS.last_ts,
                    "missing_unsubscribe": COUNTS.missing_unsubscribe,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
