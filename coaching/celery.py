import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")

app = Celery("coaching")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def load_the_urlconf_before_forking(**_: object) -> None:
    """Import every URL module (and so every view) once, in the parent process.

    Tasks that build links (`reverse`) otherwise import the whole URLconf on their
    first run in each prefork child: seconds of CPU at the start of a newsletter send.
    """
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.freeze()  # as in coaching/wsgi.py: the children inherit it
