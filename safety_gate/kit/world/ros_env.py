# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""A loopback-only ROS 2 environment for tests, benchmarks and the demo.

Every process started by our tools gets: DDS confined to 127.0.0.1 (a Fast DDS
profile plus ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST), its own ROS_DOMAIN_ID so
parallel runs never cross-talk, and ROS_HOME / ROS_LOG_DIR in a scratch
directory so nothing lands in ~/.ros.

Parallel campaigns lease their domain ids instead (:func:`lease_domain`): a
lock file per id under the system temp directory, held with ``flock`` for
the whole run, so two runs on one host (in any process) never share a domain,
and a crashed run frees its id with its process.
"""

import contextlib
import errno
import fcntl
import os
from pathlib import Path
import random
import tempfile
from typing import Iterator, Mapping, Optional, Tuple

from safety_gate.paths import config_file

# Domain IDs 1..100 keep every participant's ports inside the default range.
_DOMAIN_RANGE = (1, 100)
# Fast DDS with the default port parameters (port base 7400, domain gain 250) fits domain
# ids 0..232 below port 65535; campaigns lease from above the tests' random range.
DOMAIN_ID_LIMITS = (0, 232)
CAMPAIGN_DOMAINS = (101, 232)
LOCK_DIR = Path(tempfile.gettempdir()) / 'safety_gate_domains'


def parse_domain_range(text: str) -> Tuple[int, int]:
    """Return ``LOW-HIGH`` as (low, high); ValueError unless inside DOMAIN_ID_LIMITS."""
    try:
        low, high = (int(part) for part in text.split('-'))
    except ValueError:
        raise ValueError(f'domain range {text!r} is not LOW-HIGH, e.g. 101-232') from None
    if not DOMAIN_ID_LIMITS[0] <= low <= high <= DOMAIN_ID_LIMITS[1]:
        raise ValueError(f'domain range {text!r} is outside {DOMAIN_ID_LIMITS[0]}-'
                         f'{DOMAIN_ID_LIMITS[1]} (Fast DDS default ports) or reversed')
    return low, high


@contextlib.contextmanager
def lease_domain(domains: Tuple[int, int] = CAMPAIGN_DOMAINS,
                 lock_dir: Path = LOCK_DIR) -> Iterator[int]:
    """Hold a domain id of ``domains`` (inclusive) no other lease on this host holds.

    Raise RuntimeError when every id is taken. The ids are tried from a random
    start so that concurrent callers rarely contend for the same lock.
    """
    low, high = domains
    lock_dir.mkdir(parents=True, exist_ok=True)
    ids = list(range(low, high + 1))
    start = random.SystemRandom().randrange(len(ids))
    for domain in ids[start:] + ids[:start]:
        fd = os.open(lock_dir / f'{domain}.lock', os.O_RDONLY | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                continue
            raise
        try:
            yield domain
        finally:
            os.close(fd)  # closing the descriptor releases the lock
        return
    raise RuntimeError(f'every ROS domain id in {low}-{high} is leased ({lock_dir})')


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
