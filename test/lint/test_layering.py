# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Check the layering of the package (docs/architecture.md) by reading every import.

Bottom to top: the safety function (every ``safety_gate/*.py`` but ``cli.py``),
``safety_gate.kit.world``, then ``safety_gate.kit.scenarios`` and
``safety_gate.kit.bench`` side by side, then ``safety_gate.cli``. A module may
import its own layer and the layers below it, never one above, and the two
layers side by side never import each other. Imports are read with ``ast``,
those inside functions included.
"""

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / 'safety_gate'

# (layer, rank), most specific prefix first; the kit's own top level (its
# package and colcon_check) stands with kit.world.
LAYERS = (
    ('safety_gate.cli', ('cli', 3)),
    ('safety_gate.kit.scenarios', ('kit.scenarios', 2)),
    ('safety_gate.kit.bench', ('kit.bench', 2)),
    ('safety_gate.kit', ('kit.world', 1)),
    ('safety_gate', ('safety function', 0)),
)


def layer_of(module: str) -> Tuple[str, int]:
    """Return (layer, rank) of a module of the package."""
    return next(layer for prefix, layer in LAYERS
                if module == prefix or module.startswith(prefix + '.'))


def module_name(path: Path) -> str:
    """Return the dotted name of a source file of the package."""
    parts = path.relative_to(ROOT).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported(source: str, module: str, is_package: bool = False) -> Iterator[Tuple[int, str]]:
    """Yield (line, module) for every import of the package in ``source``, at any depth.

    ``from safety_gate import config`` names the module ``safety_gate.config``;
    relative imports are resolved against ``module``.
    """
    here = module.split('.') if is_package else module.split('.')[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(here[:len(here) - node.level + 1] + ([base] if base else []))
            names = [f'{base}.{alias.name}' for alias in node.names]
        else:
            continue
        yield from ((node.lineno, name) for name in names
                    if name == 'safety_gate' or name.startswith('safety_gate.'))


def upward_imports() -> List[str]:
    """Return every import in the package that breaks the layering, as readable lines."""
    found = []
    for path in sorted(PACKAGE.rglob('*.py')):
        module = module_name(path)
        layer, rank = layer_of(module)
        for line, name in imported(path.read_text(encoding='utf-8'), module,
                                   path.name == '__init__.py'):
            other, other_rank = layer_of(name)
            if other_rank > rank or (other_rank == rank and other != layer):
                found.append(f'{path.relative_to(ROOT)}:{line}: {layer} imports {name} '
                             f'({other})')
    return found


@pytest.mark.linter
def test_no_module_imports_a_layer_above_it_or_beside_it():
    found = upward_imports()
    assert not found, 'imports against the layering:\n' + '\n'.join(found)


@pytest.mark.linter
def test_the_layers_are_ordered_as_documented():
    assert layer_of('safety_gate.core')[1] < layer_of('safety_gate.kit.world.process')[1]
    assert layer_of('safety_gate.kit.colcon_check') == layer_of('safety_gate.kit.world.fuzz')
    assert layer_of('safety_gate.kit.world.rosutil')[1] < layer_of(
        'safety_gate.kit.scenarios.runner')[1] == layer_of('safety_gate.kit.bench.rig')[1]
    assert layer_of('safety_gate.kit.bench.rig')[1] < layer_of('safety_gate.cli')[1]


@pytest.mark.linter
def test_imports_are_read_inside_functions_and_relative_ones_resolved():
    source = ('import os\n'
              'from safety_gate import core, verify\n'
              'def run():\n'
              '    from safety_gate.kit.scenarios import closed_loop\n'
              '    from . import rig\n'
              '    import safety_gate.cli\n')
    assert list(imported(source, 'safety_gate.kit.bench.soak')) == [
        (2, 'safety_gate.core'), (2, 'safety_gate.verify'),
        (4, 'safety_gate.kit.scenarios.closed_loop'), (5, 'safety_gate.kit.bench.rig'),
        (6, 'safety_gate.cli')]
