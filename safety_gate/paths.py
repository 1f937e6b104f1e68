# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Locate the package's share files in an install or a source checkout."""

import os
from pathlib import Path

PACKAGE = 'safety_gate'


def share_dir() -> Path:
    """Return the directory holding config/ and launch/.

    An ament install wins, so a colcon workspace uses its own copies; a source
    checkout (editable install) falls back to the repository root.
    """
    if os.environ.get('AMENT_PREFIX_PATH'):
        try:
            from ament_index_python.packages import get_package_share_directory
            return Path(get_package_share_directory(PACKAGE))
        except (ImportError, LookupError):
            pass
    return Path(__file__).resolve().parent.parent


def config_file(name: str) -> Path:
    """Return the path of a file shipped in the package's config/ directory."""
    path = share_dir() / 'config' / name
    if not path.is_file():
        raise FileNotFoundError(f'{PACKAGE}: no config file {path}')
    return path
