"""Python's garbage collector, tuned for a process that holds thousands of sockets.

Python frees most objects by reference counting; its cyclic collector additionally walks
every tracked container now and then. A full (oldest generation) walk visits everything
the process holds: the imported code, and every open socket's protocol, buffers and
tasks. With 10,000 sockets that is millions of objects and a pause of 70 ms to 0.8 s in
the middle of whatever the event loop was doing, such as sending one message to 10,000
people (bench.capacity).

So, while the app runs (``COUNTERLINE_GC_TUNING``, on by default):

- what is alive after start-up (modules, classes, the app, caches) is frozen
  (``gc.freeze()``): moved out of the collector's generations, never walked again;
- the youngest generation is collected after ``gc_threshold`` more allocations than
  deallocations instead of Python's 700, so collections come less often and each one
  finds more of its objects already freed by reference counting;
- after each full collection, what survived it is frozen too (``gc_refreeze``): those
  objects are alive right then, the connections held, so the next full walk only visits
  what was made since. A frozen object that later becomes part of unreachable cycle is not
  collected while frozen; reference counting still frees everything else, and once an
  hour (``REFREEZE_AFTER_SECONDS``) the frozen objects are handed back so one full
  collection sweeps such leftovers before they are frozen again.

Everything is undone when the app stops (tests start and stop many apps in one process).
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field
from typing import Any

from counterline.measures import Summary

# How long frozen survivors stay frozen before a full collection looks at them again.
REFREEZE_AFTER_SECONDS = 3600.0


@dataclass
class Pauses:
    """How long the collector held the process up, by generation (``/metrics``): wall time,
    and the CPU time of the collecting thread (what a busy machine does not inflate)."""

    wall: tuple[Summary, Summary, Summary] = field(
        default_factory=lambda: (Summary(), Summary(), Summary())
    )
    cpu: tuple[Summary, Summary, Summary] = field(
        default_factory=lambda: (Summary(), Summary(), Summary())
    )
    longest: float = 0.0
    _wall_start: float = 0.0
    _cpu_start: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._wall_start = time.perf_counter()
            self._cpu_start = time.thread_time()
            return
        wall = time.perf_counter() - self._wall_start
        generation = info["generation"]
        self.wall[generation].observe(wall)
        self.cpu[generation].observe(time.thread_time() - self._cpu_start)
        self.longest = max(self.longest, wall)


# The process's collector pauses, watched from the first app start on (tuned or not).
PAUSES = Pauses()


def watch_pauses() -> Pauses:
    if PAUSES not in gc.callbacks:
        gc.callbacks.append(PAUSES)
    return PAUSES


# Apps running in this process with the tuning on (tests run several at once, each in a
# thread); the collector's own settings are saved by the first and restored by the last.
_running: list[CollectorTuning] = []
_original: tuple[int, int, int] | None = None


@dataclass
class CollectorTuning:
    """The collector settings of one running app; :meth:`apply` at start, :meth:`undo` at stop."""

    threshold: int
    refreeze: bool = True
    _loop: asyncio.AbstractEventLoop | None = None
    _thawed_at: float = field(default_factory=time.monotonic)
    full_collections: int = 0
    refreezes: int = 0

    def apply(self) -> None:
        global _original
        if not _running:
            _original = gc.get_threshold()
        _running.append(self)
        gc.freeze()
        assert _original is not None
        _, middle, oldest = _original
        gc.set_threshold(max(self.threshold, 1), middle, oldest)
        if self.refreeze:
            self._loop = asyncio.get_running_loop()
            gc.callbacks.append(self._collected)

    def undo(self) -> None:
        global _original
        if self not in _running:
            return
        _running.remove(self)
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
        if not _running and _original is not None:
            gc.set_threshold(*_original)
            _original = None
            gc.unfreeze()

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        # Called by the collector itself, in any thread: only schedule, change nothing here.
        if phase != "stop" or info["generation"] != 2 or self._loop is None:
            return
        self.full_collections += 1
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._freeze_survivors)

    def _freeze_survivors(self) -> None:
        if self not in _running:
            return
        if time.monotonic() - self._thawed_at > REFREEZE_AFTER_SECONDS:
            # Let the next full collection see everything once (cycles that died frozen).
            self._thawed_at = time.monotonic()
            gc.unfreeze()
            return
        gc.freeze()
        self.refreezes += 1


def tune_collector(enabled: bool, threshold: int, refreeze: bool) -> CollectorTuning | None:
    """Apply the tuning (in the running event loop) when enabled; the caller undoes it.
    Collector pauses are watched either way."""
    watch_pauses()
    if not enabled:
        return None
    tuning = CollectorTuning(threshold, refreeze)
    tuning.apply()
    return tuning
