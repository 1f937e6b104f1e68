# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The trace file on disk: locking, appending, rotation with gzip, repair of a cut line.

It has no thread of its own: :class:`safety_gate.trace_writer.TraceWriter`
calls it from its writer thread, and tests call it directly.

Durability: each batch of lines is written with one ``write`` call per file
and is then in the OS page cache. ``fsync`` runs only on rotation and on
close: a per-record fsync would cost milliseconds per decision. A power loss
can therefore lose the last records; the verifier reports the resulting cut.

Rotation: ``trace.jsonl`` becomes ``trace.jsonl.1``, which is then
gzip-compressed into ``trace.jsonl.1.gz`` (written aside, synced, then
renamed, so a crash leaves either file complete); older files shift to
``.2.gz`` and on. JSON records compress about tenfold, so the same disk keeps
ten times the hours. :func:`open_trace` reads either kind.
"""

import errno
import fcntl
import gzip
import os
from pathlib import Path
import shutil
import stat
from typing import Any, BinaryIO, Callable, Optional, Sequence, Tuple

GZIP_SUFFIX = '.gz'
_GZIP_LEVEL = 6  # zlib's default: about 10x on trace records at some 60 MB/s
_TAIL_CHUNK = 65536


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


class IncompleteWrite(Exception):
    """Writing failed with ``cause`` after the first ``done`` lines were in the file."""

    def __init__(self, cause: OSError, done: int) -> None:
        """Keep the error and how many lines made it."""
        super().__init__(cause, done)
        self.cause = cause
        self.done = done


class TraceFile:
    """Append lines to ``path``, rotating it at ``max_file_bytes`` into ``max_files`` files.

    ``max_files`` counts the current file too. A device (``/dev/null``) or a
    FIFO is written to but never truncated, repaired or rotated. Problems that
    cost no line (a rotated file left uncompressed, a failed sync) go to
    ``report``; the others raise.
    """

    def __init__(self, path: Path, max_file_bytes: int, max_files: int,
                 report: Callable[[str], None]) -> None:
        """Describe the file; nothing is opened until :meth:`claim` and :meth:`open_for_append`."""
        self.path = Path(path)
        self._max_file_bytes = max_file_bytes
        self._max_files = max_files
        self._report = report
        self.bytes_written = 0
        self._file: Optional[Any] = None
        self._file_id: Optional[Tuple[int, int]] = None
        self._regular = False
        self._file_bytes = 0
        self._lock_fd: Optional[int] = None

    @property
    def is_open(self) -> bool:
        """Return True while the file is open for appending."""
        return self._file is not None

    def claim(self) -> None:
        """Create the directory and hold an advisory lock on the trace; raise OSError.

        The lock keeps two writers from interleaving two chains in one file.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._lock_fd is not None or (self.path.exists() and not self.path.is_file()):
            return
        fd = os.open(self.path.with_name(f'.{self.path.name}.lock'),
                     os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OSError(exc.errno, 'in use by another trace writer') from None
            raise
        self._lock_fd = fd

    def last_line(self) -> Optional[bytes]:
        """Return the last line already in the trace (None if there is none).

        A newer rotated file is read when the current one is missing or empty.
        """
        rotated = self.path.with_name(self.path.name + '.1')
        for candidate in (self.path, rotated):
            if candidate.is_file():
                line, _ = read_last_line(candidate)
                if line is not None:
                    return line
        packed = rotated.with_name(rotated.name + GZIP_SUFFIX)
        if packed.is_file():
            last = None
            with open_trace(packed) as lines:
                for last in lines:
                    pass
            if last:
                return last.rstrip(b'\n')
        return None

    def open_for_append(self) -> None:
        """Open the current file for appending; raise OSError.

        Reopening after a failed write drops the torn tail that write left; a
        last line cut by a crash is ended, so the next line starts clean.
        """
        file = open(self.path, 'ab', buffering=0)
        try:
            info = os.fstat(file.fileno())
            # Devices such as /dev/null must never be truncated, renamed or rotated.
            self._regular = stat.S_ISREG(info.st_mode)
            size = info.st_size if self._regular else 0
            file_id = (info.st_dev, info.st_ino)
            if self._regular and file_id == self._file_id and size > self._file_bytes:
                file.truncate(self._file_bytes)
                size = self._file_bytes
            elif self._regular and size and not _ends_with_newline(self.path):
                size += file.write(b'\n')
        except OSError:
            file.close()
            raise
        self._file, self._file_id, self._file_bytes = file, file_id, size

    def write(self, lines: Sequence[bytes]) -> None:
        """Append the lines (each without its newline), rotating as needed.

        Raise :class:`IncompleteWrite` if that fails; the file is then closed.
        """
        done = 0
        chunk = []
        size = 0
        try:
            for line in lines:
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
        except OSError as exc:
            self.abandon()
            raise IncompleteWrite(exc, done) from exc

    def abandon(self) -> None:
        """Close the file after a failed write, without syncing; keep the lock."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass  # the write error being recorded is the one that matters
            self._file = None

    def close(self) -> None:
        """Sync and close the file and release the lock."""
        self._close_file()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._file.write(view):]
        # Counted only once complete: a reopen after a failed write truncates the
        # file back to this size, so no torn line stays in the trace.
        self._file_bytes += len(data)
        self.bytes_written += len(data)

    def _rotate(self) -> None:
        """Shift trace.jsonl -> .1 -> .2.gz ..., keeping ``max_files`` files in all."""
        self._close_file()
        path = self.path
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
        self.open_for_append()
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
            self._report(f'cannot compress rotated trace {path} (kept as it is): {exc}')
            try:
                partial.unlink()
            except OSError:
                pass  # nothing was written, or the error above already says why

    def _close_file(self) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            if self._regular:
                os.fsync(file.fileno())
            file.close()
        except OSError as exc:
            self._report(f'cannot sync trace {self.path}: {exc}')
