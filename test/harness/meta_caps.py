# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""The meta parser's size caps that the meta tests parse under: the config defaults."""

MAX_BYTES = 16384
MAX_REASONING = 2000
