# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""How every ``safety-gate`` command reports a user error: one line, exit code 2.

Here, below the commands, so that the commands (and the kit's) need not import
the ``safety-gate`` entry point that dispatches to them.
"""

import sys

EXIT_USAGE = 2


def user_error(command: str, message: str) -> int:
    """Print ``safety-gate COMMAND: error: MESSAGE`` on one line to stderr; return 2."""
    print(f'safety-gate {command}: error: {" ".join(message.split())}', file=sys.stderr)
    return EXIT_USAGE
