# syntax=docker/dockerfile:1
# Production image: the lock file's dependencies, no build tools, a non-root user.
# Intended database: PostgreSQL (DECISION_LOG_DATABASE_URL=postgresql://user@host:5432/db).

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY alembic ./alembic
COPY alembic.ini ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app decisionlog
WORKDIR /app
COPY --from=build --chown=decisionlog:decisionlog /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER decisionlog
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["decision-log", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
