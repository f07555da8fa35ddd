"""``polybot bench``: how fast the pipeline is, measured on loopback against the simulator.

Each phase lives in its own module and returns a plain dict (the JSON of ``--json``):

* ``hop``      -- the floor: one XADD -> XREADGROUP hop between two processes;
* ``pipeline`` -- the whole stack under the simulator's lockstep clock: tick-to-order
  latency (with a per-hop breakdown), replay throughput, peak RSS per process;
* ``startup``  -- ``polybot up`` until every service is healthy;
* ``analysis`` -- the in-process Monte Carlo (``polybot risk-analysis``) runs per second.

docs/performance.md has the figures, the machine and how they were reached.
"""
