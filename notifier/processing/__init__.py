"""Processing: workers claim stored events, inspect their objects and write audit rows."""

from notifier.processing.worker import (
    Processor,
    backoff_seconds,
    run_until_idle,
    run_worker_loop,
    start_workers,
)

__all__ = [
    "Processor",
    "backoff_seconds",
    "run_until_idle",
    "run_worker_loop",
    "start_workers",
]
