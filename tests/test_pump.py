"""The outbox pump: woken by a tick, it drains beside the ticks; stopping lets the batch in
hand end and hands the rest back."""

from __future__ import annotations

import asyncio

from adapters.scheduler import Pump


class Batches:
    """A flush that sends `sizes` batch by batch; the second lasts until the pump stops."""

    def __init__(self, *sizes: int) -> None:
        self.sizes = list(sizes)
        self.calls = 0
        self.started = asyncio.Event()
        self.stop_seen: list[bool] = []

    async def __call__(self, stop: asyncio.Event | None) -> int:
        self.calls += 1
        self.stop_seen.append(bool(stop and stop.is_set()))
        if self.calls == 2:
            self.started.set()
            assert stop is not None
            await stop.wait()
        return self.sizes.pop(0) if self.sizes else 0


async def test_a_woken_pump_drains_without_holding_up_its_waker() -> None:
    flush = Batches(50, 50, 7)
    pump = Pump(flush, every=3600).start()
    await pump.wake()  # returns at once: the tick goes on
    await asyncio.wait_for(flush.started.wait(), 5)  # the second batch is under way
    assert flush.calls == 2
    await asyncio.wait_for(pump.stop(), 5)
    # the batch in hand ended; no further batch was started after the stop
    assert flush.calls == 2
    assert flush.stop_seen == [False, False]


async def test_a_pump_sweeps_on_its_own_and_survives_a_failed_sweep() -> None:
    calls: list[int] = []
    done = asyncio.Event()

    async def flush(stop: asyncio.Event | None) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        done.set()
        return 0

    pump = Pump(flush, every=0.01).start()
    await asyncio.wait_for(done.wait(), 5)
    await pump.stop()
    assert len(calls) >= 2
