"""Video guides: which hosts may be embedded, how, and the page's policy for them.

A video page shows the coach's poster and a link to the video; only when the
visitor clicks does static/js/video.js swap the link for the host's player, so
no request reaches YouTube or Vimeo before that. The page's Content-Security-Policy
allows frames from that one host's embed origin, on video pages only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

YOUTUBE_ORIGIN = "https://www.youtube-nocookie.com"
VIMEO_ORIGIN = "https://player.vimeo.com"
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VIMEO_ID = re.compile(r"^[0-9]{4,12}$")
YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "youtube-nocookie.com",
                 "www.youtube-nocookie.com"}  # fmt: skip
VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}


@dataclass(frozen=True)
class Embed:
    provider: str  # "YouTube" or "Vimeo"
    video_id: str

    @property
    def origin(self) -> str:
        return YOUTUBE_ORIGIN if self.provider == "YouTube" else VIMEO_ORIGIN

    @property
    def embed_url(self) -> str:
        """The player, started by the click that loads it."""
        if self.provider == "YouTube":
            return f"{YOUTUBE_ORIGIN}/embed/{self.video_id}?autoplay=1&rel=0"
        return f"{VIMEO_ORIGIN}/video/{self.video_id}?autoplay=1&dnt=1"

    def watch_url(self, start: int = 0) -> str:
        """The video on the host's own site: what the link opens without JavaScript."""
        if self.provider == "YouTube":
            suffix = f"&t={start}s" if start else ""
            return f"https://www.youtube.com/watch?v={self.video_id}{suffix}"
        suffix = f"#t={start}s" if start else ""
        return f"https://vimeo.com/{self.video_id}{suffix}"


def embed_for(url: str) -> Embed | None:
    """The embeddable video at a YouTube or Vimeo address, or None for anything else."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"}:
        return None
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in YOUTUBE_HOSTS:
        if segments[:1] == ["watch"]:
            candidate = parse_qs(parts.query).get("v", [""])[0]
        elif len(segments) >= 2 and segments[0] in {"embed", "shorts", "live", "v"}:
            candidate = segments[1]
        else:
            return None
        return Embed("YouTube", candidate) if YOUTUBE_ID.match(candidate) else None
    if host == "youtu.be":
        candidate = segments[0] if segments else ""
        return Embed("YouTube", candidate) if YOUTUBE_ID.match(candidate) else None
    if host in VIMEO_HOSTS:
        candidate = segments[-1] if segments else ""
        return Embed("Vimeo", candidate) if VIMEO_ID.match(candidate) else None
    return None


def validate_video_url(url: str) -> None:
    if url and embed_for(url) is None:
        raise ValidationError(
            "Paste the address of a YouTube or Vimeo video, e.g. https://youtu.be/… "
            "or https://vimeo.com/…"
        )


@dataclass(frozen=True)
class Chapter:
    start: int  # seconds
    title: str

    @property
    def label(self) -> str:
        return format_duration(self.start)


CHAPTER = re.compile(r"^\s*((?:\d{1,2}:)?\d{1,2}:\d{2})\s*[-–—]?\s*(\S.*?)\s*$")


def _seconds(stamp: str) -> int:
    total = 0
    for part in stamp.split(":"):
        total = total * 60 + int(part)
    return total


def parse_chapters(text: str) -> list[Chapter]:
    """'3:15 System design' a line; raise ValueError naming the first unreadable line."""
    chapters = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = CHAPTER.match(line)
        if match is None:
            raise ValueError(f"line {number}: write a time then a title, e.g. '3:15 Design'")
        chapters.append(Chapter(_seconds(match[1]), match[2]))
    return sorted(chapters, key=lambda chapter: chapter.start)


def validate_chapters(text: str) -> None:
    try:
        parse_chapters(text)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def format_duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def video_csp(embed: Embed) -> dict[str, Any]:
    """The site's policy plus frames from this video's host only."""
    return {**settings.SECURE_CSP, "frame-src": [embed.origin]}


def player_context(guide: Any) -> dict[str, Any] | None:
    """What templates/guides/_video.html needs, or None when the guide has no playable video."""
    embed = embed_for(guide.video_url) if guide.video_url else None
    if embed is None:
        return None
    try:
        chapters = parse_chapters(guide.video_chapters)
    except ValueError:
        chapters = []
    return {
        "embed": embed,
        "watch_url": embed.watch_url(),
        "chapters": [
            {"start": c.start, "label": c.label, "title": c.title, "url": embed.watch_url(c.start)}
            for c in chapters
        ],
        "duration": format_duration(guide.video_duration_seconds)
        if guide.video_duration_seconds
        else "",
    }
