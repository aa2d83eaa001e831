import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from coaching import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]


def test_a_malformed_boolean_stops_start_up_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("SECURE_COOKIES", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SECURE_COOKIES must be true or false"):
        project_settings.env_bool("SECURE_COOKIES", False)


def test_a_malformed_number_stops_start_up_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("AXES_FAILURE_LIMIT", "five")
    with pytest.raises(ImproperlyConfigured, match="AXES_FAILURE_LIMIT must be a whole number"):
        project_settings.env_int("AXES_FAILURE_LIMIT", 5)


def test_a_required_variable_that_is_missing_is_named(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is not set"):
        project_settings.env_str("SECRET_KEY")


def test_broker_and_cache_use_neighbouring_redis_databases():
    assert project_settings.redis_db("redis://h:6379/4", 0) == "redis://h:6379/4"
    assert project_settings.redis_db("redis://h:6379/4", 1) == "redis://h:6379/5"
    with pytest.raises(ImproperlyConfigured):
        project_settings.redis_db("http://h:6379/0", 0)


def read_variables(*paths: str) -> set[str]:
    names: set[str] = set()
    for path in paths:
        text = (ROOT / path).read_text()
        names |= set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_0-9]+)"', text))
        names |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z_0-9]+)"', text))
    return names


def test_every_variable_the_code_reads_is_documented_in_env_example_and_readme():
    used = read_variables("coaching/settings.py", "coaching/demo.py", "coaching/launcher.py")
    documented = set(re.findall(r"^#?\s*([A-Z_0-9]+)=", (ROOT / ".env.example").read_text(), re.M))
    readme = (ROOT / "README.md").read_text()
    assert used - documented == set()
    assert {name for name in used if f"`{name}`" not in readme} == set()


def settings_in_a_process(**env: str) -> dict:
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'cache': s.CACHES['default']['LOCATION'], 'broker': s.CELERY_BROKER_URL, "
        "'anymail': s.ANYMAIL, 'hosts': s.ALLOWED_HOSTS}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANYMAIL_", "CACHE_URL"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "coaching.settings", **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_cache_and_broker_share_redis_url_locally_and_split_when_told() -> None:
    local = settings_in_a_process(REDIS_URL="redis://127.0.0.1:6379/4")
    assert (local["cache"], local["broker"]) == (
        "redis://127.0.0.1:6379/5",
        "redis://127.0.0.1:6379/4",
    )
    split = settings_in_a_process(
        REDIS_URL="redis://broker:6379/0",
        CACHE_URL="redis://cache:6379/0",
        CELERY_BROKER_URL="redis://broker:6379/0",
    )
    assert (split["cache"], split["broker"]) == ("redis://cache:6379/0", "redis://broker:6379/0")


def test_anymail_settings_come_from_anymail_variables() -> None:
    got = settings_in_a_process(
        ANYMAIL_POSTMARK_SERVER_TOKEN="token", ANYMAIL_WEBHOOK_SECRET="user:pass"
    )
    assert got["anymail"] == {"POSTMARK_SERVER_TOKEN": "token", "WEBHOOK_SECRET": "user:pass"}


def test_in_production_allowed_hosts_defaults_to_site_urls_host() -> None:
    got = settings_in_a_process(PRODUCTION="true", SITE_URL="https://coach.example.com")
    assert got["hosts"] == ["coach.example.com"]


def test_every_periodic_job_names_a_task_the_worker_knows() -> None:
    from django.conf import settings

    from coaching.celery import app

    app.loader.import_default_modules()
    unknown = [
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in app.tasks
    ]
    assert unknown == []
