"""The module-level app for gunicorn: ``gunicorn 'notifier.wsgi:app'``.

Workers are not started here: run ``notifier worker`` beside it.
"""

from notifier.app import build_receiver

app = build_receiver()
