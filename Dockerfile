# syntax=docker/dockerfile:1
# Build: wheels for the project and its dependencies, compiled where needed.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir --upgrade pip
COPY pyproject.toml README.md ./
COPY app ./app
COPY connectors ./connectors
COPY rollup ./rollup
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run: only the wheels, the migrations and the templates, as an unprivileged user.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    THROUGHLINE_SERVER__HOST=0.0.0.0 \
    THROUGHLINE_SERVER__PORT=8000 \
    THROUGHLINE_CONFIG=/etc/throughline/throughline.yaml \
    THROUGHLINE_DATABASE_URL=sqlite:////var/lib/throughline/throughline.db
RUN useradd --system --uid 10001 --home-dir /srv/throughline throughline \
    && mkdir -p /srv/throughline /var/lib/throughline /etc/throughline \
    && chown throughline /var/lib/throughline
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
WORKDIR /srv/throughline
COPY alembic.ini ./
COPY alembic ./alembic
COPY templates ./templates
USER throughline
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["throughline", "serve"]
