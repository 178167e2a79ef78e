"""Processing: workers claim stored events, inspect their objects and write audit rows."""

from notifier.processing.worker import (
    LeaseLost,
    Processor,
    backoff_seconds,
    run_until_idle,
    run_worker_loop,
    start_workers,
)

__all__ = [
    "LeaseLost",
    "Processor",
    "backoff_seconds",
    "run_until_idle",
    "run_worker_loop",
    "start_workers",
]
