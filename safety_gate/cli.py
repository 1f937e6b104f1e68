# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``safety-gate`` command: tools around the gate (config, trace, replay, scenarios).

Exit codes are shared by every command: 0 success, 1 the check failed (a
trace problem, a replay difference, a failed scenario), 2 a user error (a
missing file, bad YAML, an invalid configuration), with one line
``safety-gate COMMAND: error: ...`` and no traceback.
"""

import argparse
from importlib import metadata
import os
import sys
from typing import Optional, Sequence

COMMANDS = {
    'check-config': ('safety_gate.check_config',
                     'show the parameters and config hash a params file gives the node'),
    'verify': ('safety_gate.verify', 'check a trace: hash chain, sequence, config hashes, HMAC'),
    'replay': ('safety_gate.replay', 're-run a trace through the decision core and compare'),
    'models': ('safety_gate.model_history',
               'list which model was in charge of a trace, from when to when, under which config'),
    'monitor': ('safety_gate.kit.world.monitor',
                'show a running gate: state, diagnostics, input ages, decisions, rates'),
    'export': ('safety_gate.export',
               'write a trace as MCAP (Foxglove, PlotJuggler) or a rosbag2 bag (ros2 bag play)'),
    'scenarios': ('safety_gate.kit.scenarios.runner',
                  'run the hazard scenario library closed-loop and write the report'),
    'shadow-report': ('safety_gate.kit.scenarios.shadow_report',
                      "a shadow candidate's disagreement and would-be interventions, go/no-go"),
    'campaign': ('safety_gate.kit.scenarios.campaign',
                 'run many varied runs of every scenario, locally in parallel or on Ray'),
    'baseline': ('safety_gate.baseline',
                 'write the confidence baseline histogram of accepted runs (spi.baseline_file)'),
    'spi': ('safety_gate.spi_report',
            'safety performance indicators of many traces by model, config, hour or scenario'),
    'compare': ('safety_gate.compare',
                'replay recorded traces under a candidate config: every decision that changes'),
    'evidence': ('safety_gate.evidence',
                 'one go/no-go document: config, registry, scenarios, compare, SPIs, shadow'),
}
# What a shell reports for a process killed by SIGPIPE: the reader went away.
EXIT_BROKEN_PIPE = 128 + 13


def version() -> str:
    """Return the installed package's version."""
    try:
        return metadata.version('safety_gate')
    except metadata.PackageNotFoundError:
        return 'unknown (package metadata not installed)'


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate', description='Tools around the safety gate.',
        epilog="'safety-gate COMMAND --help' describes a command.")
    parser.add_argument('--version', action='version', version=f'safety-gate {version()}')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
    for name, (_, summary) in COMMANDS.items():
        # Each command parses its own arguments, --help included.
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Dispatch ``safety-gate COMMAND ARGS...`` to the command's own ``main``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the command word is the command's own.
    split = next((i for i, arg in enumerate(argv) if not arg.startswith('-')), len(argv))
    args = _parser().parse_args(argv[:split + 1])
    module_name, _ = COMMANDS[args.command]
    module = __import__(module_name, fromlist=['main'])
    try:
        code = module.main(argv[split + 1:])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (head, less) has gone: stop quietly, as a SIGPIPE'd tool does.
        # Python would report the failed flush of stdout at exit, so point it at
        # /dev/null first (the recipe of the Python signal module documentation).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == '__main__':
    sys.exit(main())
