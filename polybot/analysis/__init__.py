"""Offline analysis of the bot: ``polybot report`` (one run's ledger files) and
``polybot risk-analysis`` (a Monte Carlo of the whole strategy on real candles).

Nothing here talks to Redis or HTTP: the risk analysis drives the same pure cores the
services run (predictor, risk rules, the simulator's book model and matching, the
ledger's settlement fold) in process.
"""
