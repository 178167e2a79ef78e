"""The access log's atoms: gunicorn's own, with credentials removed, built cheaply when
the format asks for no header or environment atom."""

from __future__ import annotations

import base64
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from notifier.web.access_log import ACCESS_LOG_FORMAT, RedactingLogger

SECRET = "s3cr3t-token"
ENVIRON = {
    "REMOTE_ADDR": "10.0.0.7",
    "REQUEST_METHOD": "POST",
    "RAW_URI": f"/events?token={SECRET}",
    "PATH_INFO": "/events",
    "QUERY_STRING": f"token={SECRET}",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "HTTP_REFERER": f"http://minio/?t={SECRET}",
    "HTTP_USER_AGENT": "MinIO (linux; amd64)",
    "HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode(),
    "wsgi.input": object(),
}
REQUEST = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {SECRET}"), ("X-ONE", "1")])
RESPONSE = SimpleNamespace(status="200 OK", sent=72, headers=[("Content-Type", "json")])
TOOK = timedelta(seconds=1, microseconds=2345)


def atoms_of(logger_class: type, log_format: str) -> dict:
    cfg = Config()
    cfg.set("access_log_format", log_format)
    return logger_class(cfg).atoms(RESPONSE, REQUEST, ENVIRON, TOOK)


def test_the_shipped_format_gets_gunicorns_plain_atoms_without_credentials():
    ours = atoms_of(RedactingLogger, ACCESS_LOG_FORMAT)
    theirs = atoms_of(Logger, ACCESS_LOG_FORMAT)
    plain = {k: v for k, v in theirs.items() if not k.startswith("{")}
    changed = {"r", "q", "u", "f", "t"}  # redacted; "t" is the clock
    assert {k: v for k, v in ours.items() if k not in changed} == {
        k: v for k, v in plain.items() if k not in changed
    }
    assert set(ours) == set(plain)
    assert (ours["r"], ours["q"], ours["u"], ours["f"]) == (
        "POST /events HTTP/1.1",
        "[redacted]",
        "-",
        "http://minio/",
    )
    assert SECRET not in repr(ours)


def test_a_format_with_header_atoms_gets_them_without_credentials():
    ours = atoms_of(RedactingLogger, '%(h)s "%({x-one}i)s" %({authorization}i)s %({raw_uri}e)s')
    assert ours["{x-one}i"] == "1"
    assert "{authorization}i" not in ours
    assert not any(name.endswith("}e") for name in ours)
    assert SECRET not in repr(ours)
