# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Check a decision trace: JSON, hash chain, seq numbering, config hashes and HMACs.

The files may be given in any order; they are put oldest first by following
the hash chain from file to file, or by rotation suffix (``trace.jsonl.2``,
``.1``, ``trace.jsonl``) when the chain cannot order them.

Rules (see ``safety_gate.trace_format`` for the line format):

* every line is a JSON object with a 64-hex ``prev_sha256`` and an integer ``seq``;
* each ``prev_sha256`` is the sha256 of the line before it;
* each ``seq`` is the one before plus 1, except at a record with
  ``"chain_start": true`` (the gate restarted), whose ``seq`` is 0;
* a config record (the first record of every chain, see ``safety_gate.trace_record``)
  carries the hash of its own parameters, and every decision after it names
  that hash;
* given known configs, each ``config_sha256`` is one of them;
* given a key, each line ends in a valid ``hmac_sha256``;
* there is at least one decision record: an empty trace verifies nothing.

Rotated files may be gzip-compressed (``trace.jsonl.1.gz``); they are read as
they are, and the chain runs through them unchanged.

A broken link is explained from the whole trace: a record whose predecessor
sits elsewhere was reordered, a record nobody links to was inserted, a
predecessor whose hash vanished while ``seq`` runs on was edited, and a ``seq``
jump over a vanished hash is a removal (or ``lost`` when the writer recorded
the loss itself in ``lost_before``).

Limits: without a key, whoever edits a record can rewrite every hash after it;
the oldest file may start mid-chain (rotation deletes old files), so records
removed from the very start or the very end cannot be told from rotation or
from a trace that simply ended. Compare the tip hash in the report with the
``last_sha256`` the gate reported to pin the end.
"""

import argparse
import bisect
from collections import Counter
from dataclasses import dataclass, field
import hashlib
import hmac
import json
from pathlib import Path
import re
import sys
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from safety_gate import registry
from safety_gate.config import config_sha256, load_yaml, NAMESPACE_HELP, params_sha256
from safety_gate.errors import user_error
from safety_gate.trace_file import GZIP_SUFFIX, open_trace
from safety_gate.trace_format import hmac_hex, load_hmac_key, split_signature
import yaml

KINDS = {
    'bad-json': 'the line is not a trace record (corrupt or cut)',
    'edited': 'the record changed after it was written',
    'removed': 'records are missing',
    'lost': 'the writer itself recorded that it lost records (queue full or write error)',
    'reordered': 'the record is out of order',
    'inserted': 'the record is not part of the hash chain',
    'bad-seq': 'seq is not consecutive although the hash chain is intact',
    'unknown-config': 'config_sha256 is not one of the given configs, or not that of '
                      "the trace's config record",
    'bad-config': "a config record's hash does not match its parameters",
    'bad-hmac': 'the HMAC is missing or wrong',
}

_HEX64 = re.compile(r'[0-9a-f]{64}')
_ZERO = bytes(32)


@dataclass
class Problem:
    """One finding, located by file, line number and seq."""

    kind: str
    path: str
    line: int
    seq: Optional[int]
    detail: str
    count: int = 1
    last: Optional[Tuple[str, int, Optional[int]]] = None

    def __str__(self) -> str:
        """Return ``file:line seq N: kind: detail`` plus the extent of a run."""
        text = f'{self.path}:{self.line} seq {_seq(self.seq)}: {self.kind}: {self.detail}'
        if self.last is not None:
            path, line, seq = self.last
            text += f' (x{self.count}, through {path}:{line} seq {_seq(seq)})'
        return text


@dataclass
class VerifyReport:
    """The outcome of ``verify``: problems (empty when clean) and a summary."""

    files: List[Path]
    records: int = 0
    problems: List[Problem] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    first_seq: Optional[int] = None
    last_seq: Optional[int] = None
    chain_starts: int = 0
    last_sha256: Optional[str] = None
    hmac_checked: bool = False
    decisions: int = 0
    configs: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when no problem was found and there was something to check."""
        return not self.problems and self.decisions > 0


@dataclass(slots=True)
class _Line:
    path: str
    number: int
    digest: bytes
    prev: Optional[bytes] = None  # None: not a trace record
    seq: Optional[int] = None
    chain_start: bool = False
    lost_before: int = 0
    signed: bool = False
    config_sha256: Optional[str] = None
    is_config: bool = False
    is_spi: bool = False
    issues: Optional[List[Tuple[str, str]]] = None

    def issue(self, kind: str, detail: str) -> None:
        if self.issues is None:
            self.issues = []
        self.issues.append((kind, detail))


def _seq(seq: Optional[int]) -> str:
    return '?' if seq is None else str(seq)


# ---------------------------------------------------------------- reading

def _read_file(path: Path, known_configs: Optional[Set[str]],
               hmac_key: Optional[bytes]) -> List[_Line]:
    lines = []
    with open_trace(path) as file:
        for number, raw in enumerate(file, start=1):
            raw = raw[:-1] if raw.endswith(b'\n') else raw
            line = _Line(str(path), number, hashlib.sha256(raw).digest())
            _parse(line, raw, known_configs)
            if hmac_key is not None and line.prev is not None:
                _check_hmac(line, raw, hmac_key)
            lines.append(line)
    return lines


def _parse(line: _Line, raw: bytes, known_configs: Optional[Set[str]]) -> None:
    try:
        record = json.loads(raw)
    except ValueError as exc:
        line.issue('bad-json', f'not JSON ({exc})' if raw else 'empty line')
        return
    if not isinstance(record, dict):
        line.issue('bad-json', 'not a JSON object')
        return
    prev, seq = record.get('prev_sha256'), record.get('seq')
    if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
        line.issue('bad-json', 'no valid prev_sha256')
        return
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        line.issue('bad-json', 'no valid seq')
        return
    line.prev, line.seq = bytes.fromhex(prev), seq
    line.chain_start = record.get('chain_start') is True
    lost_before = record.get('lost_before', 0)
    line.lost_before = lost_before if isinstance(lost_before, int) else 0
    line.signed = 'hmac_sha256' in record
    config = record.get('config_sha256')
    line.config_sha256 = config if isinstance(config, str) else None
    line.is_spi = 'spi' in record
    if 'config' in record:
        line.is_config = True
        params = record['config']
        registry_sha256 = record.get('registry_sha256', '')
        if not isinstance(params, dict) or not isinstance(registry_sha256, str) or (
                params_sha256(params, registry_sha256) != config):
            line.issue('bad-config', 'config_sha256 is not the hash of the parameters in '
                       'this record (edited, or written by another version)')
    if known_configs is not None:
        # the str-or-None value: a list or object here is unhashable in the set
        if line.config_sha256 not in known_configs:
            line.issue('unknown-config', f'config_sha256 {config} is not one of the given configs'
                       if config else 'no config_sha256')


def _check_hmac(line: _Line, raw: bytes, key: bytes) -> None:
    """Check the HMAC over the exact bytes of the line without its hmac member."""
    parts = split_signature(raw)
    if parts is None:
        line.issue('bad-hmac', 'no hmac_sha256 as the last field')
        return
    signed, mac = parts
    if not hmac.compare_digest(hmac_hex(key, signed).encode(), mac):
        line.issue('bad-hmac', 'hmac_sha256 does not match (wrong key or changed record)')


# ---------------------------------------------------------------- ordering

def _rotation_index(path: Path) -> int:
    name = path.name[:-len(GZIP_SUFFIX)] if path.name.endswith(GZIP_SUFFIX) else path.name
    suffix = name.rpartition('.')[2]
    return int(suffix) if suffix.isdigit() else 0


def _order(files: Dict[Path, List[_Line]]) -> List[Path]:
    """Return the files oldest first: along the hash chain if it links them all."""
    by_suffix = sorted(files, key=lambda path: (-_rotation_index(path), str(path)))
    filled = [path for path in by_suffix if files[path]]
    after: Dict[bytes, List[Path]] = {}
    for path in filled:
        first = files[path][0].prev
        if first is not None:
            after.setdefault(first, []).append(path)
    tails = {files[path][-1].digest for path in filled}
    heads = [path for path in filled if files[path][0].prev not in tails]
    if len(heads) != 1:
        return by_suffix
    chain, seen = [heads[0]], {heads[0]}
    while True:
        following = after.get(files[chain[-1]][-1].digest, [])
        if len(following) != 1 or following[0] in seen:
            break
        chain.append(following[0])
        seen.add(following[0])
    if len(chain) != len(filled):
        return by_suffix
    return chain + [path for path in by_suffix if not files[path]]


