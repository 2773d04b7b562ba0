"""The worker process that runs sandboxed code: ``python -m engine.script_worker --memory-mb N``.

It reads one JSON request per line on stdin and writes one JSON reply per line on
stdout (engine/script_pool.py is the other end):

    request  {"mode": "eval"|"exec", "source": ..., "variables": {...}, "external": {...},
              "now": ISO datetime, "cpu": seconds}
    reply    {"ok": true, "value": ...}                       (eval)
             {"ok": true, "variables": {...}, "deleted": [...]} (exec)
             {"ok": false, "error": ..., "limit": "cpu"|"memory"|null, "variable": ...}
             and "retire": true when the worker should be replaced after this reply

Limits, set here because a process can only limit itself this way: the address space
may grow by N MB over what the idle worker holds (RLIMIT_AS; an allocation beyond it
is a MemoryError); each request may use ``cpu`` seconds of CPU time (an ITIMER_PROF
timer raises CpuTimeExceeded, which scripts cannot catch: bare ``except:`` is refused
and BaseException is not available); RLIMIT_CPU ends the process if even that fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import sys
from datetime import datetime
from typing import Any

from engine.errors import ScriptError
from engine.sandbox import run_code

MAX_RESULT_BYTES = 4 * 1024 * 1024  # what one script may leave in the task data, as JSON
REPEAT_SECONDS = 0.05  # the CPU timer keeps firing after the limit, so a 'finally:' cannot loop on


class CpuTimeExceeded(BaseException):
    """Raised by the CPU timer's signal handler; not an Exception, so scripts cannot catch it."""


_armed = False


def _on_cpu_timer(signum: int, frame: Any) -> None:
    if _armed:
        raise CpuTimeExceeded()


def _arm(cpu_seconds: float) -> None:
    global _armed
    _set_cpu_backstop(cpu_seconds)
    _armed = True
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds, REPEAT_SECONDS)


def _disarm() -> None:
    global _armed
    _armed = False
    signal.setitimer(signal.ITIMER_PROF, 0, 0)


def _set_cpu_backstop(cpu_seconds: float) -> None:
    """RLIMIT_CPU a little beyond this request's budget: the kernel ends the process if the timer fails."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + cpu_seconds) + 2
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def address_space() -> int | None:
    """The bytes of address space this process holds (Linux), or None where that cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _limit_memory(memory_mb: int) -> int | None:
    """Cap the address space at what the process holds now plus ``memory_mb``; return the idle size."""
    baseline = address_space()
    if baseline is None:
        return None
    limit = baseline + memory_mb * 1024 * 1024
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return baseline


def handle(line: bytes, memory_mb: int) -> dict[str, Any]:
    """Run one request line within its limits; the reply (a success carries its result already encoded)."""
    try:
        request = json.loads(line)
        cpu = float(request["cpu"])
        now = datetime.fromisoformat(request["now"])
        mode, source = request["mode"], request["source"]
        variables, external = request["variables"], request["external"]
    except (ValueError, KeyError, TypeError) as exc:
        return {"ok": False, "error": f"the script worker got a malformed request: {exc}"}
    try:
        _arm(cpu)
        try:
            result = run_code(mode, source, variables, external, now)
            encoded = json.dumps(result, allow_nan=False, separators=(",", ":"))
        finally:
            _disarm()
    except CpuTimeExceeded:
        _disarm()
        return _cpu_exceeded(cpu)
    except MemoryError:
        _disarm()
        return _memory_exceeded(memory_mb)
    except ScriptError as exc:
        return {"ok": False, "error": exc.detail, "variable": exc.variable, "limit": exc.limit}
    except RecursionError:
        return {"ok": False, "error": "RecursionError: the script's results are nested too deeply"}
    if len(encoded) > MAX_RESULT_BYTES:
        return {
            "ok": False,
            "error": f"the script's results take {len(encoded) // 1024} KB, more than the "
            f"{MAX_RESULT_BYTES // 1024} KB one step may store",
        }
    return {"ok": True, "encoded": encoded}


def _cpu_exceeded(cpu: float) -> dict[str, Any]:
    return {
        "ok": False,
        "error": f"the script was stopped: it used more than its limit of {cpu:g} s of CPU time",
        "limit": "cpu",
    }


def _memory_exceeded(memory_mb: int) -> dict[str, Any]:
    return {
        "ok": False,
        "error": f"the script was stopped: it needed more than its limit of {memory_mb} MB of memory",
        "limit": "memory",
    }


def main(argv: list[str] | None = None) -> int:
    """Serve requests until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args(argv)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdin = sys.stdout = sys.stderr  # nothing else may write into the reply pipe
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a worker ends
    baseline = _limit_memory(args.memory_mb)
    retire_above = baseline + args.memory_mb * 1024 * 1024 // 4 if baseline is not None else None
    stdout.write(json.dumps({"ready": True, "pid": os.getpid()}).encode() + b"\n")
    stdout.flush()
    while True:
        try:
            line = stdin.readline()
            if not line:
                return 0
            reply = handle(line, args.memory_mb)
        except CpuTimeExceeded:  # the timer fired between disarming steps
            _disarm()
            reply = _cpu_exceeded(0)
        except MemoryError:
            reply = _memory_exceeded(args.memory_mb)
        size = address_space()
        if reply.get("limit") or (retire_above is not None and size is not None and size > retire_above):
            reply["retire"] = True  # start the next request in a fresh process
        encoded = reply.pop("encoded", None)
        text = json.dumps(reply, separators=(",", ":"))
        if encoded is not None:  # splice the result's own object into the reply without encoding it again
            text = text[:-1] + "," + encoded[1:] if encoded != "{}" else text
        stdout.write(text.encode() + b"\n")
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
