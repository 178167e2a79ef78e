import io

from notifier.cli.progress import Progress, format_seconds


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_shows_bar_rate_and_eta_on_one_line():
    screen = Terminal()
    progress = Progress("inspected", total=10, stream=screen)
    progress.advance(5)
    progress.finish(errors=1)
    frames = screen.getvalue().split("\r\x1b[2K")
    last = frames[-1]
    assert last.startswith("[############............]  inspected: 5/10")
    assert "ETA " in last
    assert "/s" in last
    assert "errors 1" in last
    assert screen.getvalue().endswith("\n")


def test_log_output_gets_plain_lines_not_carriage_returns():
    log = io.StringIO()
    progress = Progress("listed", stream=log)
    for _ in range(1000):
        progress.advance()
    progress.finish(new=3)
    text = log.getvalue()
    assert "\r" not in text
    # Throttled to one line per interval plus the final one, not one per object.
    assert len(text.splitlines()) <= 2
    assert text.splitlines()[-1].startswith("listed: 1000")
    assert "new 3" in text


def test_format_seconds():
    assert format_seconds(42) == "42s"
    assert format_seconds(125) == "2m05s"
    assert format_seconds(7260) == "2h01m"
