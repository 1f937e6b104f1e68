# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Build and test the package with colcon in a scratch workspace, as a ROS developer would.

The main pytest run imports the source tree. This run proves that setup.py installs what
the package needs (executables, launch and config files, the ament index marker) and that
`colcon test` passes against that install. The multi-process ROS tests are left out: the
main run has already run them.

Usage: python -m safety_gate.kit.colcon_check [--keep]
"""

import argparse
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

PACKAGE = 'safety_gate'
REPO = Path(__file__).resolve().parents[2]
PYTEST_MARKS = 'not ros and not slow'
INSTALLED = (
    'share/ament_index/resource_index/packages/safety_gate',
    'share/safety_gate/package.xml',
    'share/safety_gate/launch/safety_gate.launch.py',
    'share/safety_gate/config/safety_gate.yaml',
    'share/safety_gate/config/fastdds_loopback.xml',
    'lib/safety_gate/safety_gate_node',
)


def colcon_env() -> dict:
    """Return an environment in which colcon finds this venv's ROS wheels."""
    prefix = Path(sys.prefix)
    env = dict(os.environ)
    env['PATH'] = f'{prefix / "bin"}{os.pathsep}{env.get("PATH", "")}'
    # The wheels install an ament index into the venv's share/; colcon-ros
    # resolves package.xml dependencies through it.
    env['AMENT_PREFIX_PATH'] = os.pathsep.join(
        filter(None, [str(prefix), env.get('AMENT_PREFIX_PATH')]))
    return env


def junit_counts(path: Path) -> dict:
    """Sum the counters of every testsuite in a JUnit XML file."""
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == 'testsuite' else root.iter('testsuite')
    counts = dict.fromkeys(('tests', 'failures', 'errors', 'skipped'), 0)
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


def check(workspace: Path) -> int:
    """Build, test and judge the package in workspace; return an exit code."""
    (workspace / 'src').mkdir()
    (workspace / 'src' / PACKAGE).symlink_to(REPO)
    env = colcon_env()

    def colcon(*args):
        print('+ colcon', ' '.join(args), flush=True)
        return subprocess.run(['colcon', *args], cwd=workspace, env=env).returncode

    if colcon('build', '--packages-select', PACKAGE) != 0:
        return 1
    install = workspace / 'install' / PACKAGE
    missing = [name for name in INSTALLED if not (install / name).exists()]
    if missing:
        print('colcon build did not install:', *missing, sep='\n  ', file=sys.stderr)
        return 1
    # colcon test exits 0 even when tests fail; test-result and the JUnit
    # counts below are the verdict.
    colcon('test', '--packages-select', PACKAGE, '--event-handlers', 'console_cohesion+',
           '--pytest-args', '-m', PYTEST_MARKS)
    result = colcon('test-result', '--verbose')
    counts = junit_counts(workspace / 'build' / PACKAGE / 'pytest.xml')
    passed = counts['tests'] - counts['failures'] - counts['errors'] - counts['skipped']
    failed = counts['failures'] + counts['errors']
    print(f'colcon: {passed} passed, {failed} failed, {counts["skipped"]} skipped')
    if passed == 0:
        print('colcon test ran no test', file=sys.stderr)
        return 1
    return 1 if result != 0 or failed else 0


def main(argv=None) -> int:
    """Run the check in a temporary workspace."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--keep', action='store_true',
                        help='keep the workspace and print its path')
    args = parser.parse_args(argv)
    if args.keep:
        workspace = Path(tempfile.mkdtemp(prefix='safety_gate_colcon_'))
        print('workspace:', workspace)
        return check(workspace)
    with tempfile.TemporaryDirectory(prefix='safety_gate_colcon_') as workspace:
        return check(Path(workspace))


if __name__ == '__main__':
    sys.exit(main())
