# Check-in: one image for web (gunicorn, the default), worker and the one-shot migration.
# Build: docker build -t checkin .   Run: see docker-compose.yml.

# -- build: install the package and its dependencies into a virtualenv -------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (their layer is reused while only the code changes), then the package.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt
COPY config ./config
COPY service ./service
COPY workers ./workers
RUN pip install --no-cache-dir --no-deps . \
    && checkin --version

# -- runtime: the virtualenv only, run as an unprivileged user ----------------------------
FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 checkin \
    && useradd --system --uid 10001 --gid checkin --home-dir /var/lib/checkin \
       --create-home --shell /usr/sbin/nologin checkin
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHECKIN_INSTANCE_PATH=/var/lib/checkin
WORKDIR /var/lib/checkin
USER 10001:10001
EXPOSE 8000
# The web's health: 503 when the database (schema migrated) or Redis does not answer.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=6 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
# gunicorn is the entry point; the worker and the migration run `checkin` instead
# (docker-compose.yml sets their entrypoint).
ENTRYPOINT ["gunicorn"]
CMD ["service.wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "8", "--timeout", "30", "--graceful-timeout", "20", "--access-logfile", "-"]
