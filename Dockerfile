# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never \
    PATH="/app/.venv/bin:$PATH"

WORKDIR /app
RUN useradd --create-home --uid 1000 coaching \
    && python -m venv /app/.venv \
    && /app/.venv/bin/pip install --no-cache-dir uv

COPY requirements.lock requirements-overrides.txt pyproject.toml ./
RUN uv pip install --no-cache --python /app/.venv/bin/python -r requirements.lock \
    --override requirements-overrides.txt

COPY . .
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --no-input -v 0 \
    && mkdir -p /app/media /srv/static && chown -R coaching /app/media /srv/static

USER coaching
EXPOSE 8000
CMD ["gunicorn", "coaching.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
