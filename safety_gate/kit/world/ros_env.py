# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A loopback-only ROS 2 environment for tests, benchmarks and the demo.

Every process started by our tools gets: DDS confined to 127.0.0.1 (a Fast DDS
profile plus ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST), its own ROS_DOMAIN_ID so
parallel runs never cross-talk, and ROS_HOME / ROS_LOG_DIR in a scratch
directory so nothing lands in ~/.ros.
"""

import os
from pathlib import Path
import random
from typing import Mapping, Optional

from safety_gate.paths import config_file

# Domain IDs 1..100 keep every participant's ports inside the default range.
_DOMAIN_RANGE = (1, 100)


def pick_domain_id() -> int:
    """Return a domain id for one run; SystemRandom so forks never collide."""
    return random.SystemRandom().randint(*_DOMAIN_RANGE)


def loopback_env(scratch_dir: Path, domain_id: Optional[int] = None,
                 base: Optional[Mapping[str, str]] = None) -> dict:
    """Return an environment for ROS processes confined to loopback."""
    env = dict(os.environ if base is None else base)
    # Deprecated since Jazzy and it overrides the discovery range when set.
    env.pop('ROS_LOCALHOST_ONLY', None)
    scratch_dir = Path(scratch_dir)
    (scratch_dir / 'ros_home').mkdir(parents=True, exist_ok=True)
    (scratch_dir / 'ros_log').mkdir(parents=True, exist_ok=True)
    env.update({
        'ROS_DOMAIN_ID': str(pick_domain_id() if domain_id is None else domain_id),
        'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
        'FASTDDS_DEFAULT_PROFILES_FILE': str(config_file('fastdds_loopback.xml')),
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        'ROS_HOME': str(scratch_dir / 'ros_home'),
        'ROS_LOG_DIR': str(scratch_dir / 'ros_log'),
        'PYTHONUNBUFFERED': '1',
    })
    return env
