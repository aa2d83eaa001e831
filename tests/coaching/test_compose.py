"""docker-compose.yml cannot be run here (no Docker engine), so it is checked offline."""

import importlib
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
APP_SERVICES = {"migrate", "web", "worker", "beat"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_compose_files_are_valid_against_the_compose_specification():
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml"), str(ROOT / "docker-compose.dev.yml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_declares_web_worker_beat_postgres_two_redis_and_caddy_sharing_one_image():
    services = compose()["services"]
    assert {"web", "worker", "beat", "postgres", "cache", "broker", "caddy"} <= set(services)
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"coaching:latest"}
    assert all(services[name]["build"] == "." for name in APP_SERVICES)
    assert (ROOT / "Dockerfile").exists()


def test_every_app_service_runs_a_command_that_exists_in_the_project():
    from django.core.management import get_commands

    for name in APP_SERVICES:
        command = compose()["services"][name]["command"]
        if command[0] == "sh":
            # migrate chains its steps: check the first one, manage.py migrate.
            command = command[2].split("&&")[0].split()
        program = command[0]
        assert (BIN / program).exists(), f"{name}: {program} is not installed"
        if program == "gunicorn":
            module, _, attribute = command[1].partition(":")
            assert hasattr(importlib.import_module(module), attribute or "application"), name
        elif program == "celery":
            app_module = command[command.index("-A") + 1]
            assert importlib.import_module(app_module).celery_app is not None, name
            assert command[command.index("-A") + 2] in {"worker", "beat"}, name
        elif program == "python":
            assert command[1] == "manage.py" and (ROOT / "manage.py").exists(), name
            assert command[2] in get_commands(), f"{name}: no manage.py {command[2]}"
        else:
            raise AssertionError(f"{name}: unexpected program {program}")


def app_environment(name: str = "web") -> dict:
    return compose()["services"][name]["environment"]


def test_secret_key_and_site_url_are_required_and_production_is_on_by_default():
    environment = app_environment()
    assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert environment["SITE_URL"].startswith("${SITE_URL:?")
    assert environment["PRODUCTION"] == "${PRODUCTION:-true}"
    assert "change-me" not in (ROOT / "docker-compose.yml").read_text()


def test_email_and_stripe_are_never_pinned_so_env_file_decides():
    for name in APP_SERVICES:
        service = compose()["services"][name]
        pinned = {key for key in service["environment"] if key.startswith(("EMAIL", "STRIPE"))}
        assert pinned == set(), name
        assert service["env_file"] == [{"path": ".env", "required": False}]


def test_mailpit_lives_only_in_the_development_override_bound_to_loopback():
    assert "mailpit" not in compose()["services"]
    assert "mailpit" not in (ROOT / "docker-compose.yml").read_text().split("services:")[1]
    dev = yaml.safe_load((ROOT / "docker-compose.dev.yml").read_text())["services"]
    assert dev["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]


def test_the_cache_evicts_under_a_memory_bound_and_the_broker_never_evicts_and_persists():
    services = compose()["services"]
    cache, broker = services["cache"]["command"], services["broker"]["command"]
    assert cache[cache.index("--maxmemory") + 1] == "256mb"
    assert cache[cache.index("--maxmemory-policy") + 1] == "allkeys-lru"
    assert broker[broker.index("--maxmemory-policy") + 1] == "noeviction"
    assert broker[broker.index("--appendonly") + 1] == "yes"
    environment = app_environment()
    assert environment["CACHE_URL"] == "redis://cache:6379/0"
    assert environment["CELERY_BROKER_URL"] == environment["REDIS_URL"] == "redis://broker:6379/0"


def test_caddy_terminates_tls_for_site_url_and_serves_static_and_public_media():
    caddy = compose()["services"]["caddy"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$SITE_URL} {" in caddyfile
    assert "root * /srv/static" in caddyfile and "root * /srv/media/public" in caddyfile
    assert "reverse_proxy web:8000" in caddyfile
    assert "8000:8000" not in str(compose()["services"]["web"].get("ports", []))
    environment = app_environment()
    assert environment["TRUSTED_PROXY_COUNT"] == "1"
    assert environment["BEHIND_TLS_PROXY"] == "true"
    assert environment["SERVE_MEDIA"] == "false"


def test_every_long_running_service_has_a_healthcheck():
    for name, service in compose()["services"].items():
        if name == "migrate":
            continue
        assert service["healthcheck"]["test"], name


def test_migrate_runs_once_before_web_worker_and_beat():
    services = compose()["services"]
    assert services["migrate"]["restart"] == "no"
    assert "manage.py migrate" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "beat"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def test_the_image_leaves_local_state_and_secrets_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".data", ".git"} <= set(ignored)
