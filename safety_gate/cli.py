# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``safety-gate`` command: tools around the gate (trace, replay, scenarios)."""

import sys
from typing import Optional, Sequence

COMMANDS = {
    'verify': ('safety_gate.verify', 'check a trace: hash chain, sequence, config hashes, HMAC'),
    'replay': ('safety_gate.replay', 're-run a trace through the decision core and compare'),
    'scenarios': ('safety_gate.scenarios.runner',
                  'run the hazard scenario library closed-loop and write the report'),
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatch ``safety-gate COMMAND ARGS...`` to the command's own ``main``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print('usage: safety-gate COMMAND [ARGS...]\n\ncommands:', file=sys.stderr)
        for name, (_, summary) in COMMANDS.items():
            print(f'  {name:10s} {summary}', file=sys.stderr)
        return 0 if argv[:1] in (['-h'], ['--help']) else 2
    module_name, _ = COMMANDS[argv[0]]
    module = __import__(module_name, fromlist=['main'])
    return module.main(argv[1:])


if __name__ == '__main__':
    sys.exit(main())
