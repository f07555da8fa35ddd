"""polybot predict: replay a CSV through the predictor core, one JSON line per window."""

NAME = "predict"
HELP = "print the predictor's decision for every 5-minute window of a Binance-format CSV"
PASSTHROUGH = True


def run(args) -> int:
    from services.predictor.replay import main

    return main(args.args)