# ---------------------------------------------------------------- the chain

class _Chain:
    """Explain every broken link of the ordered lines as a located problem."""

    def __init__(self, lines: List[_Line]) -> None:
        self.lines = lines
        self.by_hash: Dict[bytes, List[int]] = {}
        for index, line in enumerate(lines):
            self.by_hash.setdefault(line.digest, []).append(index)
        self.referenced = Counter(line.prev for line in lines if line.prev is not None)
        self.found: Dict[int, Tuple[str, str]] = {}
        self.notes: List[str] = []

    def where(self, index: int) -> str:
        line = self.lines[index]
        return f'{line.path}:{line.number}'

    def flag(self, index: int, kind: str, detail: str) -> None:
        self.found.setdefault(index, (kind, detail))

    def expected_seq(self, index: int) -> Optional[int]:
        line = self.lines[index]
        if line.chain_start:
            return 0
        before = self.lines[index - 1] if index else None
        return None if before is None or before.seq is None else before.seq + 1

    def seq_breaks(self, index: int) -> bool:
        expected = self.expected_seq(index)
        return expected is not None and self.lines[index].seq != expected

    def run(self) -> Dict[int, Tuple[str, str]]:
        for index, line in enumerate(self.lines):
            if line.prev is None:
                continue  # reported as bad-json; its hash still links the next line
            before = self.lines[index - 1] if index else None
            if before is not None and line.prev == before.digest:
                self.check_seq(index)
            elif line.prev == _ZERO:
                self.fresh_chain(index)
            elif line.prev not in self.by_hash:
                self.unknown_predecessor(index)
            else:
                self.misplaced(index)
        return self.found

    def check_seq(self, index: int) -> None:
        """Check seq where the hash link is intact."""
        line, expected = self.lines[index], self.expected_seq(index)
        if expected is None or line.seq == expected:
            return
        follower = self.lines[index + 1] if index + 1 < len(self.lines) else None
        if follower is not None and follower.prev != line.digest:
            return  # the follower's broken link shows this record was edited
        if line.seq > expected and line.lost_before == line.seq - expected:
            self.flag_gap(index, expected)
        elif line.chain_start:
            self.flag(index, 'bad-seq', f'a chain start must have seq 0, not {line.seq}')
        else:
            self.flag(index, 'bad-seq', f'seq {line.seq} follows seq {expected - 1} '
                      'although the hash chain is intact')

    def fresh_chain(self, index: int) -> None:
        line = self.lines[index]
        if index:
            self.flag(index, 'removed', 'a new chain starts here without linking to the record '
                      f'before it ({self.where(index - 1)}): earlier records were removed or '
                      'the trace files were replaced between runs')
        elif line.seq:
            self.flag_gap(index, 0)

    def unknown_predecessor(self, index: int) -> None:
        """Explain a link to a hash that no given line has."""
        line = self.lines[index]
        if not index:
            if line.lost_before:
                self.flag(0, 'lost', f'the writer lost {line.lost_before} record(s) before it')
            else:
                self.notes.append(f'the trace starts mid-chain at {self.where(0)} seq '
                                  f'{line.seq}: older records were rotated away or not given')
            return
        before, expected = self.lines[index - 1], self.expected_seq(index)
        if self.referenced[before.digest]:
            self.flag(index, 'inserted', 'does not link to the record before it, which has '
                      'its own successor')
        elif before.prev is None:
            return  # the line before is corrupt and already reported
        elif line.chain_start:
            # seq restarts here, so it cannot tell a removal from an edit
            self.flag(index, 'removed', 'this chain start does not link to the record before '
                      'it: the end of the previous run was removed or its last record edited')
        elif line.seq == expected or self.seq_breaks(index - 1):
            self.flag(index - 1, 'edited', 'its sha256 no longer matches prev_sha256 of the '
                      f'next record ({self.where(index)})')
        elif expected is not None and line.seq > expected:
            self.flag_gap(index, expected)
        else:
            self.flag(index, 'removed', f'seq goes back from {before.seq} to {line.seq} and '
                      'the record this one links to is missing (the start of a later run '
                      'was removed)')

    def misplaced(self, index: int) -> None:
        """Explain a link to a line that exists elsewhere in the trace."""
        line = self.lines[index]
        positions = self.by_hash[line.prev]
        earlier = bisect.bisect_left(positions, index)
        origin = positions[earlier - 1] if earlier else positions[0]
        if origin > index:
            self.flag(index, 'reordered', 'comes before its predecessor seq '
                      f'{_seq(self.lines[origin].seq)} at {self.where(origin)}')
            return
        first_between = origin + 1
        if self.lines[first_between].prev == line.prev:
            # Two records name the same predecessor: the one nobody links to is the
            # forgery; if both or neither are linked to, the later one is.
            unlinked_first = not self.referenced[self.lines[first_between].digest]
            intruder = first_between if unlinked_first and self.referenced[line.digest] else index
            other = index if intruder == first_between else first_between
            self.flag(intruder, 'inserted', f'a second successor of {self.where(origin)} '
                      f'(the chained one is {self.where(other)})')
            return
        for between in range(first_between, index):
            if self.lines[between].prev is not None and not self.referenced[
                    self.lines[between].digest]:
                self.flag(between, 'inserted', f'not in the hash chain ({self.where(index)} '
                          f'follows {self.where(origin)})')

    def flag_gap(self, index: int, first: int) -> None:
        """Flag the records seq first..seq-1 missing before a line: lost if the writer said so."""
        line = self.lines[index]
        count = line.seq - first
        span = f'{count} record{"s" if count > 1 else ""} (seq {first}' + (
            f'..{line.seq - 1})' if count > 1 else ')')
        if line.lost_before == count:
            self.flag(index, 'lost', f'the writer lost {span}')
        else:
            self.flag(index, 'removed', f'missing before this record: {span}')


