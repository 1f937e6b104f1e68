# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Write decision records to the trace from a background thread, off the control path.

The writer chains each record into a line (:mod:`safety_gate.trace_format`),
appends it to the rotating file (:mod:`safety_gate.trace_file`) and hands it
on (the node publishes it). It counts every record it loses and marks the
loss in the next line it writes.

Health: the writer is unhealthy while the file cannot be written, from the
moment a record is lost until a line in the file marks that loss, and while
it has had records in hand for ``stall_timeout`` without completing a write
(a FIFO nobody reads, a hung network mount: the writer blocks, it gets no
error). The file is opened on the writer thread, so even an ``open`` that
blocks cannot hold up the caller for longer than ``stall_timeout``.
"""

from dataclasses import dataclass
import math
from pathlib import Path
import queue
import threading
import time
from typing import Any, Callable, List, Mapping, Optional, Tuple

from safety_gate.trace_file import IncompleteWrite, TraceFile
from safety_gate.trace_format import HashChain

_STOP = object()
_MAX_BATCH = 1000  # lines per write call: bounds the time records wait for on_line
_IDLE_POLL = 0.25  # lets close() end the thread even when _STOP did not fit in the queue


@dataclass(frozen=True)
class TraceStats:
    """A snapshot of the writer's counters.

    ``written`` counts records in the file (without a file: records handed on);
    ``lost`` counts records that never reached it (queue full, write or encoding
    error). ``last_error`` keeps the latest problem even after ``healthy`` is
    True again. ``stalled`` says the writer has completed no write for
    ``stall_timeout`` while it had records in hand. ``last_sha256`` is the hash
    of the newest chained line: an anchor to compare the trace tail against.
    """

    submitted: int
    written: int
    lost: int
    queue_depth: int
    healthy: bool
    stalled: bool
    last_error: str
    bytes_written: int
    current_file: Optional[str]
    last_sha256: str


class TraceWriter:
    """Chain, sign, write and hand on decision records from a background thread.

    ``submit`` never blocks and never raises; everything that goes wrong is
    counted in ``stats()``. With ``path`` None the writer only chains records and
    hands each line to ``on_line`` (the node still publishes decisions when the
    trace file is disabled). Submitting takes ownership of the record: do not
    change it afterwards.
    """

    def __init__(self, path: Optional[Path], max_file_bytes: int, max_files: int,
                 queue_size: int, hmac_key: Optional[bytes] = None,
                 on_line: Optional[Callable[[str], None]] = None,
                 retry_interval: float = 1.0, stall_timeout: float = math.inf) -> None:
        """Start the writer thread, which opens the trace (errors are recorded, not raised).

        ``max_files`` counts the current file too. A failed open or write is
        retried at most every ``retry_interval`` seconds. Return once the file
        is open, or after ``stall_timeout`` if opening it blocks.
        """
        self._file = (TraceFile(path, max_file_bytes, max_files, self._error)
                      if path is not None else None)
        self._queue: 'queue.Queue[Any]' = queue.Queue(maxsize=queue_size)
        self._chain = HashChain(hmac_key)
        self._on_line = on_line
        self._retry_interval = retry_interval

        self._lock = threading.Lock()
        self._closed = False
        self._submitted = 0
        self._lost = 0
        self._lost_marked = 0
        self._dropped_since_put = 0
        self._stall_timeout = stall_timeout
        # Steady time by which the writer must finish what it has in hand; no
        # work in hand, no deadline.
        self._deadline = math.inf

        self._pending_lost = 0
        self._written = 0
        self._healthy = True
        self._last_error = ''
        self._next_open = 0.0

        opened = threading.Event()
        # A daemon: an owner that dies without close() must not hang the process at
        # exit. Owners close() on every normal path, which drains the queue first.
        self._thread = threading.Thread(target=self._run, args=(opened,),
                                        name='safety_gate_trace', daemon=True)
        self._thread.start()
        opened.wait(None if math.isinf(stall_timeout) else stall_timeout)

    # ------------------------------------------------------------ caller side

    def submit(self, record: Mapping[str, Any]) -> bool:
        """Queue a record for the writer; return False (and count it lost) if it cannot."""
        with self._lock:
            self._submitted += 1
            if not self._closed:
                try:
                    # The drop count travels with the next queued record, so the
                    # writer marks the gap exactly where the dropped records were.
                    self._queue.put_nowait((record, self._dropped_since_put))
                    self._dropped_since_put = 0
                    return True
                except queue.Full:
                    pass
            self._dropped_since_put += 1
            self._lost += 1
            return False

    @property
    def healthy(self) -> bool:
        """Return False while writing fails, a loss is unmarked or the writer stalls.

        Cheap: the node reads it every tick.
        """
        return (self._healthy and self._lost == self._lost_marked
                and time.monotonic() < self._deadline)

    def stats(self) -> TraceStats:
        """Return a snapshot of the counters."""
        return TraceStats(
            submitted=self._submitted, written=self._written, lost=self._lost,
            queue_depth=self._queue.qsize(), healthy=self.healthy,
            stalled=time.monotonic() >= self._deadline, last_error=self._last_error,
            bytes_written=self._file.bytes_written if self._file is not None else 0,
            current_file=str(self._file.path) if self._file is not None else None,
            last_sha256=self._chain.last_sha256)

    def close(self, timeout: Optional[float] = 5.0) -> bool:
        """Write what is queued, close the file and join the thread; return True if done.

        Later calls and later ``submit`` calls are harmless no-ops (submits count as lost).
        """
        with self._lock:
            self._closed = True
            try:
                self._queue.put_nowait(_STOP)
            except queue.Full:
                pass  # the writer also stops once it finds the queue empty after close
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> 'TraceWriter':
        """Return the writer itself."""
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Close the writer."""
        self.close()

    # ------------------------------------------------------------ writer thread

    def _run(self, opened: threading.Event) -> None:
        try:
            if self._file is not None:
                self._deadline = time.monotonic() + self._stall_timeout
                self._open()
                self._deadline = math.inf
        finally:
            opened.set()
        stop = False
        while not stop:
            try:
                item = self._queue.get(timeout=_IDLE_POLL)
            except queue.Empty:
                stop = self._closed
                continue
            self._deadline = time.monotonic() + self._stall_timeout
            batch = []
            while item is not _STOP:
                batch.append(item)
                if len(batch) >= _MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stop = item is _STOP
            if batch:
                self._process(batch)
            self._deadline = math.inf
        if self._file is not None:
            self._file.close()

    def _process(self, batch: List[Tuple[Mapping[str, Any], int]]) -> None:
        lines: List[Tuple[bytes, int]] = []
        carry = self._pending_lost
        for record, dropped in batch:
            carry += dropped
            line = self._link(record, carry)
            if line is None:
                carry += 1
            else:
                lines.append((line, carry))
                carry = 0
        done = self._write(lines) if self._file is not None else len(lines)
        self._written += done
        self._lost_marked += sum(lost_before for _, lost_before in lines[:done])
        unwritten = lines[done:]
        if unwritten:
            self._count_lost(len(unwritten))
            carry += sum(lost_before + 1 for _, lost_before in unwritten)
        self._pending_lost = carry
        if self._on_line is not None:
            for line, _ in lines:
                self._hand_on(line)

    def _link(self, record: Mapping[str, Any], lost_before: int) -> Optional[bytes]:
        """Return the record as a chained (and signed) line, or None if it cannot be encoded."""
        try:
            return self._chain.link(record, lost_before)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            self._count_lost(1)
            self._error(f'record not JSON-serialisable: {type(exc).__name__}: {exc}')
            return None

    def _hand_on(self, line: bytes) -> None:
        try:
            self._on_line(line.decode())
        except Exception as exc:  # noqa: B902 - a failing publisher must not stop the trace
            self._error(f'on_line callback failed: {type(exc).__name__}: {exc}')

    # ------------------------------------------------------------ the file

    def _write(self, lines: List[Tuple[bytes, int]]) -> int:
        """Append the lines, rotating as needed; return how many are in the file."""
        if not self._file.is_open and not self._reopen():
            return 0
        try:
            self._file.write([line for line, _ in lines])
        except IncompleteWrite as exc:
            self._fail(f'cannot write trace {self._file.path}: {exc.cause}')
            return exc.done
        self._healthy = True
        return len(lines)

    def _open(self) -> bool:
        try:
            self._file.claim()
            if not self._chain.started:
                # A restart extends the chain already in the trace.
                self._chain.resume_after(self._file.last_line())
            self._file.open_for_append()
        except OSError as exc:
            self._fail(f'cannot open trace {self._file.path}: {exc}')
            return False
        return True

    def _reopen(self) -> bool:
        if time.monotonic() < self._next_open:
            return False
        return self._open()

    def _fail(self, message: str) -> None:
        self._file.abandon()
        self._healthy = False
        self._next_open = time.monotonic() + self._retry_interval
        self._error(message)

    def _error(self, message: str) -> None:
        self._last_error = message

    def _count_lost(self, count: int) -> None:
        with self._lock:
            self._lost += count
