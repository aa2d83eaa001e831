"""Where paid files live: MEDIA_ROOT/private, a folder no URL maps to.

Files are only ever streamed by the download view after an entitlement check,
so the storage has no base URL at all: `.url()` raises rather than leak a path.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> str:
        # Read per call so tests that move MEDIA_ROOT get their own folder.
        return os.path.join(settings.MEDIA_ROOT, "private")

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no public URL; use the download view.")


def private_storage() -> PrivateStorage:
    return PrivateStorage()
