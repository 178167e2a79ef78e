"""The worker's liveness file and its probe (notifier.heartbeat)."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time

import pytest

from notifier.heartbeat import (
    Heartbeat,
    child_path,
    main,
    read_deadline,
    relay,
    seconds_left,
    write_deadline,
)


def test_the_deadline_follows_the_slowest_thread(tmp_path, monkeypatch):
    path = tmp_path / "beat"
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    heartbeat = Heartbeat(path, max_gap_seconds=60)
    heartbeat.beat()  # the main thread, at 1000
    assert seconds_left(path, now=1000.0) == pytest.approx(60)

    # One other long-lived thread (as the worker's are), beating when told to.
    moments: queue.Queue[float | None] = queue.Queue()
    done: queue.Queue[None] = queue.Queue()

    def other_thread() -> None:
        while (moment := moments.get()) is not None:
            clock[0] = moment
            heartbeat.beat()
            done.put(None)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        for moment in (1010.0, 1020.0, 1030.0):
            moments.put(moment)
            done.get(timeout=10)
    finally:
        moments.put(None)
        thread.join()
    # The other thread beats on, but the main thread has not beaten since 1000.
    assert seconds_left(path, now=1030.0) == pytest.approx(30)
    clock[0] = 1040.0
    heartbeat.beat()  # the main thread again: the slowest is now the other one (1030)
    assert seconds_left(path, now=1040.0) == pytest.approx(50)


def test_beats_are_written_at_most_once_a_second(tmp_path, monkeypatch):
    path = tmp_path / "beat"
    clock = [50.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    heartbeat = Heartbeat(path, max_gap_seconds=10)
    heartbeat.beat()
    clock[0] = 50.5
    heartbeat.beat()
    assert seconds_left(path, now=50.0) == pytest.approx(10)
    clock[0] = 51.2
    heartbeat.beat()
    assert seconds_left(path, now=50.0) == pytest.approx(11.2)


def test_the_probe_exits_0_before_the_deadline_and_1_after(tmp_path, capsys):
    path = tmp_path / "beat"
    assert main([str(path)]) == 1
    assert "no heartbeat" in capsys.readouterr().err
    write_deadline(path, time.time() + 30)
    assert main([str(path)]) == 0
    write_deadline(path, time.time() - 5)
    assert main([str(path)]) == 1
    assert "missed its heartbeat" in capsys.readouterr().err
    path.write_text("garbage")
    assert main([str(path)]) == 1


def test_the_probe_runs_as_a_script_on_the_standard_library_alone(tmp_path):
    path = tmp_path / "beat"
    write_deadline(path, time.time() + 30)
    code = (
        "import runpy, sys; sys.argv = ['probe', sys.argv[1]];"
        "runpy.run_module('notifier.heartbeat', run_name='__main__')"
    )
    check = (
        "import sys, runpy\n"
        "try:\n"
        f"    exec({code!r})\n"
        "except SystemExit as exit:\n"
        "    heavy = {'flask', 'psycopg', 'pyarrow', 'minio'} & set(sys.modules)\n"
        "    assert not heavy, heavy\n"
        "    raise\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check, str(path)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def test_the_relay_writes_the_earliest_child_deadline(tmp_path):
    probed = tmp_path / "worker.heartbeat"
    children = [child_path(probed, n) for n in range(3)]
    assert [c.name for c in children] == [f"worker.heartbeat.{n}" for n in range(3)]
    write_deadline(children[0], 2000.0)
    write_deadline(children[1], 1500.0)
    # The third has not written yet: it counts as the fallback (just started).
    assert relay(probed, children, fallback=1800.0) == 1500.0
    assert read_deadline(probed) == 1500.0
    write_deadline(children[1], 2500.0)
    assert relay(probed, children, fallback=1800.0) == 1800.0
    children[2].write_text("garbage")
    assert relay(probed, children, fallback=1700.0) == 1700.0
    write_deadline(children[2], 1000.0)  # a child that stopped beating long ago
    assert relay(probed, children, fallback=1700.0) == 1000.0
    assert main([str(probed)]) == 1


def test_the_supervisors_relay_survives_an_unwritable_file(tmp_path, caplog):
    """A relay that cannot write (the folder is gone) logs once and keeps the supervisor
    running; the probe then fails as the last deadline passes."""
    from notifier.cli.worker import heartbeat_relay
    from notifier.config import Settings
    from tests.unit.test_config import BASE

    folder = tmp_path / "beats"
    folder.mkdir()
    probed = folder / "worker.heartbeat"
    settings = Settings.from_env({**BASE, "NOTIFIER_WORKER_HEARTBEAT_FILE": str(probed)})
    relay_now = heartbeat_relay(settings, processes=2)
    assert read_deadline(probed) is not None
    for child in (child_path(probed, 0), child_path(probed, 1)):
        write_deadline(child, 1000.0)
    relay_now()
    assert read_deadline(probed) == 1000.0
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    relay_now()
    relay_now()
    warnings = [r for r in caplog.records if "cannot relay the heartbeat" in r.getMessage()]
    assert len(warnings) == 1
