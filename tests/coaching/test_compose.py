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


def test_the_compose_file_is_valid_against_the_compose_specification():
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_declares_web_worker_beat_postgres_redis_and_mailpit_sharing_one_image():
    services = compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "mailpit"} <= set(services)
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"coaching:latest"}
    assert all(services[name]["build"] == "." for name in APP_SERVICES)
    assert (ROOT / "Dockerfile").exists()


def test_every_app_service_runs_a_command_that_exists_in_the_project():
    from django.core.management import get_commands

    for name in APP_SERVICES:
        command = compose()["services"][name]["command"]
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
