"""Processing one file in a process of its own, within a deadline and resource limits.

Decoders run on bytes anyone can upload, and a small file can ask for a lot of work (a GIF
of 50,000 frames, an hour of tiny video). So each file is processed in a child process with
a CPU-time and an address-space limit (`setrlimit`), and a wall-clock deadline: past it
the child is killed and the file refused as `media_too_complex`. No upload holds a media
worker, a core or the server's memory for long, and a decoder that crashes takes only its
child down. Children are forked from a fork server that has the decoders imported, so a
file costs a fork, not an interpreter start. Blocking: call it from a worker thread.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from darbuka.media.pipeline import process
from darbuka.media.result import Limits, MediaRejected, Processed

__all__ = ["Bounded"]

# Imported once by the fork server, so that children start with them.
_PRELOAD = ["darbuka.media.pipeline", "darbuka.media.images", "darbuka.media.audio",
            "darbuka.media.video"]


def _too_complex(why: str) -> MediaRejected:
    return MediaRejected(f"the file {why}", code="media_too_complex")


class Bounded:
    """Runs `pipeline.process` in a child process per file."""

    def __init__(self, *, timeout_s: float, memory_bytes: int) -> None:
        self._timeout_s = timeout_s
        self._memory_bytes = memory_bytes
        # A backstop should this process die first: the deadline with every core busy.
        self._cpu_s = max(1, math.ceil(timeout_s * (os.cpu_count() or 1)))
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(_PRELOAD)
        self._live: set[BaseProcess] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def run(self, kind: str, path: Path, limits: Limits) -> Processed:
        receive, send = self._context.Pipe(duplex=False)
        child = self._context.Process(target=_child, daemon=True, name=f"media-{path.name}",
                                      args=(send, kind, str(path), limits, self._cpu_s,
                                            self._memory_bytes))
        with self._lock:
            if self._stopped:
                raise RuntimeError("media processing is stopping")
            child.start()
            self._live.add(child)
        send.close()
        try:
            outcome = self._wait(receive, child)
        except BaseException:
            # What a killed child was writing beside the upload (video's low variant).
            for leftover in path.parent.glob(path.name + ".*"):
                leftover.unlink(missing_ok=True)
            raise
        finally:
            child.kill()
            child.join()
            receive.close()
            with self._lock:
                self._live.discard(child)
        return _result(outcome)

    def _wait(self, receive: Connection, child: BaseProcess) -> Any:
        if not receive.poll(self._timeout_s):
            raise _too_complex(f"takes longer than {self._timeout_s:g} s to process")
        try:
            return receive.recv()
        except EOFError:
            child.join()
            if child.exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
                raise _too_complex("takes too much processing time") from None
            raise RuntimeError(f"media processing died (exit code {child.exitcode})") from None

    def stop(self) -> None:
        """Kill what is running (the server is stopping); later calls fail."""
        with self._lock:
            self._stopped = True
            live = list(self._live)
        for child in live:
            child.kill()


def _result(outcome: Any) -> Processed:
    if outcome[0] == "done":
        result: Processed = outcome[1]
        return result
    if outcome[0] == "refused":
        raise MediaRejected(outcome[2], code=outcome[1])
    raise RuntimeError(f"media processing failed: {outcome[1]}")


def _child(send: Connection, kind: str, path: str, limits: Limits, cpu_s: int,
           memory_bytes: int) -> None:
    # Soft CPU limit: SIGXCPU ends the process; the hard one a second later is SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    outcome: tuple[Any, ...]
    try:
        outcome = ("done", process(kind, Path(path), limits))
    except MediaRejected as exc:
        outcome = ("refused", exc.code, exc.message)
    except MemoryError:
        outcome = ("refused", "media_too_complex", "the file needs too much memory to process")
    except Exception as exc:  # told to the parent, which logs it
        outcome = ("failed", repr(exc))
    send.send(outcome)
    send.close()
