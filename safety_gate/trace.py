# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Write decision records as a hash-chained JSONL trace, off the control path.

Line format (one JSON object per line, UTF-8, newline terminated)::

    {<the caller's fields>, "prev_sha256": HEX,
     ["chain_start": true,] ["lost_before": N,] ["hmac_sha256": HEX]}

* ``prev_sha256`` is the sha256 of the exact bytes of the previous line (without
  its newline), so changing, removing or reordering a line breaks the chain.
  The chain runs on across rotated files and across restarts.
* ``chain_start`` marks the first record a writer wrote after it started. Its
  ``prev_sha256`` names the last line already in the file (or 64 zeros for a
  fresh trace), so a restart keeps the chain unbroken; only the caller's ``seq``
  starts again at 0 there.
* ``lost_before`` is the number of records the writer lost (queue full, write
  error, not serialisable) between the previous line of the file and this one,
  so a verifier can tell a gap the writer reported from a deleted record.
* ``hmac_sha256`` (only with a key) is always the last member. Its value is
  HMAC-SHA256(key, line without the ``,"hmac_sha256":"..."`` member), so a
  verifier strips that suffix and checks the exact bytes without re-encoding.
  ``prev_sha256`` of the next line covers the whole line, HMAC included.

Non-finite floats (a planner can send NaN) are kept as the JSON strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; ``float()`` reads them back.

Health: the writer is unhealthy while the file cannot be written, from the
moment a record is lost until a line in the file marks that loss, and while
it has had records in hand for ``stall_timeout`` without completing a write
(a FIFO nobody reads, a hung network mount: the writer blocks, it gets no
error). The file is opened on the writer thread, so even an ``open`` that
blocks cannot hold up the caller for longer than ``stall_timeout``.

Durability: each batch of queued lines is written with one ``write`` call and
is then in the OS page cache. ``fsync`` runs only on rotation and on close: a
per-record fsync would cost milliseconds per decision. A power loss can
therefore lose the last records; the verifier reports the resulting cut.

