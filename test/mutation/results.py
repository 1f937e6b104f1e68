# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Keep mutmut's verdicts in the repository, so a mutation run continues the last one.

A whole run takes longer than a working session on a 2-core host (a surviving
mutant runs every test that reaches its function), and mutmut keeps its
verdicts in ``mutants/``, which a fresh clone does not have. ``save`` copies
each module's verdicts and function hashes to ``test/mutation/results/``;
``restore`` puts them back into an empty ``mutants/`` before ``mutmut run``,
which then keeps the verdict of every mutant whose function is unchanged (it
compares the hashes) and runs only the rest: the new mutants, and the
survivors not listed equivalent, against the tests as they are now.
``make mutation`` does both.

``python test/mutation/results.py save|restore``.
"""

import json
from pathlib import Path
import sys

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = Path(__file__).with_name('results')
LIVE = ROOT / 'mutants' / 'safety_gate'
EQUIVALENTS = Path(__file__).with_name('equivalents.yaml')
SURVIVED = {0, 5, 33}  # mutmut's exit codes for survived and no tests


def save() -> int:
    """Copy the verdicts of every mutated module from mutants/; return how many modules."""
    RESULTS.mkdir(exist_ok=True)
    saved = 0
    for meta in sorted(LIVE.glob('*.py.meta')):
        data = json.loads(meta.read_text())
        kept = {
            # Not checked (null) too: a mutants/ whose mutant files are current takes
            # its list of mutants from here, so one left out would not run at all.
            'exit_code_by_key': dict(sorted(data['exit_code_by_key'].items())),
            'hash_by_function_name': dict(sorted(data['hash_by_function_name'].items())),
        }
        (RESULTS / meta.name.replace('.py.meta', '.json')).write_text(
            json.dumps(kept, indent=1) + '\n')
        saved += 1
    return saved


def restore() -> int:
    """Put saved verdicts into mutants/ where it has none; return how many modules."""
    LIVE.mkdir(parents=True, exist_ok=True)
    equivalent = {e['mutant'] for e in yaml.safe_load(EQUIVALENTS.read_text()) or []}
    restored = 0
    for saved in sorted(RESULTS.glob('*.json')):
        meta = LIVE / saved.name.replace('.json', '.py.meta')
        if meta.exists():
            continue  # a live run's verdicts are newer
        data = json.loads(saved.read_text())
        # A survivor's verdict holds for the tests it ran against: run it again
        # (tests may have been added since), unless it is listed equivalent.
        codes = {name: None if code in SURVIVED and name not in equivalent else code
                 for name, code in data['exit_code_by_key'].items()}
        meta.write_text(json.dumps({
            'exit_code_by_key': codes,
            'hash_by_function_name': data['hash_by_function_name'],
            'type_check_error_by_key': {},
            'durations_by_key': {},
            'estimated_durations_by_key': {},
        }, indent=4))
        restored += 1
    return restored


def main(argv) -> int:
    """Run ``save`` or ``restore``; print what was done."""
    actions = {'save': save, 'restore': restore}
    if len(argv) != 1 or argv[0] not in actions:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    print(f'mutation results: {argv[0]}d {actions[argv[0]]()} modules')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
