"""PostgreSQL speed tricks for the newsletter sender, kept apart from what they speed up.

Nothing here decides who gets what: `newsletter/sending.py` owns the ledger's
SQL. This module only runs some of it faster:

- `commits_without_flush_wait()`: `synchronous_commit = off` for a sender's session;
- `send_statement()` / `collect()`: a prepared statement sent without waiting for
  its answer (libpq's asynchronous API), so that its round trip overlaps with the
  SMTP exchange instead of adding to it (used by the smtp transport only).
"""

from __future__ import annotations

import hashlib
import re
import select
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db import connection as db
from psycopg import pq

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@contextmanager
def commits_without_flush_wait() -> Iterator[None]:
    """`synchronous_commit = off` for this session, unless durable marks are asked for.

    Each "mark sent" is its own commit; waiting for its WAL flush, one disk
    flush per message, capped a sender's rate at the disk's. Without the wait the
    commit is visible at once and survives a killed worker (the proofs), and is
    on disk within 3 x wal_writer_delay (0.6 s); only a crash of PostgreSQL itself
    in that window could forget a few "sent" marks, and those rows would be sent
    again after their lease. `NEWSLETTER_DURABLE_SENT_MARKS = True` trades speed
    for that case too.
    """
    if getattr(settings, "NEWSLETTER_DURABLE_SENT_MARKS", False):
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


# psycopg's %(name)s statements turned into libpq's $n ones, with their names in order.
_numbered: dict[str, tuple[bytes, list[str]]] = {}


def _libpq_form(sql: str) -> tuple[bytes, list[str]]:
    found = _numbered.get(sql)
    if found is None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        found = _numbered[sql] = (PLACEHOLDER.sub(number, sql).encode(), names)
    return found


def _statement_name(sql: bytes) -> bytes:
    return b"newsletter_" + hashlib.sha1(sql, usedforsecurity=False).hexdigest()[:16].encode()


def _prepare(pgconn: Any, sql: bytes) -> bytes:
    """A server-side prepared statement, once per database session.

    Parsing and planning these statements cost PostgreSQL more than the rest of
    a message's database work; prepared, they are planned once per session.
    Looked up first rather than tried, because a failed PREPARE would abort a
    caller's transaction.
    """
    name = _statement_name(sql)
    found = pgconn.exec_params(b"SELECT 1 FROM pg_prepared_statements WHERE name = $1", [name])
    if found.status == pq.ExecStatus.TUPLES_OK and found.ntuples == 0:
        result = pgconn.prepare(name, sql)
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise DatabaseError(result.get_error_message())
    return name


# Which sessions have which statements: keyed by the libpq object and its server
# process, so that a new session (even at a reused address) prepares again.
_prepared: dict[tuple[int, int, int], bytes] = {}


def send_statement(sql: str, params: Mapping[str, object]) -> None:
    """Send one statement (psycopg placeholders) and return without waiting for its answer."""
    raw, names = _libpq_form(sql)
    values = [str(params[name]).encode() for name in names]
    db.ensure_connection()
    pgconn = db.connection.pgconn
    key = (id(pgconn), pgconn.backend_pid, hash(raw))
    name = _prepared.get(key)
    if name is None:
        if len(_prepared) > 1000:
            _prepared.clear()
        name = _prepared[key] = _prepare(pgconn, raw)
    pgconn.send_query_prepared(name, values)
    while pgconn.flush() == 1:
        select.select([], [pgconn.socket], [], 1.0)


def collect() -> int:
    """Read the answer of `send_statement`: rows returned or changed."""
    pgconn = db.connection.pgconn
    count, error = 0, ""
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [], 1.0)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            break
        if result.status == pq.ExecStatus.TUPLES_OK:
            count = result.ntuples
        elif result.status == pq.ExecStatus.COMMAND_OK:
            count = int(result.command_tuples or 0)
        else:
            error = result.get_error_message()
    if error:
        raise DatabaseError(error)
    return count