# ---------------------------------------------------------------- report

def _collect(lines: List[_Line], chain: Dict[int, Tuple[str, str]]) -> List[Problem]:
    """Merge line and chain findings in trace order, folding runs of the same finding."""
    problems: List[Problem] = []
    open_runs: Dict[Tuple[str, str], Tuple[int, Problem]] = {}
    for index, line in enumerate(lines):
        found = list(line.issues or ())
        if index in chain:
            found.append(chain[index])
        for kind, detail in found:
            run = open_runs.get((kind, detail))
            if run is not None and run[0] == index - 1:
                run[1].count += 1
                run[1].last = (line.path, line.number, line.seq)
                open_runs[(kind, detail)] = (index, run[1])
                continue
            problem = Problem(kind, line.path, line.number, line.seq, detail)
            problems.append(problem)
            open_runs[(kind, detail)] = (index, problem)
    return problems


def verify(paths: Sequence[Path], known_configs: Optional[Iterable[str]] = None,
           hmac_key: Optional[bytes] = None) -> VerifyReport:
    """Check the trace files and return every problem found, located.

    Raise OSError if a file cannot be read. ``known_configs`` None skips the
    config check; ``hmac_key`` None skips the HMAC check.
    """
    known = None if known_configs is None else {h.lower() for h in known_configs}
    files: Dict[Path, List[_Line]] = {}
    for path in map(Path, paths):
        if path not in files:
            files[path] = _read_file(path, known, hmac_key)
    order = _order(files)
    lines = [line for path in order for line in files[path]]
    chain = _Chain(lines)
    report = VerifyReport(files=order, records=len(lines), hmac_checked=hmac_key is not None)
    report.configs = _check_configs(lines)
    report.decisions = sum(line.seq is not None and not (line.is_config or line.is_spi)
                           for line in lines)
    report.problems = _collect(lines, chain.run())
    report.notes = chain.notes
    if not report.configs:
        report.notes.append('no config record (the files start mid-chain, or a gate before '
                            'config records wrote them): config_sha256 checked only against '
                            '--config')
    seqs = [line.seq for line in lines if line.seq is not None]
    if seqs:
        report.first_seq, report.last_seq = seqs[0], seqs[-1]
    report.chain_starts = sum(line.chain_start for line in lines)
    if lines:
        report.last_sha256 = lines[-1].digest.hex()
        if lines[0].prev == _ZERO:
            report.notes.insert(0, 'the trace starts at the beginning of a fresh chain')
    signed = sum(line.signed for line in lines)
    if hmac_key is None and signed:
        report.notes.append(f'{signed} records carry hmac_sha256 but no key was given: '
                            'HMACs not checked')
    return report