Rotation: ``trace.jsonl`` becomes ``trace.jsonl.1``, which the writer thread
then gzip-compresses into ``trace.jsonl.1.gz`` (written aside, synced, then
renamed, so a crash leaves either file complete); older files shift to
``.2.gz`` and on. JSON records compress about tenfold, so the same disk keeps
ten times the hours. :func:`open_trace` reads either kind.
"""

from dataclasses import dataclass
import errno
import fcntl
import gzip
import hashlib
import hmac
import json
import math
import os
from pathlib import Path
import queue
import shutil
import stat
import threading
import time
from typing import Any, BinaryIO, Callable, Dict, List, Mapping, Optional, Tuple

HMAC_ENV_VAR = 'SAFETY_GATE_TRACE_HMAC_KEY'
GENESIS = '0' * 64
WRITER_FIELDS = ('prev_sha256', 'chain_start', 'lost_before', 'hmac_sha256')
NON_FINITE = {math.inf: 'Infinity', -math.inf: '-Infinity'}
HMAC_MEMBER = b',"hmac_sha256":"'
HMAC_SUFFIX_LEN = len(HMAC_MEMBER) + 64 + len(b'"}')

_STOP = object()
_MAX_BATCH = 1000  # lines per write call: bounds the time records wait for on_line
_IDLE_POLL = 0.25  # lets close() end the thread even when _STOP did not fit in the queue
_TAIL_CHUNK = 65536
GZIP_SUFFIX = '.gz'
_GZIP_LEVEL = 6  # zlib's default: about 10x on trace records at some 60 MB/s


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


def default_trace_path(ros_log_dir: Optional[str] = None) -> Path:
    """Return ``<ROS log dir>/safety_gate/trace.jsonl``.

    The log dir follows rcl_logging: ``ros_log_dir`` if given, else
    ``$ROS_LOG_DIR``, else ``$ROS_HOME/log``, else ``~/.ros/log``; a leading
    ``~`` is the home directory.
    """
    directory = ros_log_dir or os.environ.get('ROS_LOG_DIR', '')
    if not directory:
        directory = os.path.join(os.environ.get('ROS_HOME', '') or '~/.ros', 'log')
    if directory.startswith('~'):
        directory = os.path.expanduser('~') + directory[1:]
    return Path(directory) / 'safety_gate' / 'trace.jsonl'


def load_hmac_key(key_file: str, env_var: str = HMAC_ENV_VAR) -> Optional[bytes]:
    """Return the trace HMAC key from ``key_file``, else from ``env_var``, else None.

    The file holds the raw key; one trailing newline (LF or CRLF) is dropped. Raise OSError if
    the file cannot be read and ValueError if it is empty. Messages never quote the key.
    """
    if key_file:
        key = Path(key_file).read_bytes()
        key = key[:-1] if key.endswith(b'\n') else key
        key = key[:-1] if key.endswith(b'\r') else key
        if not key:
            raise ValueError(f'HMAC key file {key_file} is empty')
        return key
    value = os.environ.get(env_var, '')
    return value.encode() if value else None


def sha256_hex(line: bytes) -> str:
    """Return the chain hash of one trace line (its bytes without the newline)."""
    return hashlib.sha256(line).hexdigest()


def hmac_hex(key: bytes, signed: bytes) -> str:
    """Return the HMAC-SHA256 of the signed part of a line."""
    return hmac.new(key, signed, hashlib.sha256).hexdigest()


def sign_line(key: bytes, line: bytes) -> bytes:
    """Append the ``hmac_sha256`` member, signing the line as it is (a JSON object)."""
    return line[:-1] + HMAC_MEMBER + hmac_hex(key, line).encode() + b'"}'


def split_signature(line: bytes) -> Optional[Tuple[bytes, bytes]]:
    """Return (the signed bytes, the hex HMAC) of a signed line, or None if it has none.

    Only a top-level last member matches: inside a string the quotes would be
    escaped, and inside a nested object the line would end in ``}}``.
    """
    member = line[-HMAC_SUFFIX_LEN:-HMAC_SUFFIX_LEN + len(HMAC_MEMBER)]
    if len(line) <= HMAC_SUFFIX_LEN or member != HMAC_MEMBER or not line.endswith(b'"}'):
        return None
    return line[:-HMAC_SUFFIX_LEN] + b'}', line[-66:-2]


def _dumps(obj: Any, ascii_only: bool = False) -> str:
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=ascii_only, allow_nan=False)


def _finite(obj: Any) -> Any:
    """Return a copy of ``obj`` with non-finite floats replaced by their names."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return NON_FINITE.get(obj, 'NaN')
    if isinstance(obj, dict):
        return {key: _finite(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(value) for value in obj]
    return obj


def encode_record(record: Mapping[str, Any]) -> bytes:
    """Serialise one record as a compact JSON line (no newline), keeping NaN as text.

    Raise TypeError or ValueError if the record is not JSON-serialisable.
    """
    obj: Any = record
    try:
        text = _dumps(obj)
    except ValueError:
        obj = _finite(record)
        text = _dumps(obj)
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (a '\ud800' escape in planner JSON) has no UTF-8 form;
        # the escaped spelling is still the same JSON value.
        return _dumps(obj, ascii_only=True).encode()


def open_trace(path) -> BinaryIO:
    """Open a trace file for reading lines as bytes; a ``.gz`` file is decompressed."""
    if str(path).endswith(GZIP_SUFFIX):
        return gzip.open(path, 'rb')
    return open(path, 'rb')


def rotation_index(base: str, name: str) -> Optional[int]:
    """Return N for ``<base>.N`` or ``<base>.N.gz``, 0 for ``base`` itself, else None."""
    if name == base:
        return 0
    if not name.startswith(base + '.'):
        return None
    suffix = name[len(base) + 1:]
    if suffix.endswith(GZIP_SUFFIX):
        suffix = suffix[:-len(GZIP_SUFFIX)]
    return int(suffix) if suffix.isdigit() else None


def read_last_line(path: Path) -> Tuple[Optional[bytes], bool]:
    """Return (last line of ``path`` without its newline, whether it ends in one).

    Return (None, True) for an empty file. Read only the tail, backwards.
    """
    with open(path, 'rb') as file:
        end = file.seek(0, os.SEEK_END)
        if end == 0:
            return None, True
        file.seek(end - 1)
        terminated = file.read(1) == b'\n'
        stop = end - 1 if terminated else end
        start, tail = stop, b''
        while start > 0 and b'\n' not in tail:
            step = min(_TAIL_CHUNK, start)
            start -= step
            file.seek(start)
            tail = file.read(step) + tail
        return tail[tail.rfind(b'\n') + 1:], terminated


def _ends_with_newline(path: Path) -> bool:
    with open(path, 'rb') as file:
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b'\n'


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
        self._path = Path(path) if path is not None else None
        self._max_file_bytes = max_file_bytes
        self._max_files = max_files
        self._queue: 'queue.Queue[Any]' = queue.Queue(maxsize=queue_size)
        self._hmac_key = hmac_key
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

        self._prev = GENESIS
        self._chain_started = False
        self._pending_lost = 0
        self._written = 0
        self._bytes_written = 0
        self._healthy = True
        self._last_error = ''
        self._file: Optional[Any] = None
        self._file_id: Optional[Tuple[int, int]] = None
        self._regular = False
        self._file_bytes = 0
        self._lock_fd: Optional[int] = None
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
            bytes_written=self._bytes_written,
            current_file=str(self._path) if self._path is not None else None,
            last_sha256=self._prev)

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
            if self._path is not None:
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
        self._close_file(sync=True)
        self._release_lock()

    def _process(self, batch: List[Tuple[Mapping[str, Any], int]]) -> None:
        lines: List[Tuple[bytes, int]] = []
        carry = self._pending_lost
        for record, dropped in batch:
            carry += dropped
            line = self._chain(record, carry)
            if line is None:
                carry += 1
            else:
                lines.append((line, carry))
                carry = 0
        done = self._write(lines) if self._path is not None else len(lines)
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

    def _chain(self, record: Mapping[str, Any], lost_before: int) -> Optional[bytes]:
        """Return the record as a chained (and signed) line, or None if it cannot be encoded."""
        try:
            fields: Dict[str, Any] = {k: v for k, v in record.items() if k not in WRITER_FIELDS}
            fields['prev_sha256'] = self._prev
            if not self._chain_started:
                fields['chain_start'] = True
            if lost_before:
                fields['lost_before'] = lost_before
            line = encode_record(fields)
        except (TypeError, ValueError, AttributeError, RecursionError) as exc:
            self._count_lost(1)
            self._error(f'record not JSON-serialisable: {type(exc).__name__}: {exc}')
            return None
        if self._hmac_key is not None:
            line = sign_line(self._hmac_key, line)
        self._prev = sha256_hex(line)
        self._chain_started = True
        return line

    def _hand_on(self, line: bytes) -> None:
        try:
            self._on_line(line.decode())
        except Exception as exc:  # noqa: B902 - a failing publisher must not stop the trace
            self._error(f'on_line callback failed: {type(exc).__name__}: {exc}')

    # ------------------------------------------------------------ file handling

    def _write(self, lines: List[Tuple[bytes, int]]) -> int:
        """Append the lines, rotating as needed; return how many are in the file."""
        if self._file is None and not self._reopen():
            return 0
        done = 0
        chunk: List[bytes] = []
        size = 0
        try:
            for line, _ in lines:
                data_len = len(line) + 1
                if (self._regular and self._file_bytes + size > 0
                        and self._file_bytes + size + data_len > self._max_file_bytes):
                    self._append(b''.join(chunk))
                    done += len(chunk)
                    chunk, size = [], 0
                    self._rotate()
                chunk.append(line + b'\n')
                size += data_len
            self._append(b''.join(chunk))
            done += len(chunk)
        except OSError as exc:
            self._fail(f'cannot write trace {self._path}: {exc}')
            return done
        self._healthy = True
        return done

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._file.write(view):]
        # Counted only once complete: a reopen after a failed write truncates the
        # file back to this size, so no torn line stays in the trace.
        self._file_bytes += len(data)
        self._bytes_written += len(data)

    def _rotate(self) -> None:
        """Shift trace.jsonl -> .1 -> .2.gz ..., keeping ``max_files`` files in all."""
        self._close_file(sync=True)
        path = self._path
        for name in os.listdir(path.parent):
            index = rotation_index(path.name, name)
            if index is not None and index >= max(1, self._max_files - 1):
                (path.parent / name).unlink()
        for index in range(self._max_files - 2, 0, -1):
            older = path.with_name(f'{path.name}.{index}')
            if older.with_name(older.name + GZIP_SUFFIX).exists() and older.exists():
                older.unlink()  # a crash came between compressing it and removing it
            for suffix in ('', GZIP_SUFFIX):
                source = path.with_name(f'{path.name}.{index}{suffix}')
                if source.exists():
                    source.rename(path.with_name(f'{path.name}.{index + 1}{suffix}'))
        if self._max_files > 1:
            path.rename(path.with_name(path.name + '.1'))
        else:
            path.unlink()
        self._file_id = None
        self._open_file()
        if self._max_files > 1:
            self._compress(path.with_name(path.name + '.1'))

    def _compress(self, path: Path) -> None:
        """Replace ``path`` by ``path.gz``; on failure keep ``path`` (still a valid trace)."""
        partial = path.with_name(f'.{path.name}{GZIP_SUFFIX}.partial')
        try:
            with open(path, 'rb') as source, open(partial, 'wb') as target:
                with gzip.GzipFile(path.name, 'wb', _GZIP_LEVEL, target, mtime=0) as packed:
                    shutil.copyfileobj(source, packed, 1 << 20)
                target.flush()
                os.fsync(target.fileno())
            os.replace(partial, path.with_name(path.name + GZIP_SUFFIX))
            path.unlink()
        except OSError as exc:
            self._error(f'cannot compress rotated trace {path} (kept as it is): {exc}')
            try:
                partial.unlink()
            except OSError:
                pass  # nothing was written, or the error above already says why

    def _tail_hash(self) -> str:
        """Return the hash of the last line already in the trace, so a restart extends it."""
        rotated = self._path.with_name(self._path.name + '.1')
        for candidate in (self._path, rotated):
            if candidate.is_file():
                line, _ = read_last_line(candidate)
                if line is not None:
                    return sha256_hex(line)
        packed = rotated.with_name(rotated.name + GZIP_SUFFIX)
        if packed.is_file():
            last = None
            with open_trace(packed) as lines:
                for last in lines:
                    pass
            if last:
                return sha256_hex(last.rstrip(b'\n'))
        return GENESIS

    def _open(self) -> bool:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._acquire_lock()
            if not self._chain_started:
                self._prev = self._tail_hash()
            self._open_file()
        except OSError as exc:
            self._fail(f'cannot open trace {self._path}: {exc}')
            return False
        return True

    def _reopen(self) -> bool:
        if time.monotonic() < self._next_open:
            return False
        return self._open()

    def _acquire_lock(self) -> None:
        """Hold an advisory lock so two writers never interleave two chains in one file."""
        if self._lock_fd is not None or (self._path.exists() and not self._path.is_file()):
            return
        fd = os.open(self._path.with_name(f'.{self._path.name}.lock'),
                     os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OSError(exc.errno, 'in use by another trace writer') from None
            raise
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _open_file(self) -> None:
        """Open the current file for appending, dropping a torn tail from a failed write."""
        file = open(self._path, 'ab', buffering=0)
        try:
            info = os.fstat(file.fileno())
            # Devices such as /dev/null must never be truncated, renamed or rotated.
            self._regular = stat.S_ISREG(info.st_mode)
            size = info.st_size if self._regular else 0
            file_id = (info.st_dev, info.st_ino)
            if self._regular and file_id == self._file_id and size > self._file_bytes:
                file.truncate(self._file_bytes)
                size = self._file_bytes
            elif self._regular and size and not _ends_with_newline(self._path):
                # A crash cut the last line; end it so the next record starts clean.
                size += file.write(b'\n')
        except OSError:
            file.close()
            raise
        self._file, self._file_id, self._file_bytes = file, file_id, size

    def _close_file(self, sync: bool) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            if sync and self._regular:
                os.fsync(file.fileno())
            file.close()
        except OSError as exc:
            self._error(f'cannot sync trace {self._path}: {exc}')

    def _fail(self, message: str) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # the write error being recorded is the one that matters
            self._file = None
        self._healthy = False
        self._next_open = time.monotonic() + self._retry_interval
        self._error(message)

    def _error(self, message: str) -> None:
        self._last_error = message

    def _count_lost(self, count: int) -> None:
        with self._lock:
            self._lost += count
