"""gunicorn settings without the keep-alive connection imbalance (issue 12).

    gunicorn -c python:notifier.web.gunicorn_balance notifier.wsgi:app

Under ``gthread`` with several worker processes, a keep-alive connection stays with the
process that accepted it, and the first process to wake accepts most of them: 16 senders
connecting at once often end 15 on one process and 1 on the other, so rates swing
twofold from run to run. One process with enough threads for every sender cannot be
unbalanced, and its grouped commits (notifier.intake.group_commit) gather the events of
all concurrent requests; scale out with receiver replicas (one per core) instead.
"""

# --- connection balance (issue 12); merge into the receiver's gunicorn config ---------
worker_class = "gthread"
workers = 1
threads = 16
"""One thread per concurrent sender (MinIO sends from a few connections per target)."""