def read_records(report: VerifyReport) -> Iterator[Tuple[str, dict]]:
    """Yield ``(file:line, record)`` for every trace record of a verified trace, oldest first.

    The files are read in the order :func:`verify` found (along the hash
    chain); a line that is not a record is passed over, as the report names it.
    Every tool that reads a trace's records (``replay``, ``export``) reads them here.
    """
    for path in report.files:
        with open_trace(path) as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and 'seq' in record:
                    yield f'{path}:{number}', record


def _check_configs(lines: List[_Line]) -> List[str]:
    """Check each decision's config_sha256 against the config record in force; return hashes.

    A chain start without a config record (an older gate) leaves no config in force.
    """
    in_force: Optional[_Line] = None
    seen: List[str] = []
    for line in lines:
        if line.prev is None:
            continue
        if line.is_config:
            in_force = line
            if line.config_sha256 not in seen:
                seen.append(line.config_sha256)
        elif line.chain_start:
            in_force = None
        elif in_force is not None and line.config_sha256 != in_force.config_sha256:
            line.issue('unknown-config', f'config_sha256 {line.config_sha256} is not that of '
                       f'the config record at {in_force.path}:{in_force.number}')
    return seen


def format_report(report: VerifyReport) -> str:
    """Return a human-readable report: summary, notes and one line per problem."""
    seqs = (f'first seq {report.first_seq}, last seq {report.last_seq}'
            if report.first_seq is not None else 'no seq')
    out = [f'trace: {len(report.files)} file(s), {report.records} records '
           f'({report.decisions} decisions), {seqs}, {report.chain_starts} chain start(s)']
    out += [f'  file: {path}' for path in report.files]
    out += [f'  config sha256: {sha}' for sha in report.configs]
    if report.last_sha256:
        out.append(f'  tip sha256: {report.last_sha256}')
    out.append(f'  hmac: {"checked" if report.hmac_checked else "not checked"}')
    out += [f'  note: {note}' for note in report.notes]
    if report.ok:
        out.append('OK: no problems found')
    elif not report.problems:
        out.append('FAILED: nothing to verify: no decision records')
    else:
        out.append(f'FAILED: {len(report.problems)} problem(s)')
        out += [f'  {problem}' for problem in report.problems]
    return '\n'.join(out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='safety-gate verify',
        description='Verify a safety_gate decision trace (hash chain, seq, configs, HMAC). '
                    'Exit 0 when clean, 1 on any problem, 2 on a usage error.',
        epilog='problem kinds: ' + '; '.join(f'{k}: {v}' for k, v in KINDS.items()))
    parser.add_argument('traces', nargs='+', type=Path, metavar='TRACE',
                        help='trace files, current and rotated, in any order')
    parser.add_argument('--config-hash', action='append', default=[], metavar='HEX',
                        help='an accepted config_sha256 (repeatable)')
    parser.add_argument('--config', action='append', default=[], type=Path, metavar='FILE',
                        help='a params file whose config hash is accepted (repeatable)')
    parser.add_argument('--namespace', default='', metavar='NS', help=NAMESPACE_HELP)
    parser.add_argument('--hmac-key-file', default='', metavar='FILE',
                        help='file holding the HMAC key (default: $SAFETY_GATE_TRACE_HMAC_KEY)')
    return parser


def _usage_error(message: str) -> int:
    return user_error('verify', message)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``safety-gate verify``; return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    known: Optional[Set[str]] = None
    if args.config_hash or args.config:
        known = set()
        for value in args.config_hash:
            if not _HEX64.fullmatch(value.lower()):
                return _usage_error(f'--config-hash {value!r} is not 64 hex digits')
            known.add(value)  # verify() compares in lower case
        for path in args.config:
            try:
                cfg = load_yaml(path, args.namespace)
                known.add(config_sha256(cfg, registry.of_config(cfg, path).sha256))
            except (OSError, ValueError, yaml.YAMLError) as exc:
                return _usage_error(f'--config {path}: {exc}')
    try:
        key = load_hmac_key(args.hmac_key_file)
    except (OSError, ValueError) as exc:
        return _usage_error(f'cannot read the HMAC key: {exc}')
    try:
        report = verify(args.traces, known, key)
    except (OSError, EOFError) as exc:  # EOFError: a cut .gz file
        return _usage_error(str(exc))
    print(format_report(report))
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
