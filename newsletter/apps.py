from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"

    def ready(self) -> None:
        from newsletter import receivers  # noqa: F401 - connects the anymail receivers
