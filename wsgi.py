"""WSGI entry point: gunicorn wsgi:app"""

from govrisk import create_app

app = create_app()
