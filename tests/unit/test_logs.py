import json
import logging

from notifier.logs import JsonFormatter, KeyValueFormatter


def record(message: str, **fields: object) -> logging.LogRecord:
    entry = logging.LogRecord("notifier.test", logging.INFO, __file__, 1, message, (), None)
    for name, value in fields.items():
        setattr(entry, name, value)
    return entry


def test_json_lines_carry_the_structured_fields():
    line = JsonFormatter().format(
        record("audited", action="audit", event_id=7, bucket="raw", key='a "b"\nc.csv')
    )
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "audited"
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "notifier.test"
    assert (parsed["action"], parsed["event_id"], parsed["bucket"]) == ("audit", 7, "raw")
    assert parsed["key"] == 'a "b"\nc.csv'
    assert parsed["time"].endswith("+00:00")


def test_json_lines_keep_the_exception_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        entry = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(entry)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_text_lines_append_fields_as_pairs():
    line = KeyValueFormatter("%(message)s").format(record("stored", bucket="raw", event_id=3))
    assert line == "stored event_id=3 bucket='raw'"
