import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")

app = Celery("coaching")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def load_everything_before_forking(**_: object) -> None:
    """In the parent process, so that every prefork child starts warm."""
    from coaching.warmup import load_everything_and_freeze

    load_everything_and_freeze()
