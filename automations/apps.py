from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Follow-ups"

    def ready(self) -> None:
        from automations import receivers

        # The apps below never import this one: it listens to their signals and saves.
        receivers.connect()
