"""``python -m services.sim``: run the exchange simulator until SIGTERM/SIGINT.

Prints exactly one JSON line on stdout (the base URLs), logs to stderr, exits 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from services.sim.config import SYNTHETIC, SimConfig, parse_iso_ms, parse_speed
from services.sim.fault_spec import FaultSpecError, parse_spec
from services.sim.server import SimServer

log = logging.getLogger("polybot.sim")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polybot sim", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="HTTP port (0 = any free port)")
    parser.add_argument("--ws-port", type=int, default=0, help="Binance WebSocket port (0 = any)")
    parser.add_argument("--data", default=SYNTHETIC, help="'synthetic' or a Binance 1m CSV file")
    parser.add_argument("--start", type=parse_iso_ms, default=None,
                        help="sim start, ISO-8601 (UTC)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=parse_speed, default=1.0,
                        help="X (sim seconds per wall second) or 'max'")
    parser.add_argument("--faults", default="", help="fault spec, see docs/simulator.md")
    parser.add_argument("--resolution-delay", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--market-lead", type=int, default=86_400, metavar="SECONDS",
                        help="how long before its start a window's market exists")
    parser.add_argument("--book-levels", type=int, default=5)
    parser.add_argument("--verify-order-signatures", action="store_true",
                        help="ecrecover every order signature (~5 ms per order)")
    parser.add_argument("--clock-file", metavar="PATH",
                        help="also publish sim time in this file, for services' SIM_CLOCK_FILE")
    parser.add_argument("--log-level", default="INFO")
    return parser


def config_from_args(args: argparse.Namespace) -> SimConfig:
    parse_spec(args.faults)  # fail before binding any port
    return SimConfig(host=args.host, port=args.port, ws_port=args.ws_port, data=args.data,
                     start_ms=args.start, seed=args.seed, speed=args.speed, faults=args.faults,
                     resolution_delay_s=args.resolution_delay, market_lead_s=args.market_lead,
                     book_levels=args.book_levels,
                     verify_order_signatures=args.verify_order_signatures, clock_file=args.clock_file)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
        server = SimServer(config)
    except (FaultSpecError, OSError, ValueError) as bad:
        log.error("cannot start the simulator: %s", bad)
        return 2
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    urls = server.start()
    sys.stdout.write(json.dumps(urls) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    log.info("simulator stopped")
    return 0
