# bookapp's image: the web (the default command) and, with `flask worker` as the command, a worker.
# Build: docker build -t bookapp .   Run everything: docker compose up (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLASK_APP=wsgi \
    BOOKAPP_ENV=production \
    UPLOAD_FOLDER=/data/uploads

WORKDIR /app
RUN useradd --create-home --uid 10001 bookapp \
    && mkdir -p /app/instance /data/uploads \
    && chown bookapp:bookapp /app/instance /data/uploads

# Dependencies in their own layer: it is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY wsgi.py .flaskenv gunicorn.conf.py ./
COPY bookapp ./bookapp
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static

USER bookapp
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "--threads", "4", "wsgi:app"]
