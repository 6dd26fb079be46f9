# One numbers-bot replica: `numbers-bot serve` (HTTP on port 3000, or Socket Mode when
# SLACK_APP_TOKEN is set). See README.md, "Running in production", and compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md manifest.yml ./
COPY bot ./bot
COPY storage ./storage
# asyncpg: the driver of NUMBERS_BOT_DATABASE_URL=postgresql+asyncpg://...
RUN pip install . asyncpg \
    && groupadd --system --gid 10001 numbers \
    && useradd --system --uid 10001 --gid numbers --no-create-home --shell /usr/sbin/nologin numbers

# Never root: the process needs no privilege, only its port and the database.
USER 10001:10001

ENV NUMBERS_BOT_HOST=0.0.0.0 \
    NUMBERS_BOT_PORT=3000 \
    NUMBERS_BOT_LOG_FORMAT=json
EXPOSE 3000

# Ready once migrated and serving; 503 while draining after SIGTERM.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:3000/ready', timeout=2)"]

# SIGTERM drains (NUMBERS_BOT_DRAIN_SECONDS, 8 s by default) and exits within 10 s.
STOPSIGNAL SIGTERM
CMD ["numbers-bot", "serve"]
