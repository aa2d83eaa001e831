# Two commands matter: `make run` and `make test`. Everything else is a convenience.
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test prodcheck bench lint format typecheck check manage totp clean screenshots

run: $(STAMP)
	@$(PY) -m coaching.launcher run

test: $(STAMP)
	@$(PY) -m coaching.launcher test $(ARGS)

# The production topology on this machine (caddy, two gunicorn nodes, workers, beat,
# PostgreSQL, two Redis, SMTP sink, Stripe stand-in), proven over https; see README.
prodcheck: $(STAMP)
	@$(PY) -m tests.production

bench: $(STAMP)
	@$(PY) -m bench.run $(ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(PY) bin/deadcode

format: $(STAMP)
	@$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	@$(VENV)/bin/mypy .

# README's pictures: docs/screenshots/ from the demo data, in Debian's chromium.
screenshots: $(STAMP)
	@$(PY) -m coaching.launcher test tests/screenshots.py -q $(ARGS)

manage: $(STAMP)
	@$(PY) -m coaching.launcher manage $(ARGS)

totp: $(STAMP)
	@$(PY) -m coaching.launcher totp

# The virtual environment is rebuilt only when the lock file changes.
# --override: the dependency the lock was compiled without stays out (see the file).
# --system-certs: uv trusts the operating system's certificate store, as pip
# does, so the install works behind a TLS-inspecting proxy; uv has it since 0.11.
$(STAMP): requirements.lock requirements-overrides.txt
	@PYTHON312=$$(bin/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "[coaching] creating $(VENV) with $$PYTHON312"; "$$PYTHON312" -m venv $(VENV) || exit 1; fi; \
	$(PY) -m pip install --quiet --disable-pip-version-check "uv>=0.11" || exit 1; \
	echo "[coaching] installing the pinned dependencies"; \
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip install --system-certs --quiet --python $(PY) -r requirements.lock --override requirements-overrides.txt || exit 1; \
	touch $(STAMP)

clean:
	rm -rf $(VENV) staticfiles
