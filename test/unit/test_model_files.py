# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Tests of the background weight-file hashing (safety_gate.model_files)."""

import hashlib
import time

from safety_gate.model_files import FileHasher, split_paths


def test_the_files_hash_as_their_concatenated_bytes_in_small_chunks(tmp_path):
    first, second = tmp_path / 'a.bin', tmp_path / 'b.bin'
    first.write_bytes(b'x' * 1000)
    second.write_bytes(bytes(range(256)) * 7)
    seen = []
    hasher = FileHasher([str(first), str(second)], chunk_bytes=64,
                        on_progress=lambda done, total: seen.append((done, total)))
    hasher.run()
    expected = hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert hasher.result.sha256 == expected and hasher.result.error is None
    assert hasher.progress() == (2792, 2792)
    # About every tenth of the bytes, in order, ending with all of them.
    assert 9 <= len(seen) <= 11 and seen == sorted(seen) and seen[-1] == (2792, 2792)


def test_one_file_hashes_as_sha256sum_does_in_a_background_thread(tmp_path):
    path = tmp_path / 'model.safetensors'
    path.write_bytes(b'weights' * 100000)
    hasher = FileHasher(split_paths(f':{path}:'))
    hasher.start()
    deadline = time.monotonic() + 10.0
    while hasher.result is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hasher.result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unreadable_file_is_a_result_with_an_error(tmp_path):
    hasher = FileHasher([str(tmp_path / 'missing.bin')])
    hasher.run()
    assert hasher.result.sha256 == '' and 'missing.bin' in hasher.result.error


def test_a_stopped_hash_gives_no_result(tmp_path):
    path = tmp_path / 'model.bin'
    path.write_bytes(b'0' * 4096)
    hasher = FileHasher([str(path)], chunk_bytes=16)
    hasher.stop()
    hasher.run()
    assert hasher.result is None
