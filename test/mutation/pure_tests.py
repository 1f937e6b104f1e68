# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The pure tests and the pytest options both mutation runs use, read from setup.cfg.

setup.cfg's ``[mutmut]`` section is the one place that lists them: mutmut reads
it, and so does ``make mutation-sample``.
"""

import configparser
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parent.parent.parent


def _option(name: str) -> List[str]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / 'setup.cfg')
    return [line for line in parser.get('mutmut', name).split('\n') if line]


def pure_test_files() -> List[str]:
    """Return the pure test files (they start no ROS node), relative to the root."""
    return _option('pytest_add_cli_args_test_selection')


def pytest_options() -> List[str]:
    """Return the pytest options that keep ROS out of the run."""
    return _option('pytest_add_cli_args')


def mutated_modules() -> List[str]:
    """Return the modules mutated, relative to the root."""
    return _option('only_mutate')
