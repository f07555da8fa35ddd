"""Simulated time shared through a small memory-mapped file.

In sim mode every service asks the simulator for the time dozens of times per interval
(deadlines, staleness checks, message headers).  Over HTTP each read costs a round trip
and ~0.2 ms of the simulator's CPU; at replay speed that was a fifth of the pipeline's
CPU.  The simulator therefore also publishes its clock -- the same anchor and speed it
computes ``now`` from -- in a 32-byte file (``--clock-file``), and services on the same
host (or sharing a volume) read it with no system call (``SIM_CLOCK_FILE``).  Moving the
clock still goes through ``POST /sim/clock``: the simulator writes the file before it
answers, so whoever learns of the move (the clock's tick, through Redis) reads the new
time.

Layout (little-endian): ``seq`` u64, ``anchor_sim_ms`` i64, ``anchor_mono_ns`` u64 (the
system-wide CLOCK_MONOTONIC), ``speed`` f64.  ``speed`` 0 means time stands still
(``--speed max``); a negative speed means the simulator has stopped (readers fall back
to HTTP, which then fails like any call to a stopped simulator).  ``seq`` is a seqlock:
odd while a write is in progress.
"""

from __future__ import annotations

import mmap
import os
import struct
import time

LAYOUT = struct.Struct("<QqQd")
STOPPED = -1.0


class ClockFileWriter:
    """The simulator's side: one writer, any number of readers."""

    def __init__(self, path: str):
        # Rewrite the same inode when the file exists: readers of a restarted simulator
        # keep their mapping and see its time.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.ftruncate(fd, LAYOUT.size)
            self._map = mmap.mmap(fd, LAYOUT.size, access=mmap.ACCESS_WRITE)
        finally:
            os.close(fd)
        self._seq = LAYOUT.unpack_from(self._map)[0] & ~1

    def publish(self, anchor_sim_ms: int, anchor_mono_ns: int, speed: float) -> None:
        self._seq += 1  # odd: readers retry
        struct.pack_into("<Q", self._map, 0, self._seq)
        LAYOUT.pack_into(self._map, 0, self._seq, anchor_sim_ms, anchor_mono_ns, speed)
        self._seq += 1
        struct.pack_into("<Q", self._map, 0, self._seq)

    def close(self) -> None:
        self.publish(0, 0, STOPPED)
        self._map.close()


class ClockFileReader:
    """A service's side.  ``now_ms()`` is None when the file is missing or the
    simulator has stopped: the caller then asks over HTTP."""

    def __init__(self, path: str, monotonic_ns=time.monotonic_ns):
        self.path = path
        self._monotonic_ns = monotonic_ns
        self._map: mmap.mmap | None = None

    def now_ms(self) -> int | None:
        snapshot = self._read()
        if snapshot is None:
            return None
        anchor_sim_ms, anchor_mono_ns, speed = snapshot
        if speed < 0:
            return None
        if speed == 0:
            return anchor_sim_ms
        elapsed_ms = (self._monotonic_ns() - anchor_mono_ns) / 1e6
        return anchor_sim_ms + int(elapsed_ms * speed)

    def _read(self) -> tuple[int, int, float] | None:
        if self._map is None and not self._open():
            return None
        while True:
            seq, anchor_sim_ms, anchor_mono_ns, speed = LAYOUT.unpack_from(self._map)
            if seq & 1 == 0 and struct.unpack_from("<Q", self._map)[0] == seq:
                return anchor_sim_ms, anchor_mono_ns, speed

    def _open(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            if os.fstat(fd).st_size < LAYOUT.size:
                return False
            self._map = mmap.mmap(fd, LAYOUT.size, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
        return True
