"""Small SVG charts drawn on the server: no chart library, no script, nothing from elsewhere.

Each function returns safe SVG markup with a <title> and <desc> for screen
readers; colours come from classes in static/css/clients.css (dark mode too).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 240
PAD_LEFT = 56
PAD_RIGHT = 28
PAD_TOP = 16
PAD_BOTTOM = 36


def _ticks(value: float) -> list[float]:
    """Axis ticks at round steps (0/10/20/30, 0/2/4/6...), enough to reach `value`.

    The step is 1, 2 or 5 times a power of ten, so a label never reads 12.5 or 38.
    """
    if value <= 4:
        return [0.0, 1.0, 2.0, 3.0, 4.0]  # small counts: whole-number ticks 0..4
    rough = value / 4
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    count = math.ceil(value / step - 1e-9)
    return [float(step * i) for i in range(count + 1)]


def _frame(title: str, desc: str, body: list[str], *, height: int = HEIGHT) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below went through escape()
        f'<svg class="cl-chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _axis(ticks: list[float], fmt: Callable[[float], str]) -> list[str]:
    parts = []
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = ticks[-1]
    for value in ticks:
        y = PAD_TOP + plot_h - plot_h * value / top
        parts.append(
            f'<line class="cl-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text class="cl-tick" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(fmt(value))}</text>'
        )
    return parts


def _x_labels(labels: Sequence[str], centres: list[float]) -> list[str]:
    every = max(1, len(labels) // 8)
    return [
        f'<text class="cl-tick" x="{x:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" '
        f'text-anchor="middle">{escape(label)}</text>'
        for i, (label, x) in enumerate(zip(labels, centres, strict=True))
        if i % every == 0 or i == len(labels) - 1
    ]


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    line: Sequence[float | None] | None = None,
    line_label: str = "",
    empty_text: str = "",
) -> SafeString:
    """Vertical bars; `line` draws a second series on a 0-100 % scale over them.

    With `empty_text`, all-zero values show that sentence instead of a bare axis.
    """
    if not labels:
        return empty(title)
    if empty_text and not any(values):
        return empty(title, empty_text)
    ticks = _ticks(max(values) if values else 0)
    top = ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / len(labels)
    bar_w = max(2.0, slot * 0.66)
    body = _axis(ticks, fmt)
    centres = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / top
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        centres.append(x + bar_w / 2)
        body.append(
            f'<rect class="cl-bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" rx="2"><title>{escape(label)}: {escape(fmt(value))}</title></rect>'
        )
    if line:
        points = [
            f"{centres[i]:.1f},{PAD_TOP + plot_h - plot_h * v / 100:.1f}"
            for i, v in enumerate(line)
            if v is not None
        ]
        if points:
            body.append(f'<polyline class="cl-line" points="{" ".join(points)}"/>')
            body.extend(
                f'<circle class="cl-dot" cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3"/>'
                for p in points
            )
            body.append(
                f'<text class="cl-legend" x="{WIDTH - PAD_RIGHT}" y="{PAD_TOP - 2}" '
                f'text-anchor="end">— {escape(line_label)} (0–100 %)</text>'
            )
    body.extend(_x_labels(labels, centres))
    desc = "; ".join(f"{a}: {fmt(b)}" for a, b in zip(labels, values, strict=True))
    return _frame(title, desc, body)


def line_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> SafeString:
    if not labels:
        return empty(title)
    ticks = _ticks(max(values) if values else 0)
    top = ticks[-1]
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(1, len(labels) - 1)
    xs = [
        PAD_LEFT + step * i if len(labels) > 1 else PAD_LEFT + plot_w / 2
        for i in range(len(labels))
    ]
    ys = [PAD_TOP + plot_h - plot_h * v / top for v in values]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    area = f"{xs[0]:.1f},{PAD_TOP + plot_h} {points} {xs[-1]:.1f},{PAD_TOP + plot_h}"
    body = _axis(ticks, fmt)
    body.append(f'<polygon class="cl-area" points="{area}"/>')
    body.append(f'<polyline class="cl-line" points="{points}"/>')
    body.extend(
        f'<circle class="cl-dot" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(label)}: '
        f"{escape(fmt(v))}</title></circle>"
        for x, y, label, v in zip(xs, ys, labels, values, strict=True)
    )
    body.extend(_x_labels(labels, xs))
    desc = "; ".join(f"{a}: {fmt(b)}" for a, b in zip(labels, values, strict=True))
    return _frame(title, desc, body)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
    notes: Sequence[str] | None = None,
) -> SafeString:
    """Horizontal bars with the label above each bar: products, funnel steps."""
    if not labels:
        return empty(title)
    row = 44
    height = PAD_TOP + row * len(labels) + 8
    top = max(values) or 1
    usable = WIDTH - 24 - 140
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = PAD_TOP + row * i
        w = max(2.0, usable * value / top)
        note = f" · {notes[i]}" if notes and notes[i] else ""
        body.append(
            f'<text class="cl-label" x="12" y="{y + 10}">{escape(label)}{escape(note)}</text>'
            f'<rect class="cl-bar" x="12" y="{y + 16}" width="{w:.1f}" height="16" rx="3">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
            f'<text class="cl-value" x="{12 + w + 8:.1f}" y="{y + 29}">{escape(fmt(value))}</text>'
        )
    desc = "; ".join(f"{a}: {fmt(b)}" for a, b in zip(labels, values, strict=True))
    return _frame(title, desc, body, height=height)


def empty(title: str, text: str = "No data yet") -> SafeString:
    return _frame(
        title,
        text,
        [
            f'<text class="cl-tick" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            f"{escape(text)}</text>"
        ],
        height=HEIGHT // 2 + 20,
    )
