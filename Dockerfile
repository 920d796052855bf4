# The triage service as a container: the embedded default (SQLite under /data) with the bundled pack trained
# at build (which also derives the int8 encoder model into TRIAGE_CACHE_DIR, readable by the service user).
# Set TRIAGE_DATABASE_URL for PostgreSQL; run more containers with `worker` as the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TRIAGE_HOME=/data \
    TRIAGE_CACHE_DIR=/app/.cache \
    TRIAGE_PACK=/app/packs/saas_support \
    TRIAGE_API_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY agent ./agent
COPY integrations ./integrations
COPY guardrails ./guardrails
COPY eval ./eval
COPY service ./service
COPY packs ./packs

RUN pip install --no-cache-dir . \
    && triage train --pack /app/packs/saas_support \
    && useradd --create-home --uid 10001 triage \
    && mkdir -p /data \
    && chown triage:triage /data

USER 10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"]
ENTRYPOINT ["triage"]
CMD ["serve"]
