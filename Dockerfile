FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY bot ./bot
COPY handlers ./handlers
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin herald \
    && mkdir -p /data \
    && chown herald:herald /data

USER herald
WORKDIR /data
ENV HERALD_DATABASE=/data/herald.db \
    HERALD_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
# /healthz, /metrics, and the webhook and WebSub callbacks behind a reverse proxy.
EXPOSE 8080

# `herald health` asks the running bot's /healthz (heartbeat fresh, database answering).
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["herald", "health"]

CMD ["herald", "run"]
