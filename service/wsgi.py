"""The WSGI entry point for gunicorn: `gunicorn 'service.wsgi:app'`.

This module is the composition root: importing it is what builds the app, once per process.
"""

from service.app import create_app

app = create_app()
