"""The folder prometheus-client's multiprocess mode shares between a pod's processes.

Standard library only, so gunicorn's arbiter can call it before gevent patches anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus-client's own variable: a folder shared by the processes of one pod."""


def reset_multiprocess_dir() -> Path | None:
    """Create the folder named by PROMETHEUS_MULTIPROC_DIR and remove the files a previous
    run left there (a restarted container keeps its emptyDir); None when unset.

    Call it once, in the process that starts the others, before any of them counts.
    """
    folder = os.environ.get(MULTIPROC_ENV)
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    return path
