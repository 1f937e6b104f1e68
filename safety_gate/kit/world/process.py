# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The one child-process wrapper of the kit and the tests: a process and its log file.

Every node the kit or a test runs (the gate, the simulated vehicle, the
scripted planner, a bench arm, a launch) is a child process with its stdout
and stderr in one file, stopped by a signal and, if it will not stop, killed.
"""

from pathlib import Path
from signal import SIGINT
import subprocess
import sys
from typing import Mapping, Optional, Sequence

DEFAULT_STOP_TIMEOUT_S = 10.0


def python_command(*args: str) -> list:
    """Return the command that runs this interpreter with ``args`` (``-m module ...``)."""
    return [sys.executable, *args]


class ChildProcess:
    """A child process with its output (stdout and stderr) in ``log_path``."""

    def __init__(self, name: str, command: Sequence[str], log_path: Path,
                 env: Mapping[str, str], **popen_args) -> None:
        """Start ``command`` in exactly the environment ``env``, without a shell.

        No shell: the signals sent to it reach the process itself.
        ``popen_args`` go to subprocess.Popen (``start_new_session``, say).
        """
        self.name = name
        self.log_path = Path(log_path)
        with open(self.log_path, 'wb') as log:
            self.popen = subprocess.Popen(list(command), env=dict(env), stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          **popen_args)

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.popen.pid

    @property
    def returncode(self) -> Optional[int]:
        """Return the exit code, or None while the process runs."""
        return self.popen.poll()

    def alive(self) -> bool:
        """Return True while the process runs."""
        return self.returncode is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process."""
        self.popen.send_signal(sig)

    def wait(self, timeout: float = DEFAULT_STOP_TIMEOUT_S) -> int:
        """Wait for the process to exit and return its exit code."""
        return self.popen.wait(timeout)

    def output(self) -> str:
        """Return everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors='replace')

    def stop(self, sig: int = SIGINT,
             timeout: float = DEFAULT_STOP_TIMEOUT_S) -> Optional[int]:
        """Send ``sig`` (SIGKILL after ``timeout`` if still running); return the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode
