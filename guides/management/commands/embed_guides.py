from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from guides.models import Guide
from guides.semantic import embed_guide_passages


class Command(BaseCommand):
    help = "Compute the passages and embeddings of every guide for semantic search (again)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--missing", action="store_true", help="Only guides without any.")

    def handle(self, *args: Any, missing: bool = False, **options: Any) -> None:
        guides = Guide.objects.order_by("pk")
        if missing:
            guides = guides.filter(passages__isnull=True)
        started = time.monotonic()
        ids = list(guides.values_list("pk", flat=True).distinct())
        passages = sum(embed_guide_passages(pk) for pk in ids)
        seconds = time.monotonic() - started
        self.stdout.write(f"embedded {len(ids)} guide(s), {passages} passage(s) in {seconds:.1f} s")
