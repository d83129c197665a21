# syntax=docker/dockerfile:1
# briefbot: one process answering in Slack and/or Discord, whichever tokens are set.
#   docker build -t briefbot .
#   docker run --env-file .env -p 3000:3000 --stop-timeout 20 briefbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in their own layer: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The code, then the shipped seeds (a volume: mount your own articles over it).
COPY README.md ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-cache-dir --no-deps .
COPY seeds ./seeds

# A non-root user with a numeric id, so orchestrators can verify it is not root.
RUN groupadd --system --gid 10001 briefbot \
    && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /app \
       --shell /usr/sbin/nologin briefbot \
    && mkdir -p /app/data \
    && chown 10001:10001 /app/data && chmod 700 /app/data

# Set explicitly: outside a container the data directory defaults to the user's and the
# address to loopback; in here the volume holds the data and the port is published.
ENV BRIEFBOT_SEEDS_DIR=/app/seeds \
    BRIEFBOT_DATA_DIR=/app/data \
    BRIEFBOT_HOST=0.0.0.0 \
    BRIEFBOT_PORT=3000
VOLUME ["/app/seeds", "/app/data"]
USER 10001:10001
EXPOSE 3000

# /healthz answers 503 while the index loads, while a platform is not connected and while
# shutting down; slim has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('BRIEFBOT_PORT', '3000') + '/healthz', timeout=4)"]

# SIGTERM (docker stop) drains commands in flight for up to 10 s: give it --stop-timeout 20.
ENTRYPOINT ["briefbot"]
CMD ["serve", "--auto"]
