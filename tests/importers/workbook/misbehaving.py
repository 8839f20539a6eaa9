"""Functions that misbehave, run by the isolated reader's tests. A light module: each
child imports it to find the function it runs."""

from __future__ import annotations

import os
import time

from importers.workbook.reader import WorkbookError


def add(a: int, b: int) -> int:
    return a + b


def refuse(message: str) -> None:
    raise WorkbookError(message)


def abort() -> None:
    os.abort()


def allocate(size: int) -> int:
    return len(bytearray(size))


def spin() -> None:
    while True:
        pass


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def answer(size: int) -> bytes:
    return b"x" * size
