# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""package.xml declares what the package imports, and nothing it does not use.

A missing exec_depend breaks a rosdep install at run time only; an unused one
installs what nobody needs. The imports are read from the sources (ast).
"""

import ast
from pathlib import Path
import sys
import xml.etree.ElementTree as ElementTree

REPO = Path(__file__).resolve().parents[2]
# Python modules whose rosdep key is not the module name.
ROSDEP_KEYS = {'yaml': 'python3-yaml', 'pydantic': 'python3-pydantic',
               'numpy': 'python3-numpy', 'psutil': 'python3-psutil',
               'pytest': 'python3-pytest', 'hypothesis': 'python3-hypothesis'}
# Imported only where present, never declared: the message packages of the
# alpamayo-autoware wrapper are not on PyPI (test/interfaces builds a test-only copy).
# `safety-gate export`'s writers, imported lazily (the gate never needs them), and the readers
# its tests check the output with: pip installs them (setup.py's extra `export`, the
# Makefile's EXPORT), as rosdep has no keys for them. Likewise `safety-gate campaign`'s
# results (pyarrow) and cluster (ray): setup.py's extras `campaign` and `cluster`; and duckdb,
# which the offline SPI tools read traces with (setup.py's extra `fleet`).
OPTIONAL = {'autoware_planning_msgs', 'autoware_internal_debug_msgs',
            'mcap', 'rosbags', 'mcap_ros2', 'jsonschema', 'pyarrow', 'ray', 'duckdb'}
# Declared for what they run, not what the sources import.
NOT_IMPORTED = {
    'exec_depend': {'ros2launch'},  # `ros2 launch safety_gate safety_gate.launch.py`
    'test_depend': {'ament_flake8', 'ament_pep257'},  # run by test_flake8 / test_pep257
}


def declared(tag: str) -> set:
    root = ElementTree.parse(REPO / 'package.xml').getroot()
    return {element.text.strip() for element in root.iter(tag)}


def imported(paths) -> set:
    local = {'safety_gate', 'harness'}  # harness: the tests' helper package
    names = set()
    for path in paths:
        # A tool script may import a module beside it (test/mutation's scripts do); a test
        # module may not import another test module (shared pieces go in harness).
        siblings = {sibling.stem for sibling in path.parent.glob('*.py')
                    if not sibling.stem.startswith('test_')}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split('.')[0] for alias in node.names
                             if alias.name.split('.')[0] not in siblings)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                if node.module.split('.')[0] not in siblings:
                    names.add(node.module.split('.')[0])
    return {ROSDEP_KEYS.get(name, name) for name in names
            if name not in sys.stdlib_module_names and name not in local | OPTIONAL}


def installed_sources():
    return [*(REPO / 'safety_gate').rglob('*.py'), *(REPO / 'launch').glob('*.py')]


def test_every_import_of_the_installed_package_is_an_exec_depend():
    assert imported(installed_sources()) - declared('exec_depend') == set()


def test_every_test_import_is_declared():
    missing = (imported((REPO / 'test').rglob('*.py'))
               - declared('exec_depend') - declared('test_depend'))
    assert missing == set()


def test_no_dependency_is_declared_that_nothing_uses():
    used = imported(installed_sources())
    assert declared('exec_depend') - used - NOT_IMPORTED['exec_depend'] == set()
    test_used = imported((REPO / 'test').rglob('*.py'))
    assert declared('test_depend') - test_used - NOT_IMPORTED['test_depend'] == set()
