from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        from bookings.emails import register_prep_brief_section
        from clients import receivers
        from clients.brief import prep_brief_section

        # Other apps never import clients: we listen to their saves instead.
        receivers.connect()
        register_prep_brief_section(prep_brief_section)
