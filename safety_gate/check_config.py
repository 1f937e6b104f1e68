# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""``safety-gate check-config FILE``: what a params file makes the gate node run with.

The file is read exactly as the node, the launch file and the other tools
read it, so the hash printed here is the one the node logs at start and
stamps into every trace record.
"""

import argparse
import sys
from typing import Optional, Sequence

from safety_gate import config, registry
from safety_gate.errors import user_error
import yaml


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate check-config``: 0 for a valid file, 2 with the refusal otherwise."""
    parser = argparse.ArgumentParser(
        prog='safety-gate check-config',
        description='Print the effective parameters a params file gives the gate node (every '
                    'parameter, * marking those not at their default), the ones not at their '
                    'default, and the config sha256 the node will run with and stamp into its '
                    'trace. Exit 2 with the reason when the node would refuse the file.')
    parser.add_argument('file', help='ROS params file (safety_gate: ros__parameters: ...)')
    parser.add_argument('--namespace', default='', metavar='NS', help=config.NAMESPACE_HELP)
    args = parser.parse_args(argv)
    try:
        cfg = config.load_yaml(args.file, namespace=args.namespace)
        models = registry.of_config(cfg, args.file)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return user_error('check-config', f'{args.file}: {exc}')
    effective, defaults = config.flatten(cfg), config.defaults()
    changed = [name for name in effective if effective[name] != defaults[name]]
    width = max(map(len, effective))
    print(f'effective parameters of {args.file}' + (
        f' in namespace {args.namespace}' if args.namespace else '') + ' (* not the default):')
    for name, value in effective.items():
        print(f'  {"*" if name in changed else " "} {name:{width}s} {value!r}')
    print('not at their default: ' + (', '.join(
        f'{name} = {effective[name]!r} (default {defaults[name]!r})' for name in changed)
        or 'none'))
    if models.sha256:
        print(f'model registry: {len(models.entries)} entries, sha256 {models.sha256}')
    print(f'config sha256: {config.config_sha256(cfg, models.sha256)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
