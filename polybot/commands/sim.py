"""polybot sim: the local exchange simulator (Polymarket + Binance + CoinGecko)."""

NAME = "sim"
HELP = "run the exchange simulator (see docs/simulator.md); same options as python -m services.sim"
PASSTHROUGH = True


def run(args) -> int:
    from services.sim.main import main

    return main(args.args)
