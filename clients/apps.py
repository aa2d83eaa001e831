from typing import Any

from django.apps import AppConfig


def _prep_brief(booking: Any, **extra: Any) -> list[tuple[str, list[str]]]:
    """bookings.signals.prep_brief_requested: the CRM's part of the coach's prep brief."""
    from clients.brief import prep_brief_section

    return prep_brief_section(booking)


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from bookings.signals import prep_brief_requested
        from clients import receivers

        # Other apps never import clients: we listen to their saves and signals instead.
        receivers.connect()
        prep_brief_requested.connect(_prep_brief, dispatch_uid="clients-prep-brief")
