# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""ROS domain leases: parallel runs on one host never share a domain id."""

import subprocess
import sys
import time

import pytest
from safety_gate.kit.world.ros_env import lease_domain, parse_domain_range


def test_concurrent_leases_get_distinct_ids_and_run_out_loudly(tmp_path):
    with lease_domain((150, 152), tmp_path) as a, lease_domain((150, 152), tmp_path) as b:
        with lease_domain((150, 152), tmp_path) as c:
            assert sorted({a, b, c}) == [150, 151, 152]
            with pytest.raises(RuntimeError, match='every ROS domain id in 150-152'):
                with lease_domain((150, 152), tmp_path):
                    pass
    # All released: the whole range is free again.
    with lease_domain((150, 150), tmp_path) as again:
        assert again == 150


def test_a_lease_of_another_process_is_respected_until_it_dies(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import sys, time; from pathlib import Path; '
         'from safety_gate.kit.world.ros_env import lease_domain; '
         f'cm = lease_domain((150, 150), Path({str(tmp_path)!r})); cm.__enter__(); '
         'print("held", flush=True); time.sleep(60)'], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        with pytest.raises(RuntimeError):
            with lease_domain((150, 150), tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5.0
    while True:  # the kernel drops a dead process's locks
        try:
            with lease_domain((150, 150), tmp_path) as domain:
                assert domain == 150
            break
        except RuntimeError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


@pytest.mark.parametrize('text, message', [
    ('101-232', None), ('0-0', None), ('5', 'LOW-HIGH'), ('a-b', 'LOW-HIGH'),
    ('100-233', 'outside 0-232'), ('160-101', 'reversed'),
])
def test_domain_ranges_stay_inside_what_fast_dds_allows(text, message):
    if message is None:
        low, high = parse_domain_range(text)
        assert 0 <= low <= high <= 232
    else:
        with pytest.raises(ValueError, match=message):
            parse_domain_range(text)
