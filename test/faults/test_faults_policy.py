# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The example SROS2 policy grants each input of the gate to exactly one enclave.

A rogue publisher is a fault SROS2 stops before the gate sees it, but only if
the policy says so: only the planner may publish proposals, only the operator
may publish the e-stop and call reset, only the base may publish odometry,
and only the gate may publish cmd_vel. Checked on security/safety_gate.policy.xml
with the XInclude of the common node profile resolved.
"""

from collections import defaultdict
from pathlib import Path
import xml.etree.ElementTree as ElementTree

import pytest

SECURITY = Path(__file__).resolve().parents[2] / 'security'
XINCLUDE = '{http://www.w3.org/2001/XInclude}include'


def _grants():
    """Return {(kind, name): {enclave paths}} for publish, subscribe, request and reply."""
    policy = ElementTree.parse(SECURITY / 'safety_gate.policy.xml').getroot()
    assert policy.get('version') == '0.2.0'
    grants = defaultdict(set)
    for enclave in policy.iter('enclave'):
        for profile in enclave.iter('profile'):
            rules = list(profile)
            for include in profile.iter(XINCLUDE):
                rules += list(ElementTree.parse(SECURITY / include.get('href')).getroot())
            for rule in rules:
                for kind in ('publish', 'subscribe', 'request', 'reply'):
                    if rule.get(kind) == 'ALLOW':
                        for name in rule:
                            grants[(kind, name.text)].add(enclave.get('path'))
    return grants


@pytest.mark.parametrize('kind, name, enclave', [
    ('publish', 'planner/cmd_vel', '/safety_gate/planner'),
    ('publish', 'planner/meta', '/safety_gate/planner'),
    ('publish', 'safety_gate/estop', '/safety_gate/operator'),
    ('request', 'safety_gate/reset', '/safety_gate/operator'),
    ('publish', 'odom', '/safety_gate/base'),
    ('publish', 'imu', '/safety_gate/base'),
    ('publish', 'cmd_vel', '/safety_gate/gate'),
    ('reply', 'safety_gate/reset', '/safety_gate/gate'),
])
def test_only_one_enclave_may_drive_each_input(kind, name, enclave):
    assert _grants()[(kind, name)] == {enclave}


def test_the_gate_may_use_its_whole_interface():
    grants = _grants()
    gate = '/safety_gate/gate'
    for topic in ('planner/cmd_vel', 'planner/meta', 'odom', 'imu', 'safety_gate/estop',
                  '/clock', '/parameter_events'):
        assert gate in grants[('subscribe', topic)], topic
    for topic in ('cmd_vel', 'safety_gate/decision', 'safety_gate/state', '/diagnostics',
                  'rosout'):
        assert gate in grants[('publish', topic)], topic
