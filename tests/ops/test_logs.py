"""polybot logs: the last lines, and following a log across supervisor's rotation."""

from __future__ import annotations

import threading
import time

from polybot.cli import main
from polybot.stack.logfile import follow


def test_last_lines(tmp_path, capsys):
    logs = tmp_path / "state" / "logs"
    logs.mkdir(parents=True)
    (logs / "risk.log").write_text("".join(f"line {i}\n" for i in range(100)))
    assert main(["logs", "risk", "-n", "3", "--state-dir", str(tmp_path / "state")]) == 0
    assert capsys.readouterr().out == "line 97\nline 98\nline 99\n"


def test_follow_survives_rotation(tmp_path):
    path = tmp_path / "feed.log"
    path.write_text("old\n")
    got, stop = [], threading.Event()
    thread = threading.Thread(target=lambda: got.extend(follow(path, poll_s=0.02, stop=stop.is_set)))
    thread.start()
    time.sleep(0.1)
    with path.open("a") as f:
        f.write("new 1\npart")
    time.sleep(0.1)
    with path.open("a") as f:
        f.write("ial\n")
    time.sleep(0.1)
    path.rename(tmp_path / "feed.log.1")  # what supervisor does at stdout_logfile_maxbytes
    path.write_text("after rotation\n")
    deadline = time.monotonic() + 3
    while len(got) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(2)
    assert got == ["new 1", "partial", "after rotation"]
