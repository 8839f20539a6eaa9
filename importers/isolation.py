"""Run a parser on untrusted input in a separate process, with limits set by the OS.

A spreadsheet parser is native code (calamine is Rust, openpyxl's XML is expat): a
hostile file can make it ask for terabytes (a cell at XFD1048576), loop for minutes or
abort the whole process, and Python cannot catch an abort. So every untrusted file is
read by ``run_isolated``: a child process forked from a fork server (a clean,
single-threaded process that imported the readers once, so a child starts in
milliseconds), limited before it touches the file:

- address space (``RLIMIT_AS``): an allocation over the limit fails at once, which
  makes Python raise ``MemoryError`` and Rust abort: either way only the child ends;
- CPU seconds (``RLIMIT_CPU``): the kernel stops a child that computes too long;
- wall time: the parent kills a child that has not answered in time;
- the size of its answer: the parent refuses to receive more than a bound.

The child returns what the function returned (pickled) or the exception it raised; any
other end (a signal, a limit, an answer too large) raises ``IsolationError`` in the
parent, with a French message for the person who sent the file. The parent process, the
server, the scheduler or the command line, never parses the file itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import resource
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from pilot.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Imported once by the fork server: each child finds the readers already loaded. The
# program's main module too (the ``pilot`` command, pytest), which multiprocessing runs
# again in every child otherwise; a module run with ``python -m`` is run again in each
# child all the same: keep such a module's top level light (see ``benchmarks/``).
PRELOAD = ["__main__", "importers.reading", "python_calamine"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)

UNREADABLE = (
    "Fichier illisible ou trop volumineux : sa lecture a dépassé les limites de PILOT "
    "({reason}). Rien n'a été modifié ; le fichier reçu est conservé. Vérifiez-le (cellules "
    "très éloignées, lignes ou colonnes répétées, nombre d'onglets) puis renvoyez-le."
)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # address space of the child
    cpu_seconds: int
    wall_seconds: float
    result_bytes: int  # the pickled answer

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            memory_bytes=settings.reader_memory_bytes,
            cpu_seconds=settings.reader_cpu_seconds,
            wall_seconds=settings.reader_wall_seconds,
            result_bytes=settings.reader_result_bytes,
        )


class IsolationError(Exception):
    """The isolated reader ended without an answer; ``str(error)`` is French, for the
    sender; ``reason`` says why, in English, for the logs."""

    def __init__(self, reason: str, shown: str) -> None:
        super().__init__(UNREADABLE.format(reason=shown))
        self.reason = reason


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value if hard == resource.RLIM_INFINITY else hard))


def _child(
    connection: Connection, limits: Limits, function: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    _limit(resource.RLIMIT_AS, limits.memory_bytes)
    _limit(resource.RLIMIT_CPU, limits.cpu_seconds)
    try:
        answer: tuple[str, Any] = ("ok", function(*args))
    except MemoryError:
        answer = ("memory", None)
    except Exception as error:  # handed to the parent, raised there
        answer = ("raised", error)
    try:
        payload = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        payload = pickle.dumps(("memory", None))
    except Exception as error:  # an exception that cannot be pickled
        payload = pickle.dumps(("raised", RuntimeError(repr(error)[:2000])))
    connection.send_bytes(payload)
    connection.close()


def _shown(reason: str, limits: Limits) -> str:
    if reason == "memory":
        return f"mémoire au-delà de {limits.memory_bytes // (1024 * 1024)} Mo"
    if reason == "cpu":
        return f"calcul au-delà de {limits.cpu_seconds} s"
    if reason == "timeout":
        return f"durée au-delà de {limits.wall_seconds:g} s"
    if reason == "too_large":
        return f"contenu lu au-delà de {limits.result_bytes // (1024 * 1024)} Mo"
    return "le lecteur s'est arrêté brutalement"


def _reason_of_exit(code: int | None) -> str:
    if code is None:
        return "timeout"
    if code == -signal.SIGXCPU or code == -signal.SIGKILL:
        return "cpu"  # the kernel sends SIGXCPU at the soft limit, SIGKILL at the hard one
    if code == -signal.SIGABRT:
        return "crashed"  # Rust aborts when an allocation fails: often the memory limit
    return "crashed"


def run_isolated(function: Callable[..., T], *args: Any, limits: Limits) -> T:
    """``function(*args)`` in a child process under ``limits`` (see the module docstring).

    ``function`` must be importable at module level (it is pickled by reference); its
    arguments and result must be picklable. An exception it raises is raised here."""
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(
        target=_child, args=(sender, limits, function, args), name="pilot-reader", daemon=True
    )
    started = False
    try:
        process.start()
        started = True
        sender.close()  # the child holds the only sending end: its end is our EOF
        reason = None
        payload = b""
        if not receiver.poll(limits.wall_seconds):
            reason = "timeout"
        else:
            try:
                payload = receiver.recv_bytes(limits.result_bytes)
            except EOFError:  # the child ended without answering
                process.join(5)
                reason = _reason_of_exit(process.exitcode)
            except OSError:  # the answer is longer than the bound
                reason = "too_large"
    finally:
        receiver.close()
        sender.close()
        if started:
            if process.is_alive():
                process.kill()
            process.join()
            process.close()
    if reason is not None:
        log.warning("isolated %s ended without an answer: %s", function.__name__, reason)
        raise IsolationError(reason, _shown(reason, limits))
    status, value = pickle.loads(payload)
    if status == "memory":
        raise IsolationError("memory", _shown("memory", limits))
    if status == "raised":
        raise value
    return value


def warm_up(limits: Limits) -> None:
    """Start the fork server now (it imports the readers: about 3 s), so that the first
    file received does not wait for it. Called when the server and the scheduler start."""
    run_isolated(os.getpid, limits=limits)
