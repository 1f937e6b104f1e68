# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Check the docstrings with ament_pep257, as ROS 2 CI does."""

from pathlib import Path

from ament_pep257.main import main
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257(monkeypatch):
    monkeypatch.chdir(ROOT)
    # The ament convention wants a multi-line summary on the line after the
    # quotes (D213); this package keeps it on the first line (D212) instead.
    rc = main(argv=['.', 'test', '--add-ignore', 'D213', '--add-select', 'D212'])
    assert rc == 0, 'Found code style errors / warnings'
