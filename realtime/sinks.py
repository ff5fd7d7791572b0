"""Verdict sinks on a thread of their own: what consumes verdicts can neither slow nor stop the model.

The inference thread hands each verdict to a bounded queue (it waits when the queue is full, so
no verdict is ever dropped); the sink thread calls every sink in turn. A sink that raises is
reported once, by its name, and left out from then on, while the model and the other sinks go on.
A sink whose reader went away (:class:`OutputClosed`: a closed pipe on stdout) asks the run to
stop, as a command-line filter does when ``head`` has read enough.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common.errors import OutputClosed, first_line
from realtime.frame_queue import BoundedQueue, DropPolicy
from realtime.frames import Verdict

SINK_QUEUE_SIZE = 256  # verdicts waiting for the sinks; the inference thread waits beyond that


@dataclass(frozen=True)
class VerdictSink:
    """One consumer of verdicts, named for the message that reports its failure."""

    name: str
    handle: Callable[[Verdict], None]


Sinks = Callable[[Verdict], None] | Sequence[VerdictSink]


def as_sinks(sinks: Sinks) -> list[VerdictSink]:
    """A bare callable is one sink named "verdicts"."""
    return [VerdictSink("verdicts", sinks)] if callable(sinks) else list(sinks)


def report_sink_failure(name: str, message: str) -> None:
    print(f"warning: the {name} output failed ({message}); analysis goes on without it", file=sys.stderr, flush=True)


class SinkThread(threading.Thread):
    """Delivers verdicts to the sinks in order; ``put`` from the inference thread, ``finish`` at the end."""

    def __init__(
        self,
        sinks: Sinks,
        on_output_closed: Callable[[], None],
        on_failure: Callable[[str, str], None] = report_sink_failure,
        queue_size: int = SINK_QUEUE_SIZE,
    ) -> None:
        super().__init__(name="verdict-sinks", daemon=True)
        self.sinks = as_sinks(sinks)
        self.on_output_closed = on_output_closed
        self.on_failure = on_failure
        self.queue = BoundedQueue[Verdict](queue_size, DropPolicy.NEVER)
        self.failures: dict[str, str] = {}  # sink name -> first line of its error
        self.output_closed = False
        self.delivered = 0

    def put(self, verdict: Verdict) -> None:
        self.queue.put(verdict)

    def finish(self) -> None:
        """No more verdicts: the thread delivers what is queued and ends."""
        self.queue.close()

    def run(self) -> None:
        while (verdict := self.queue.get()) is not None:
            for sink in self.sinks:
                if sink.name not in self.failures:
                    self._deliver(sink, verdict)
            self.delivered += 1

    def _deliver(self, sink: VerdictSink, verdict: Verdict) -> None:
        try:
            sink.handle(verdict)
        except OutputClosed:
            self.failures[sink.name] = "its reader went away"
            if not self.output_closed:
                self.output_closed = True
                self.on_output_closed()
        except Exception as exc:  # any sink's bug or I/O error: report it once, keep the others going
            self.failures[sink.name] = f"{type(exc).__name__}: {first_line(exc)}"
            self.on_failure(sink.name, self.failures[sink.name])
