"""The offline exchange simulator: Binance, CoinGecko, Gamma and the Polymarket CLOB.

In-process use (tests): ``SimServer(SimConfig(...)).start()`` → base URLs; ``.stop()``.
Command line: ``python -m services.sim`` (see services/sim/main.py, docs/simulator.md).
"""

from services.sim.config import SimConfig
from services.sim.server import SimServer

__all__ = ["SimConfig", "SimServer"]
