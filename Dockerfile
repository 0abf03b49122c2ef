# syntax=docker/dockerfile:1
# Quiz bot image: a builder stage turns the source into wheels; the final stage installs
# them, so the image carries no source tree. Build: docker build -t quizbot .

# ---------------------------------------------------------------- builder
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so this layer survives code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > requirements.txt \
    && pip wheel --wheel-dir /wheels/deps -r requirements.txt \
    && cp requirements.txt /wheels/deps/requirements.txt

# Then the project wheel. Everything hatchling reads: the package, the version in
# bot/__init__.py, README.md (project metadata) and the folders bundled as bot/_bundled.
COPY README.md ./
COPY bot ./bot
COPY questions ./questions
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels/app .

# ---------------------------------------------------------------- runtime
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    QUIZBOT_DATABASE_URL=sqlite+aiosqlite:////data/quizbot.db

# System time zones (daily questions are scheduled in the organisers' time zone).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*

# An unprivileged user owning the data volume.
RUN groupadd --system --gid 10001 quizbot \
    && useradd --system --uid 10001 --gid quizbot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin quizbot \
    && mkdir -p /data \
    && chown quizbot:quizbot /data

# Dependencies in their own layer (the wheels are mounted, never copied into the image).
RUN --mount=type=bind,from=builder,source=/wheels/deps,target=/tmp/wheels/deps \
    pip install --no-index --find-links /tmp/wheels/deps -r /tmp/wheels/deps/requirements.txt

# The bot itself; --no-index makes a dependency missing from the layer above fail the build.
RUN --mount=type=bind,from=builder,source=/wheels,target=/tmp/wheels \
    pip install --no-index --find-links /tmp/wheels/deps /tmp/wheels/app/*.whl

COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/quizbot-entrypoint

USER quizbot:quizbot
WORKDIR /data
VOLUME ["/data"]

# Slack HTTP mode listens here (QUIZBOT_HTTP_PORT); Discord and Slack Socket Mode need no port.
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["quizbot", "health"]

ENTRYPOINT ["/usr/local/bin/quizbot-entrypoint"]
CMD ["run"]
