# Two commands matter: `make run` and `make test`. Everything else is a convenience.
SHELL := /bin/sh
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint format typecheck check manage totp clean screenshots

run: $(STAMP)
	@$(PY) -m coaching.launcher run

test: $(STAMP)
	@$(PY) -m coaching.launcher test $(ARGS)

bench: $(STAMP)
	@$(PY) -m bench.run $(ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

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
$(STAMP): requirements.lock
	@PYTHON312=$$(bin/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "[coaching] creating $(VENV) with $$PYTHON312"; "$$PYTHON312" -m venv $(VENV) || exit 1; fi; \
	if [ ! -x $(VENV)/bin/uv ]; then $(PY) -m pip install --quiet --disable-pip-version-check uv || exit 1; fi; \
	echo "[coaching] installing the pinned dependencies"; \
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements.lock || exit 1; \
	touch $(STAMP)

clean:
	rm -rf $(VENV) staticfiles
