import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")
application = get_wsgi_application()

from coaching.warmup import load_everything_and_freeze  # noqa: E402 - needs Django set up

load_everything_and_freeze()
