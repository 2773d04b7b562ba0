"""Worker processes that run scripts with a CPU-time and a memory limit, and the pool that lends them out.

Restricted Python alone cannot stop ``while True: pass`` or a string method that
allocates gigabytes, and a thread cannot be stopped from outside. So code runs in
long-lived child processes (``python -m engine.script_worker``) that set their own
limits: an address-space limit (RLIMIT_AS) for memory, a CPU-time timer for each
piece of code, and RLIMIT_CPU as a backstop. The parent waits for each reply with a
wall-clock timeout and kills a worker that does not answer (code stuck inside one
long C call); a killed or crashed worker is replaced on the next use.

The pool is process-wide, lazily started, thread-safe (the web app is threaded;
a worker serves one call at a time), forgotten in a forked child, and closed at
exit. ``configure`` sets its limits; nothing here reads the environment.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import EngineError, ScriptError

ROOT = Path(__file__).resolve().parent.parent  # the directory that holds the engine package
STARTUP_SECONDS = 60.0  # a loaded machine may take long to start Python; not a limit of any script
_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")
MAX_REPLY_BYTES = 16 * 1024 * 1024  # the worker refuses results over script_worker.MAX_RESULT_BYTES first


@dataclass(frozen=True)
class ScriptLimits:
    """How much one script, condition, timer or decision-table expression may use, and how many run at once."""

    cpu_seconds: float = 1.0
    memory_mb: int = 256  # address space a worker may add to what it holds when idle
    workers: int = 2
    # How long the parent waits for an answer before it kills the worker: for code stuck in one long
    # C call, which the CPU timer cannot interrupt. None: twice the CPU limit plus two seconds.
    wall_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.cpu_seconds > 0 or self.memory_mb < 16 or self.workers < 1:
            raise ValueError(f"script limits out of range: {self}")
        if self.wall_seconds is not None and not self.wall_seconds > 0:
            raise ValueError(f"script limits out of range: {self}")

    @property
    def wall_timeout(self) -> float:
        """Seconds the parent waits for one answer."""
        return self.wall_seconds if self.wall_seconds is not None else 2 * self.cpu_seconds + 2.0


class WorkerUnavailable(EngineError):
    """A worker process could not be started: the machine, not the script, is at fault."""


class _Worker:
    """One child process and the two pipes to it."""

    def __init__(self, limits: ScriptLimits):
        # Only what Python needs: secrets and database addresses in the environment stay out of reach.
        env = {k: v for k, v in os.environ.items() if k.startswith("PYTHON") or k in _ENVIRONMENT}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-m", "engine.script_worker", "--memory-mb", str(limits.memory_mb)]
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=ROOT,
                env=env,
                bufsize=0,
                close_fds=True,
                start_new_session=True,  # a Ctrl-C in the terminal is the parent's to handle
            )
        except OSError as exc:
            raise WorkerUnavailable(f"the script worker process cannot be started: {exc}") from exc
        self._buffer = bytearray()
        try:
            ready = self._read_line(time.monotonic() + STARTUP_SECONDS)
        except (_Timeout, _TooLong):
            ready = None
        if ready is None or not json.loads(ready).get("ready"):
            code = self.kill()
            raise WorkerUnavailable(f"the script worker process did not start (exit code {code})")

    def alive(self) -> bool:
        """True while the child runs."""
        return self.process.poll() is None

    def call(self, payload: bytes, timeout: float) -> dict[str, Any]:
        """Send one request line and return the reply; ScriptError (and the worker killed) when it fails."""
        assert self.process.stdin is not None
        view = memoryview(payload)
        try:
            while view:
                written = self.process.stdin.write(view)
                view = view[written or 0 :]
        except OSError as exc:
            raise _WorkerLost() from exc
        try:
            line = self._read_line(time.monotonic() + timeout)
        except _TooLong:
            self.kill()
            raise ScriptError("the script's result is too large to store") from None
        except _Timeout:
            self.kill()
            raise ScriptError(
                f"the script did not finish within {timeout:g} seconds and was stopped", limit="time"
            ) from None
        if line is None:
            raise _WorkerEnded(self.kill())
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _read_line(self, deadline: float) -> bytes | None:
        """The next line from the child, None at end of file; _Timeout once the deadline passed."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY_BYTES:
                raise _TooLong()

    def kill(self) -> int | None:
        """Stop the child now and release its pipes; return its exit code."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                self.process.kill()
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self.forget()
        return code

    def close(self) -> None:
        """Ask the child to end (end of input), then make sure it did."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def forget(self) -> None:
        """Close this process's ends of the pipes (after a fork the child belongs to the parent)."""
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


class _WorkerLost(Exception):
    """The worker was gone before it read the request: another worker may take it."""


class _WorkerEnded(Exception):
    """The worker ended without answering: killed by the kernel, from outside, or crashed."""

    def __init__(self, code: int | None):
        super().__init__(code)
        self.code = code


