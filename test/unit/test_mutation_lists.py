# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The checked-in mutation lists stay applicable as the code changes.

`make mutation-sample` and `make mutation` take hours or minutes; these checks
take milliseconds, so an edit that breaks a hand-written mutant (its line is
gone) or an equivalents entry (malformed) is noticed by `make test`.
"""

import configparser
import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
MUTATION = ROOT / 'test' / 'mutation'


def test_each_sample_mutant_applies_to_exactly_one_place():
    sample = yaml.safe_load((MUTATION / 'sample.yaml').read_text())
    assert len(sample) == 21
    assert len({m['name'] for m in sample}) == len(sample)
    for mutant in sample:
        source = (ROOT / mutant['file']).read_text()
        assert source.count(mutant['old']) == 1, mutant['name']
        assert mutant['new'] != mutant['old'], mutant['name']


def test_each_equivalent_mutant_names_a_mutated_module_and_gives_a_reason():
    setup = configparser.ConfigParser()
    setup.read(ROOT / 'setup.cfg')
    modules = {Path(line).stem for line in setup.get('mutmut', 'only_mutate').split()}
    entries = yaml.safe_load((MUTATION / 'equivalents.yaml').read_text()) or []
    # one reason per mutant: a second entry, merged in from another branch, may contradict it
    assert len({entry['mutant'] for entry in entries}) == len(entries)
    for entry in entries:
        assert set(entry) == {'mutant', 'why'}, entry
        assert entry['mutant'].split('.')[1] in modules, entry
        assert '__mutmut_' in entry['mutant'] and entry['why'].strip(), entry


def test_the_kept_verdicts_name_mutated_modules_and_their_own_mutants():
    setup = configparser.ConfigParser()
    setup.read(ROOT / 'setup.cfg')
    modules = {Path(line).stem for line in setup.get('mutmut', 'only_mutate').split()}
    for saved in (MUTATION / 'results').glob('*.json'):
        assert saved.stem in modules, saved.name
        data = json.loads(saved.read_text())
        assert set(data) == {'exit_code_by_key', 'hash_by_function_name'}, saved.name
        for name, code in data['exit_code_by_key'].items():
            assert name.startswith(f'safety_gate.{saved.stem}.'), name
            assert code is None or isinstance(code, int), name


def test_no_mutant_listed_equivalent_was_killed():
    # mutmut numbers a function's mutants in order: an edit to the function renumbers
    # them, and an entry may then name another mutant, which a test kills
    verdicts = {}
    for saved in (MUTATION / 'results').glob('*.json'):
        verdicts.update(json.loads(saved.read_text())['exit_code_by_key'])
    for entry in yaml.safe_load((MUTATION / 'equivalents.yaml').read_text()) or []:
        assert verdicts.get(entry['mutant']) != 1, entry
