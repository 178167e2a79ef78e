# syntax=docker/dockerfile:1.7
# notifier's image: one image for the receiver (gunicorn), the workers, the migration
# Job and the reconcile CronJob; k8s/base picks the command for each.
#
#   docker build -t notifier:0.1.0 .
#
# Stage 1 builds wheels for notifier (its CSV scanner compiled with gcc) and all its
# dependencies; stage 2 installs them from those wheels only (no network, no build
# tools, no pip cache) and runs as an unprivileged numeric user, so Kubernetes'
# runAsNonRoot can verify it.

# Both stages use the same base, pinned to a patch release on Debian 12 (keep the two
# FROM lines equal; a test checks). Pin the digest too when you build for production:
# docker buildx imagetools inspect python:3.11.14-slim-bookworm

FROM python:3.11.14-slim-bookworm AS build
# NOTIFIER_REQUIRE_COMPILED: the wheel must carry the compiled CSV scanner; without it
# the build fails instead of falling back to pyarrow (hatch_build.py).
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NOTIFIER_REQUIRE_COMPILED=1
# A C compiler for that scanner, in this stage only. gcc 4:12.2.0-3 is Debian 12's
# default compiler for the whole release; libc6-dev is pinned to the version of the
# image's own libc6 (if apt cannot find it, Debian has a newer libc6: update the base).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc=4:12.2.0-3 \
      "libc6-dev=$(dpkg-query --show --showformat="\${Version}" libc6)" \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# What pyproject.toml's build needs: its readme, its build hook (hatch_build.py), the
# package and sql/ (packaged as notifier/migrations). .dockerignore lets nothing else in.
COPY pyproject.toml README.md hatch_build.py ./
COPY notifier ./notifier
COPY sql ./sql
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11.14-slim-bookworm
LABEL org.opencontainers.image.title="notifier" \
      org.opencontainers.image.description="Audits object-storage uploads into PostgreSQL, from MinIO bucket notifications" \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are bind-mounted from stage 1, so they never become a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/notifier-*.whl \
 && groupadd --system --gid 10001 notifier \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin notifier
# Numeric, so runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# checkov:skip=CKV_DOCKER_2: Kubernetes ignores Docker's HEALTHCHECK and probes /healthz and /readyz itself (k8s/base/receiver.yaml); the same image also runs the worker, which serves no port, so no single HEALTHCHECK fits
# gevent workers, keep-alive and a redacting access log: notifier/web/gunicorn_conf.py
CMD ["gunicorn", "--config=python:notifier.web.gunicorn_conf", "--bind=0.0.0.0:8080", "notifier.wsgi:app"]
