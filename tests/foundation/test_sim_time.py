"""The simulator's shared clock file: what the simulator's clock says, readers see."""

from __future__ import annotations

import threading

from services.sim.clock import SimClock as VenueClock
from shared.clock import SimClock
from shared.sim_time import ClockFileReader, ClockFileWriter


def test_readers_see_every_move_of_a_standing_clock(tmp_path):
    path = str(tmp_path / "clock")
    venue = VenueClock(1_000_000, None, publish=ClockFileWriter(path).publish)
    reader = ClockFileReader(path)
    assert reader.now_ms() == 1_000_000
    venue.advance_to(1_300_000)
    assert reader.now_ms() == venue.now_ms() == 1_300_000


def test_a_flowing_clock_is_computed_like_the_simulators(tmp_path):
    wall = [100.0]
    path = str(tmp_path / "clock")
    venue = VenueClock(5_000, 60.0, monotonic=lambda: wall[0], publish=ClockFileWriter(path).publish)
    reader = ClockFileReader(path, monotonic_ns=lambda: int(wall[0] * 1e9))
    wall[0] += 2.5  # 2.5 s of wall time at 60x = 150 s of sim time
    assert reader.now_ms() == venue.now_ms() == 155_000


def test_no_file_or_a_stopped_simulator_means_ask_over_http(tmp_path):
    path = str(tmp_path / "clock")
    reader = ClockFileReader(path)
    assert reader.now_ms() is None  # not created yet
    writer = ClockFileWriter(path)
    writer.publish(42, 0, 0.0)
    assert reader.now_ms() == 42
    writer.close()
    assert reader.now_ms() is None


def test_a_restarted_simulator_rewrites_the_file_readers_already_mapped(tmp_path):
    path = str(tmp_path / "clock")
    ClockFileWriter(path).publish(1, 0, 0.0)
    reader = ClockFileReader(path)
    assert reader.now_ms() == 1
    ClockFileWriter(path).publish(2, 0, 0.0)  # the new simulator
    assert reader.now_ms() == 2


def test_service_clock_reads_the_file_and_never_calls_http(tmp_path):
    path = str(tmp_path / "clock")
    ClockFileWriter(path).publish(1_722_470_400_000, 0, 0.0)
    clock = SimClock("http://127.0.0.1:9/sim", clock_file=path)  # nothing listens on port 9
    assert clock.now_ms() == 1_722_470_400_000 and clock.now() == 1_722_470_400.0


def test_concurrent_readers_never_see_a_torn_write(tmp_path):
    path = str(tmp_path / "clock")
    writer = ClockFileWriter(path)
    writer.publish(0, 0, 0.0)
    reader, seen, done = ClockFileReader(path), [], threading.Event()

    def read():
        while not done.is_set():
            seen.append(reader._read())

    thread = threading.Thread(target=read)
    thread.start()
    for k in range(1, 20_000):
        writer.publish(k, k, 0.0)  # a consistent snapshot always has anchor_sim == anchor_mono
    done.set()
    thread.join()
    assert seen and all(sim == mono for sim, mono, _speed in seen)
