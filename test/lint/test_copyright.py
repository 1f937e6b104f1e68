# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Check that every Python source starts with the license header.

ament_copyright is not published on PyPI, so this is the same check written
for the one header this package uses.
"""

from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADER = re.compile(
    r'# Copyright \d{4}(-\d{4})? The safety_gate Authors\n'
    r'# SPDX-License-Identifier: Apache-2\.0\n')


def _sources():
    yield ROOT / 'setup.py'
    for folder in ('safety_gate', 'launch', 'test', 'examples'):
        yield from sorted((ROOT / folder).rglob('*.py'))


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    missing = [str(path.relative_to(ROOT)) for path in _sources()
               if not HEADER.match(path.read_text(encoding='utf-8'))]
    assert not missing, 'Files without the license header:\n' + '\n'.join(missing)
