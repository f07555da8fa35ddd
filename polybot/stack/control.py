"""Talking to supervisord: its XML-RPC interface over the stack's unix socket
(what ``supervisorctl`` uses), plus starting the daemon itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable

from polybot.stack import StackError
from polybot.stack.layout import Layout


def _require_supervisor() -> None:
    try:
        import supervisor  # noqa: F401  (pyflakes: presence check)
    except ImportError:
        raise StackError("the 'supervisor' package is not installed: pip install supervisor") from None


class Supervisor:
    """A client of one stack's supervisord (``polybot up`` started it)."""

    def __init__(self, layout: Layout):
        _require_supervisor()
        from supervisor.xmlrpc import SupervisorTransport

        self.layout = layout
        transport = SupervisorTransport(None, None, f"unix://{layout.socket}")
        self.rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    # -- the daemon ----------------------------------------------------------------
    def running(self) -> bool:
        if not self.layout.socket.exists():
            return False
        try:
            return self.rpc.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Error):
            return False

    def pid(self) -> int | None:
        try:
            return int(self.rpc.getPID())
        except (OSError, xmlrpc.client.Error):
            return None

    def start_daemon(self, env: dict[str, str], timeout_s: float = 15.0) -> None:
        """``supervisord -c <conf>``: it daemonizes; wait until its socket answers."""
        proc = subprocess.run([sys.executable, "-m", "supervisor.supervisord", "-c", str(self.layout.conf)],
                              env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            why = (proc.stderr or proc.stdout).strip().splitlines()
            raise StackError(f"supervisord did not start: {why[-1] if why else f'exit {proc.returncode}'}")
        wait_until(self.running, timeout_s, f"supervisord did not answer on {self.layout.socket} "
                                            f"within {timeout_s:.0f} s; see {self.layout.supervisord_log}")

    def shutdown(self, timeout_s: float = 30.0) -> None:
        pid = self.pid()
        try:
            self.rpc.shutdown()
        except (OSError, xmlrpc.client.Error):
            pass
        if pid is not None:
            wait_until(lambda: not pid_alive(pid), timeout_s, f"supervisord (pid {pid}) did not exit")

    # -- processes -----------------------------------------------------------------
    def processes(self) -> dict[str, dict]:
        """name -> supervisor's process info (statename, pid, start, exitstatus, ...)."""
        return {info["name"]: info for info in self.rpc.getAllProcessInfo()}

    def info(self, name: str) -> dict:
        try:
            return self.rpc.getProcessInfo(name)
        except xmlrpc.client.Fault as fault:
            if "BAD_NAME" in fault.faultString:
                raise StackError(f"no process named {name!r} in this stack") from None
            raise

    def start(self, name: str, wait: bool = False) -> None:
        try:
            self.rpc.startProcess(name, wait)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise StackError(f"supervisor could not start {name}: {fault.faultString}; "
                                 f"see {self.layout.log(name)}") from None

    def stop(self, name: str, wait: bool = True) -> None:
        try:
            self.rpc.stopProcess(name, wait)
        except xmlrpc.client.Fault as fault:
            if "NOT_RUNNING" not in fault.faultString:
                raise StackError(f"supervisor could not stop {name}: {fault.faultString}") from None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_until(condition: Callable[[], bool], timeout_s: float, message: str, every_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise StackError(message)
        time.sleep(every_s)
