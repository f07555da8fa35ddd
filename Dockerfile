# One image for every polybot process; docker-compose.yml picks the process with `command:`.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
RUN mkdir -p shared services polybot \
    && touch shared/__init__.py services/__init__.py polybot/__init__.py \
    && pip install . \
    && pip uninstall -y polybot \
    && rm -rf shared services polybot build

COPY shared ./shared
COPY services ./services
COPY polybot ./polybot
RUN pip install --no-deps . && rm -rf build *.egg-info

# Non-root; the ledger's state directory is a volume owned by that user.
RUN useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin polybot \
    && mkdir -p /data/state && chown polybot:polybot /data/state
USER polybot
ENV STATE_DIR=/data/state
VOLUME ["/data/state"]

CMD ["polybot", "--help"]
