# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Check the sources with flake8 and the ament configuration, as ROS 2 CI does."""

from pathlib import Path

from ament_flake8.main import main_with_errors
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8(monkeypatch):
    # ament_flake8 checks the current directory, so pin it to the repository.
    monkeypatch.chdir(ROOT)
    rc, errors = main_with_errors(argv=[])
    assert rc == 0, f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)
