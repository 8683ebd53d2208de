"""The WSGI entry point: `flask --app wsgi …` and `gunicorn wsgi:app`."""

from bookapp import create_app

app = create_app()
