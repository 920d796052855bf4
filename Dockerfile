# The triage agent as a container: the embedded default (SQLite) with the bundled pack trained at build.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TRIAGE_HOME=/data \
    TRIAGE_PACK=/app/packs/saas_support

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
ENTRYPOINT ["triage"]
CMD ["--help"]
