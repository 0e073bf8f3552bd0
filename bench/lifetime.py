"""How the bench's helper processes live: until their stdin closes or SIGTERM arrives."""

from __future__ import annotations

import asyncio
import signal
import sys


async def until_told_to_stop() -> None:
    """Return when stdin closes (the bench process ended or closed it) or on SIGTERM."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def stdin_closed() -> None:
        while await reader.read(4096):
            pass
        stop.set()

    watcher = asyncio.create_task(stdin_closed())
    try:
        await stop.wait()
    finally:
        watcher.cancel()
