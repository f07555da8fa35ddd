"""The generated supervisord.conf, read back by supervisor's own parser."""

from __future__ import annotations

import os

import pytest

from polybot.stack import StackError
from polybot.stack.layout import UNIX_PATH_MAX, Layout
from polybot.stack.supervisor_conf import Program, render

pytest.importorskip("supervisor", reason="supervisor runs the stack (pip install supervisor)")


def parse(tmp_path, text: str):
    from supervisor.options import ServerOptions

    path = tmp_path / "supervisord.conf"
    path.write_text(text)
    options = ServerOptions()
    options.configfile = str(path)
    options.process_config(do_usage=False)
    return options, {pc.name: pc for group in options.process_group_configs for pc in group.process_configs}


def test_every_program_is_supervised_with_the_stack_policy(tmp_path):
    layout = Layout.of(tmp_path / "state")
    layout.run_dir.mkdir(parents=True)
    layout.log_dir.mkdir()
    programs = [Program("redis", ("/bin/redis-server", "--save", ""), autostart=True),
                Program("ledger", ("/venv/bin/python", "-m", "services.ledger"), stop_wait_s=7),
                Program("clock", ("/venv/bin/python", "-m", "services.clock"))]
    env = {"REDIS_URL": "redis://127.0.0.1:1234/0", "ODD": "50%,a=b c"}
    options, procs = parse(tmp_path, render(layout, programs, env, str(tmp_path)))

    assert options.configroot.supervisord.environment["ODD"] == "50%,a=b c"  # quoting and % survive supervisor's expansion
    assert options.configroot.supervisord.pidfile == str(layout.pidfile)
    assert procs["redis"].command == "/bin/redis-server --save ''" and procs["redis"].autostart
    assert not procs["ledger"].autostart and not procs["clock"].autostart  # polybot up starts them in order
    assert procs["ledger"].stopwaitsecs == 7 and procs["ledger"].stopsignal == 15
    assert procs["clock"].priority > procs["ledger"].priority > procs["redis"].priority  # stop order: reverse
    for proc in procs.values():
        assert proc.autorestart and proc.killasgroup and proc.redirect_stderr
        assert proc.stdout_logfile == str(layout.log(proc.name))


def test_conf_holds_no_inherited_secret(tmp_path, monkeypatch):
    from polybot.run import RunOptions, service_env

    monkeypatch.setenv("PRIVATE_KEY", "0x" + "ab" * 32)
    env = service_env(RunOptions(), "redis://127.0.0.1:1/0", {k: "http://x" for k in
                      ("clob", "gamma", "binance_rest", "binance_ws", "coingecko", "control")})
    stack_env = {k: v for k, v in env.items() if os.environ.get(k) != v}  # what polybot up writes
    assert "PRIVATE_KEY" not in stack_env and "REDIS_URL" in stack_env


def test_unusable_values_are_refused_in_one_line(tmp_path):
    layout = Layout.of(tmp_path / "50%")
    with pytest.raises(StackError, match="'%'"):
        render(layout, [], {}, str(tmp_path))
    with pytest.raises(StackError, match="quote"):
        render(Layout.of(tmp_path), [], {"X": 'a"b'}, str(tmp_path))


def test_socket_moves_to_tmp_when_the_path_is_too_long(tmp_path):
    deep = Layout.of(tmp_path / ("d" * 120))
    assert len(str(deep.socket)) <= UNIX_PATH_MAX and deep.socket != deep.run_dir / "supervisor.sock"
    assert Layout.of(tmp_path / "short").socket == Layout.of(tmp_path / "short").run_dir / "supervisor.sock"
