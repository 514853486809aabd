"""WSGI entry point: `flask --app wsgi ...`, `gunicorn wsgi:app`."""

import gc

from app import create_app

app = create_app()

# What the app imported and built lives as long as the process: out of the
# collector's generations, a full collection no longer walks it all again
# (about 180 000 objects, over 100 ms on a slow machine) in the middle of
# a request.
gc.freeze()
