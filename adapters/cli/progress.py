"""A progress bar on stderr for the operator's long commands (`feed poll`): redrawn in
place on a terminal, one plain line per step otherwise (a log, a pipe, CI)."""

from __future__ import annotations

from typing import TextIO

WIDTH = 24


class Bar:
    def __init__(self, total: int, out: TextIO, *, terminal: bool | None = None) -> None:
        self.total = total
        self.done = 0
        self.out = out
        self.terminal = out.isatty() if terminal is None else terminal

    def step(self, what: str) -> None:
        self.done += 1
        if not self.terminal:
            self.out.write(f"[{self.done}/{self.total}] {what}\n")
            self.out.flush()
            return
        filled = WIDTH * self.done // max(self.total, 1)
        bar = "█" * filled + "░" * (WIDTH - filled)
        self.out.write(f"\r\x1b[2K{bar} {self.done}/{self.total} {what[:60]}")
        if self.done >= self.total:
            self.out.write("\n")
        self.out.flush()