class _Timeout(Exception):
    """The worker did not answer in time."""


class _TooLong(Exception):
    """The worker's reply exceeds MAX_REPLY_BYTES."""


def _ended(code: int | None) -> ScriptError:
    """The error for a worker that ended while running code, by how it ended."""
    if code == -signal.SIGXCPU:
        return ScriptError("the script used more CPU time than allowed and was stopped", limit="cpu")
    if code == -signal.SIGKILL:  # the kernel's out-of-memory killer, or an operator
        return ScriptError("the script's worker process was killed (out of memory?)", limit="memory")
    return ScriptError(f"the script's worker process ended unexpectedly (exit code {code})")


class ScriptPool:
    """Up to ``limits.workers`` worker processes, started when first needed and lent to one caller at a time."""

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0  # workers running or being started
        self._workers: set[_Worker] = set()
        self._pid = os.getpid()
        self._closed = False
        _POOLS.add(self)

    def run(self, payload: str) -> dict[str, Any]:
        """Run one JSON request (engine/script_worker.py says what it holds); ScriptError if the code failed."""
        data = payload.encode() + b"\n"
        ended: _WorkerEnded | None = None
        for _attempt in range(2):
            worker = self._acquire()
            keep = False
            try:
                reply = worker.call(data, self.limits.wall_timeout)
                keep = not reply.get("retire")
            except _WorkerLost:
                continue  # it died while idle, before reading: the request never ran
            except _WorkerEnded as exc:
                # Killed from outside or by the kernel, perhaps before it read the request. Code has no
                # effect but its reply, so it is safe to run it once more; twice is the code's doing.
                if exc.code == -signal.SIGXCPU or ended is not None:
                    raise _ended(exc.code) from None
                ended = exc
                continue
            finally:
                self._release(worker, keep)
            if not reply.get("ok"):
                raise ScriptError(
                    str(reply.get("error") or "the script failed"),
                    variable=reply.get("variable"),
                    limit=reply.get("limit"),
                )
            return reply
        raise WorkerUnavailable("the script worker processes keep ending; see the server log")

    def close(self) -> None:
        """Stop every idle worker; a busy one is stopped when it is given back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            self._workers.discard(worker)
            worker.close()

    def worker_pids(self) -> list[int]:
        """The process ids of the workers now running (for tests and the operator)."""
        with self._cond:
            return sorted(w.process.pid for w in self._workers if w.alive())

    def _acquire(self) -> _Worker:
        with self._cond:
            if self._closed:
                raise WorkerUnavailable("the script pool is closed")
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._drop(worker)
                if self._count < self.limits.workers:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            worker = _Worker(self.limits)  # started outside the lock: it takes a moment
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._workers.add(worker)
        return worker

    def _release(self, worker: _Worker, keep: bool) -> None:
        with self._cond:
            if keep and not self._closed and worker.alive() and os.getpid() == self._pid:
                self._idle.append(worker)
                self._cond.notify()
                return
            self._drop(worker)
        worker.kill()

    def _drop(self, worker: _Worker) -> None:
        """Forget a worker (the lock is held); the caller stops it."""
        self._workers.discard(worker)
        self._count -= 1
        self._cond.notify()

    def _after_fork(self) -> None:
        """In a forked child: the workers belong to the parent, so this process starts its own."""
        self._cond = threading.Condition()
        for worker in self._workers:
            worker.forget()
        self._idle, self._workers, self._count, self._pid = [], set(), 0, os.getpid()

    def _close_at_exit(self) -> None:
        self.close()
        for worker in list(self._workers):
            worker.kill()


_POOLS: weakref.WeakSet[ScriptPool] = weakref.WeakSet()
_LIMITS = ScriptLimits()
_SHARED: ScriptPool | None = None
_SHARED_LOCK = threading.Lock()


def configure(limits: ScriptLimits) -> None:
    """Set the limits of the process-wide pool (a pool with other limits is closed and replaced)."""
    global _LIMITS, _SHARED
    with _SHARED_LOCK:
        _LIMITS = limits
        old = _SHARED
        if old is not None and old.limits != limits:
            _SHARED = None
            old.close()


def current_limits() -> ScriptLimits:
    """The limits the process-wide pool runs with."""
    return _LIMITS


def shared_pool() -> ScriptPool:
    """The process-wide pool, created on first use."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = ScriptPool(_LIMITS)
        return _SHARED


def _forget_pools_after_fork() -> None:
    global _SHARED_LOCK
    _SHARED_LOCK = threading.Lock()
    for pool in list(_POOLS):
        pool._after_fork()


def _close_pools() -> None:
    for pool in list(_POOLS):
        pool._close_at_exit()


os.register_at_fork(after_in_child=_forget_pools_after_fork)
atexit.register(_close_pools)
