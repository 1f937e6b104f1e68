# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""What README.md and docs/ list is what the code does: tables checked against their source.

Each table sits between ``<!-- name:begin -->`` and ``<!-- name:end -->`` markers.
The parameter table is checked in test_config.py, where it is generated.
"""

import ast
from pathlib import Path
import re

import pytest
from safety_gate import cli, node
from safety_gate.config import GateConfig
from safety_gate.decision import Reason
from safety_gate.kit.scenarios import report
from safety_gate.kit.scenarios.model import load_library
from safety_gate.kit.world import faults
from safety_gate.paths import share_dir
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / 'docs'
LINK = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')


def table(path: Path, name: str) -> str:
    """Return the text between the ``name`` markers of ``path``."""
    text = path.read_text()
    begin, end = f'<!-- {name}:begin -->', f'<!-- {name}:end -->'
    assert begin in text and end in text, f'{path.name} lacks the {name} markers'
    return text.split(begin, 1)[1].split(end, 1)[0].strip('\n')


def rows(text: str) -> list:
    """Return the cells of each body row of a Markdown table."""
    return [[cell.strip() for cell in line.strip('|').split(' | ')]
            for line in text.splitlines()[2:]]


def first_column(text: str) -> list:
    """Return the backquoted names in the first column of a Markdown table."""
    return [name for row in rows(text) for name in re.findall(r'`([^`]+)`', row[0])]


def test_reason_table_lists_every_reason_code_once():
    listed = first_column(table(DOCS / 'decisions.md', 'reasons'))
    assert sorted(listed) == sorted(reason.value for reason in Reason)


def _topic(name: ast.expr) -> str:
    """Return a topic name as written; a variable part of an f-string as ``<variable>``."""
    if isinstance(name, ast.Constant):
        return name.value
    return ''.join(part.value if isinstance(part, ast.Constant)
                   else f'<{ast.unparse(part.value)}>' for part in name.values)


def _endpoints():
    """Yield (topic, message class, QoS profile or None) for each endpoint node.py creates."""
    tree = ast.parse(Path(node.__file__).read_text())
    qos_position = {'_subscribe': 3, '_advertise': 2, 'create_service': None}
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr in qos_position):
            continue
        msg_type, topic = call.args[0], _topic(call.args[1])
        position = qos_position[call.func.attr]
        qos = None if position is None else getattr(node, call.args[position].id)
        # A type chosen at start (the command's by enable_stamped_cmd_vel, the
        # plan's by planner.input) is a local name, not one of node's; the README
        # names each choice.
        msg_class = getattr(node, msg_type.id, None)
        yield topic, msg_class, qos


def describe(qos) -> str:
    """Return a QoS profile as the README writes it: 'reliable, volatile, depth 10'."""
    words = [qos.reliability.name.lower().replace('_', ' '),
             qos.durability.name.lower().replace('_', ' '), f'depth {qos.depth}']
    return ', '.join(words)


def test_interface_table_matches_the_node():
    listed = {row[0].strip('`'): row for row in rows(table(ROOT / 'README.md', 'interface'))}
    endpoints = list(_endpoints())
    assert set(listed) == {topic for topic, _, _ in endpoints}
    for topic, msg_class, qos in endpoints:
        _, type_cell, _, qos_cell = listed[topic]
        if msg_class is not None:
            package = msg_class.__module__.split('.')[0]
            assert f'`{package}/{msg_class.__name__}`' in type_cell, (topic, type_cell)
        if qos is not None:
            assert describe(qos) in qos_cell, (topic, describe(qos), qos_cell)
    estop_profiles = [qos for topic, _, qos in endpoints if topic == 'safety_gate/estop']
    assert len(estop_profiles) == 2 and listed['safety_gate/estop'][3].startswith('twice')


def test_the_rviz_config_subscribes_to_the_markers_as_published():
    """Check what the file says (RViz itself cannot be installed here)."""
    view = yaml.safe_load((ROOT / 'config' / 'safety_gate.rviz').read_text())
    manager = view['Visualization Manager']
    assert manager['Global Options']['Fixed Frame'] == GateConfig().trajectory.frame_id
    topics = [d['Topic'] for d in manager['Displays']
              if d['Class'] == 'rviz_default_plugins/MarkerArray']
    assert topics == [{'Value': '/safety_gate/markers', 'Depth': node.MARKERS_QOS.depth,
                       'Reliability Policy': 'Reliable', 'Durability Policy': 'Volatile',
                       'History Policy': 'Keep Last'}]
    assert describe(node.MARKERS_QOS) == 'reliable, volatile, depth 1'


def test_tools_page_lists_every_command():
    assert first_column(table(DOCS / 'tools.md', 'commands')) == list(cli.COMMANDS)
    for command_row in rows(table(DOCS / 'tools.md', 'commands')):
        assert command_row[1] == cli.COMMANDS[command_row[0].strip('`')][1]


def _library():
    return load_library(share_dir() / 'scenarios')


def test_scenario_tables_follow_the_library():
    expected = [(s.id, s.severity.value, s.exposure.value) for s in _library()]
    for name in ('library', 'scenarios'):
        listed = [(r[0].strip('`'), r[1], r[2]) for r in rows(table(DOCS / 'scenarios.md', name))]
        assert listed == expected, name


def test_scenario_results_table_has_the_report_columns():
    text = table(DOCS / 'scenarios.md', 'scenarios')
    assert text.splitlines()[:2] == report.markdown_table([], links=False).splitlines()
    assert all(row[3] in ('**PASS**', '**FAIL**', '**ERROR**') for row in rows(text))


def test_fault_evidence_table_has_the_tool_columns():
    text = table(DOCS / 'security.md', 'evidence')
    assert text.splitlines()[:2] == faults.table([]).splitlines()
    assert all(len(row) == 5 for row in rows(text))


def test_performance_targets_are_the_last_benchmark_run():
    generated = (ROOT / 'BENCHMARKS.md').read_text().split('<!-- bench:begin -->', 1)[1]
    targets = generated.split('### Targets', 1)[1].split('###', 1)[0].strip('\n')
    assert table(DOCS / 'performance.md', 'targets') == targets


@pytest.mark.parametrize('page', ['README.md', *sorted(
    str(p.relative_to(ROOT)) for p in DOCS.glob('*.md'))])
def test_relative_links_resolve(page):
    path = ROOT / page
    missing = [target for target in LINK.findall(path.read_text())
               if '://' not in target and not (path.parent / target).exists()]
    assert not missing, missing
