# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Apply each hand-written mutant of sample.yaml to a copy of the tree; the pure tests must fail.

Usage: ``python test/mutation/sample.py [NAME_SUBSTRING]``. Exits 1 when a
mutant survives, and 2 when the unmutated copy fails (a broken baseline would
make every mutant look killed).
"""

import os
from pathlib import Path
import shutil
import subprocess
import sys
import tempfile
import time

from pure_tests import pure_test_files, pytest_options, ROOT
import yaml

SAMPLE = Path(__file__).with_name('sample.yaml')
COPIED = ('safety_gate', 'test', 'config', 'scenarios', 'docs', 'README.md', 'setup.cfg')


def run_tests(tree: Path) -> int:
    """Run the pure tests in ``tree``, stopping at the first failure; return pytest's code."""
    env = {**os.environ, 'PYTHONPATH': str(tree)}
    command = [sys.executable, '-m', 'pytest', '-x', '-q', *pytest_options(), *pure_test_files()]
    return subprocess.run(command, cwd=tree, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def copy_tree(into: Path) -> None:
    """Copy what the pure tests need, without caches."""
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', 'mutants')
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=ignore)
        else:
            shutil.copy2(source, into / name)


def main(argv) -> int:
    """Run every mutant whose name contains argv[1] (all without it); 0 when all are killed."""
    wanted = argv[1] if len(argv) > 1 else ''
    mutants = [m for m in yaml.safe_load(SAMPLE.read_text()) if wanted in m['name']]
    with tempfile.TemporaryDirectory(prefix='safety_gate_mutant_') as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        found = subprocess.run(
            [sys.executable, '-c', 'import safety_gate; print(safety_gate.__file__)'],
            cwd=tree, env={**os.environ, 'PYTHONPATH': str(tree)}, capture_output=True,
            text=True, check=True).stdout
        assert found.startswith(str(tree)), f'the copy is not the package imported: {found}'
        if run_tests(tree) != 0:
            print('the pure tests fail on the unmutated copy')
            return 2
        survivors = []
        for mutant in mutants:
            path = tree / mutant['file']
            original = path.read_text()
            count = original.count(mutant['old'])
            assert count == 1, f'{mutant["name"]}: `old` occurs {count} times'
            path.write_text(original.replace(mutant['old'], mutant['new']))
            start = time.monotonic()
            code = run_tests(tree)
            path.write_text(original)
            # 1: a test failed. Anything else (an import error: 2, 4) is no kill.
            killed = code == 1
            print(f'{"killed  " if killed else "SURVIVED"} {time.monotonic() - start:5.1f} s'
                  f'  {mutant["name"]} (pytest exit {code})', flush=True)
            if not killed:
                survivors.append(mutant['name'])
    print(f'{len(mutants) - len(survivors)} of {len(mutants)} sample mutants killed')
    return 1 if survivors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
