# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Statistics, the machine description, the targets, and the BENCHMARKS.md tables."""

import importlib.metadata
import json
import os
from pathlib import Path
import platform
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy
import psutil
import rclpy

BEGIN = '<!-- bench:begin -->'
END = '<!-- bench:end -->'
ARM_TITLES = {'relay': 'null relay', 'gate': 'gate', 'gate_trace_off': 'gate, trace file off',
              'relay_reused': "null relay on the gate's executor"}
# The trajectory-mode benchmark's messages and arms (rig.relay_arm, rig.gate_arm names).
PLAN_MESSAGES = {'path': 'nav_msgs/Path',
                 'autoware_trajectory': 'autoware_planning_msgs/Trajectory'}
PLAN_CORE_P99_US = 300.0
PLAN_LATENCY_RATIO = 1.3  # gate p50 over its null relay's p50, same message, same run
_IDLE_FOREIGN_CORES = 0.1  # other processes' mean CPU use below which the machine is idle


def summarize(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Return n, min, p50, p99, max and mean of ``values`` (None when empty)."""
    if not values:
        return {'n': 0, 'min': None, 'p50': None, 'p99': None, 'max': None, 'mean': None}
    array = numpy.asarray(values, dtype=float)
    p50, p99 = numpy.percentile(array, [50, 99])
    return {'n': len(values), 'min': float(array.min()), 'p50': float(p50), 'p99': float(p99),
            'max': float(array.max()), 'mean': float(array.mean())}


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """Return numerator / denominator, or None when either is missing or zero."""
    if not numerator or not denominator:
        return None
    return numerator / denominator


def _ros_distro() -> str:
    for dist in importlib.metadata.distributions():
        name = dist.metadata['Name'] or ''
        if name.startswith('ros-') and name.endswith('-rclpy') and name.count('-') == 2:
            return f'{name.split("-")[1].capitalize()} (rclpy {dist.version}, PyPI wheels)'
    return 'unknown'


def machine() -> Dict[str, Any]:
    """Describe the machine, the ROS distro, the RMW and Python."""
    cpu_model = 'unknown'
    with open('/proc/cpuinfo') as cpuinfo:
        for line in cpuinfo:
            if line.startswith('model name'):
                cpu_model = line.split(':', 1)[1].strip()
                break
    return {
        'cpu': cpu_model,
        'cores': os.cpu_count(),
        'memory_gb': round(psutil.virtual_memory().total / 2**30, 1),
        'kernel': platform.release(),
        'python': platform.python_version(),
        'ros': _ros_distro(),
        'rmw': rclpy.get_rmw_implementation_identifier(),
        'dds': 'Fast DDS, UDPv4 on 127.0.0.1 only (config/fastdds_loopback.xml)',
    }


def busy_seconds() -> float:
    """Return the CPU seconds all processes have used so far, on all cores."""
    times = psutil.cpu_times()
    # Linux counts guest time in user too; steal is the hypervisor's, not a process's.
    not_busy = ('idle', 'iowait', 'steal', 'guest', 'guest_nice')
    return sum(value for name, value in times._asdict().items() if name not in not_busy)


def own_cpu_seconds() -> float:
    """Return the CPU seconds of this process and of its children that were waited for."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def other_processes(sample_s: float = 1.0, top: int = 3) -> List[str]:
    """Return the busiest processes other than this one over ``sample_s`` seconds."""
    procs = [p for p in psutil.process_iter(['name', 'cmdline']) if p.pid != os.getpid()]
    for proc in procs:
        try:
            proc.cpu_percent(None)
        except psutil.Error:
            pass
    psutil.cpu_percent(None)
    time.sleep(sample_s)
    usage = []
    for proc in procs:
        try:
            usage.append((proc.cpu_percent(None), proc.info['name'] or str(proc.pid)))
        except psutil.Error:
            pass
    usage.sort(reverse=True)
    return [f'{name} {percent:.0f}%' for percent, name in usage[:top] if percent >= 1.0]


# Ten times the 1 kHz soak's proposal rate: the headroom that lets the writer
# catch up after a slow disk moment before its queue fills and records are lost.
WRITER_RECORDS_PER_S = 10_000


def targets(results: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Evaluate the issue's targets on ``results``; each has name, goal, value and met."""
    found = []

    def add(name: str, goal: str, value: Optional[float], met: Optional[bool], unit: str = ''):
        found.append({'name': name, 'goal': goal, 'value': value, 'unit': unit, 'met': met})

    e2e = results.get('e2e', {})
    at_100 = e2e.get('100', {})
    if 'gate' in at_100 and 'relay' in at_100:
        for pct, limit in (('p50', 1.15), ('p99', 1.3)):
            value = ratio(at_100['gate']['latency_us'][pct], at_100['relay']['latency_us'][pct])
            add(f'100 Hz gate/relay latency {pct}', f'<= {limit}', value,
                None if value is None else value <= limit)
        value = ratio(at_100['gate']['cpu_percent'], at_100['relay']['cpu_percent'])
        add('100 Hz gate/relay CPU', '<= 2', value, None if value is None else value <= 2.0)
    at_1k = e2e.get('1000', {}).get('gate')
    soak = results.get('soak')
    if at_1k is not None or soak is not None:
        drops = (at_1k['drops'] if at_1k else 0) + (soak['drops'] if soak else 0)
        add('1 kHz drops (e2e and soak)', '0', drops, drops == 0)
    if soak is not None:
        lost = soak['trace_lost']
        add('1 kHz trace records lost (soak)', '0', lost, lost == 0)
        add('soak RSS growth', '< 10 MB', soak['rss_growth_mb'], soak['rss_growth_mb'] < 10.0,
            'MB')
    core = results.get('core')
    if core is not None:
        p99 = core['step_us']['p99']
        add('core p99 per decision', '<= 50 µs', p99, p99 <= 50.0, 'µs')
    core_plans = results.get('core_plans')
    if core_plans is not None:
        for kind in ('plan', 'tick'):
            p99 = core_plans[f'{kind}_us']['p99']
            add(f'trajectory core p99, {kind} decisions ({core_plans["plan_points"]} points)',
                f'<= {PLAN_CORE_P99_US:.0f} µs', p99,
                None if p99 is None else p99 <= PLAN_CORE_P99_US, 'µs')
    for rate, arms in results.get('plans', {}).items():
        for message, title in PLAN_MESSAGES.items():
            gate, relay = arms.get(f'gate_{message}'), arms.get(f'relay_{message}')
            if gate is None or relay is None:
                continue
            value = ratio(gate['latency_us']['p50'], relay['latency_us']['p50'])
            add(f'{rate} Hz {title.split("/")[1]} gate/relay latency p50',
                f'<= {PLAN_LATENCY_RATIO}', value,
                None if value is None else value <= PLAN_LATENCY_RATIO)
    writer = results.get('trace_writer')
    if writer is not None:
        rate = writer['records_per_s']
        add('trace writer alone', f'>= {WRITER_RECORDS_PER_S:,} records/s', rate,
            rate >= WRITER_RECORDS_PER_S and writer['lost'] == 0, 'records/s')
    watchdog = results.get('watchdog')
    if watchdog is not None and watchdog['reaction_ms']['p99'] is not None:
        limit = watchdog['budget_ms'] + 5.0
        p99 = watchdog['reaction_ms']['p99']
        add('watchdog p99', f'<= budget + 5 ms = {limit:.0f} ms', p99,
            p99 <= limit and not watchdog['failed'] and not watchdog['early'], 'ms')
    return found


# ---------------------------------------------------------------- Markdown

def _num(value: Optional[float], digits: int = 0) -> str:
    if value is None:
        return 'n/a'
    if isinstance(value, int):
        return str(value)
    return f'{value:,.{digits}f}'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> List[str]:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return lines + ['']


def _machine_lines(results: Dict[str, Any]) -> List[str]:
    m, load = results['machine'], results['load']
    foreign = load.get('foreign_cores')
    idle = 'n/a' if foreign is None else (
        'idle' if foreign < _IDLE_FOREIGN_CORES else 'NOT idle')
    others = ', '.join(load.get('busiest_before', [])) or 'none above 1%'
    return [
        f'Machine: {m["cpu"]}, {m["cores"]} cores, {m["memory_gb"]} GB, Linux '
        f'{m["kernel"]}; Python {m["python"]}; ROS 2 {m["ros"]}; RMW {m["rmw"]}; '
        f'{m["dds"]}.',
        '',
        f'Run: {results["started"]}, {results["duration_s"]:.0f} s, mode '
        f'`{results["mode"]}`. Machine load: 1-min load average {load["loadavg_before"]:.2f} '
        f'before the run; other processes used {_num(foreign, 2)} cores on average during '
        f'it ({idle}); busiest other processes before it: {others}.',
        '',
    ]


def _e2e_lines(e2e: Dict[str, Any]) -> List[str]:
    rows = []
    for rate, arms in e2e.items():
        relay = arms.get('relay')
        for name, arm in arms.items():
            lat = arm['latency_us']
            ratios = ['', '']
            if relay is not None and name != 'relay':
                ratios = [_num(ratio(lat[p], relay['latency_us'][p]), 2) for p in ('p50', 'p99')]
            rows.append([f'{rate} Hz', ARM_TITLES.get(name, name), _num(arm['sent']),
                         _num(arm['drops']), _num(lat['p50']), _num(lat['p99']),
                         _num(lat['max']), *ratios])
    return _table(['rate', 'path', 'sent', 'drops', 'p50 µs', 'p99 µs', 'max µs',
                   'p50 / relay', 'p99 / relay'], rows)


def _cpu_lines(e2e: Dict[str, Any]) -> List[str]:
    rows = []
    for rate, arms in e2e.items():
        cpu = {name: arm['cpu_percent'] for name, arm in arms.items()}
        rows.append([f'{rate} Hz', *(_num(cpu.get(name), 1) for name in ARM_TITLES),
                     _num(ratio(cpu.get('gate'), cpu.get('relay')), 2)])
    return _table(['rate', *(f'{title} CPU %' for title in ARM_TITLES.values()),
                   'gate / relay'], rows)


def _same_executor_lines(e2e: Dict[str, Any]) -> List[str]:
    rows = []
    for rate, arms in e2e.items():
        if 'gate' in arms and 'relay_reused' in arms:
            gate, relay = arms['gate'], arms['relay_reused']
            rows.append([f'{rate} Hz', *(
                _num(ratio(gate['latency_us'][p], relay['latency_us'][p]), 2)
                for p in ('p50', 'p99')),
                _num(ratio(gate['cpu_percent'], relay['cpu_percent']), 2)])
    if not rows:
        return []
    return ["The gate against the null relay spun by the gate's own executor "
            "(`ReusedWaitSetExecutor`), from the same blocks: what the gate's own work costs, "
            'without what its executor saves.', ''] + _table(
        ['rate', 'p50 latency ratio', 'p99 latency ratio', 'CPU ratio'], rows)


def _trace_cost_lines(e2e: Dict[str, Any]) -> List[str]:
    rows = []
    for rate, arms in e2e.items():
        if 'gate' in arms and 'gate_trace_off' in arms:
            on, off = arms['gate']['latency_us'], arms['gate_trace_off']['latency_us']
            rows.append([f'{rate} Hz', _num(on['p50']), _num(off['p50']), _num(on['p99']),
                         _num(off['p99']), _num(ratio(on['p99'], off['p99']), 2)])
    return _table(['rate', 'p50 µs, file on', 'p50 µs, file off', 'p99 µs, file on',
                   'p99 µs, file off', 'p99 on / off'], rows)


def _plans_lines(results: Dict[str, Any]) -> List[str]:
    """Return section 7: the trajectory-mode core, and plans end to end against their relays."""
    lines = ['### 7. Trajectory mode', '']
    core = results.get('core_plans')
    if core is not None:
        def row(what, key, cpu_key=None):
            cpu = core[cpu_key] if cpu_key else {}
            return [what, _num(core[key]['n']), _num(core[key]['p50'], 1),
                    _num(core[key]['p99'], 1), _num(core[key]['max'], 1),
                    _num(cpu.get('p50'), 1) if cpu else '', _num(cpu.get('p99'), 1) if cpu else '']
        rows = [row(f"`core.step` on a plan's arrival ({core['plan_points']} points)",
                    'plan_us', 'plan_cpu_us'),
                row('`core.step` on a tick, following the approved plan', 'tick_us',
                    'tick_cpu_us'),
                row('`core.step`, every decision', 'step_us'),
                row('`core.step` + `trace_record.decision_to_dict`, every decision',
                    'step_and_record_us')]
        mix = ', '.join(f'{k} {v}' for k, v in sorted(core['verdicts'].items()))
        lines += ['Decision core in trajectory mode (one CPU, in process):', '']
        lines += _table(['what is timed', 'decisions', 'p50 µs', 'p99 µs', 'max µs',
                         'CPU p50 µs', 'CPU p99 µs'], rows)
        lines += [f'Verdict mix: {mix}; {core["events"]:,} events '
                  f'({core["events_per_s"]:,.0f} events/s of step time).', '']
    for rate, arms in results.get('plans', {}).items():
        twist = arms.get('gate')
        rows, cpu = [], []
        for message, title in PLAN_MESSAGES.items():
            relay, gate = arms.get(f'relay_{message}'), arms.get(f'gate_{message}')
            for name, arm in (('null relay', relay), ('gate', gate)):
                if arm is None:
                    continue
                lat = arm['latency_us']
                ratios = ['', '']
                if arm is gate and relay is not None:
                    ratios = [_num(ratio(lat[p], relay['latency_us'][p]), 2)
                              for p in ('p50', 'p99')]
                rows.append([f'`{title}`', name, _num(arm['sent']), _num(arm['drops']),
                             _num(lat['p50']), _num(lat['p99']), _num(lat['max']), *ratios,
                             _num(arm['cpu_percent'], 1)])
            if gate is not None and twist is not None:
                cpu.append(f'{_num(ratio(gate["cpu_percent"], twist["cpu_percent"]), 2)} '
                           f'with `{title}`')
        if twist is not None:
            lat = twist['latency_us']
            rows.append(['`geometry_msgs/TwistStamped` (twist mode)', 'gate',
                         _num(twist['sent']), _num(twist['drops']), _num(lat['p50']),
                         _num(lat['p99']), _num(lat['max']), '', '',
                         _num(twist['cpu_percent'], 1)])
        lines += [f'Plans end to end at {rate} Hz (the gate publishing at its 50 Hz), '
                  'every arm in the same interleaved blocks:', '']
        lines += _table(['planner message', 'path', 'sent', 'drops', 'p50 µs', 'p99 µs',
                         'max µs', 'p50 / relay', 'p99 / relay', 'CPU %'], rows)
        if cpu:
            lines += [f'Gate CPU in trajectory mode over twist mode at the same rates: '
                      f'{"; ".join(cpu)}.', '']
    for message, reason in results.get('plans_skipped', {}).items():
        lines += [f'The `{PLAN_MESSAGES[message]}` arms did not run: {reason}', '']
    return lines


def markdown(results: Dict[str, Any]) -> str:
    """Return the generated part of BENCHMARKS.md (between the markers)."""
    lines = [BEGIN, '', '<!-- generated by `make bench` (python -m safety_gate.kit.bench); '
             'edit the text outside the markers -->', '']
    lines += _machine_lines(results)

    found = targets(results)
    if found:
        lines += ['### Targets', '']
        lines += _table(['target', 'goal', 'measured', 'met'], (
            [t['name'], t['goal'], f'{_num(t["value"], 2)} {t["unit"]}'.strip(),
             {True: 'yes', False: '**no**', None: 'n/a'}[t['met']]] for t in found))

    core = results.get('core')
    if core is not None:
        mix = ', '.join(f'{k} {v}' for k, v in sorted(core['verdicts'].items()))
        lines += ['### 1. Decision core (one CPU, in process)', '']
        lines += _table(
            ['what is timed', 'decisions', 'decisions/s', 'p50 µs', 'p99 µs', 'max µs'],
            [['`core.step`', _num(core['decisions']), _num(core['decisions_per_s']),
              _num(core['step_us']['p50'], 1), _num(core['step_us']['p99'], 1),
              _num(core['step_us']['max'], 1)],
             ['`core.step` + `trace_record.decision_to_dict`', _num(core['decisions']), '',
              _num(core['step_and_record_us']['p50'], 1),
              _num(core['step_and_record_us']['p99'], 1),
              _num(core['step_and_record_us']['max'], 1)]])
        lines += [f'Verdict mix: {mix}; {core["events"]:,} events '
                  f'({core["events_per_s"]:,.0f} events/s of step time).', '']

    e2e = results.get('e2e')
    if e2e:
        lines += ['### 2. End-to-end latency', '']
        lines += _e2e_lines(e2e)
    watchdog = results.get('watchdog')
    if watchdog is not None:
        r = watchdog['reaction_ms']
        lines += ['### 3. Watchdog reaction', '']
        lines += _table(['trials', 'failed', 'early', 'budget ms', 'min ms', 'p50 ms',
                         'p99 ms', 'max ms'],
                        [[_num(watchdog['trials']), _num(watchdog['failed']),
                          _num(watchdog['early']), _num(watchdog['budget_ms'], 1),
                          _num(r['min'], 1), _num(r['p50'], 1), _num(r['p99'], 1),
                          _num(r['max'], 1)]])
    if e2e:
        lines += ['### 4. CPU (device process, over its measured blocks)', '']
        lines += _cpu_lines(e2e)
        lines += _same_executor_lines(e2e)
    writer = results.get('trace_writer')
    if e2e or writer is not None:
        lines += ['### 5. Trace cost', '']
    if e2e:
        lines += _trace_cost_lines(e2e)
    if writer is not None:
        lines += [f'Trace writer alone, in process: {_num(writer["records_per_s"])} records/s '
                  f'sustained ({_num(writer["written"])} records of '
                  f'{_num(writer["bytes_per_record"])} B, {_num(writer["lost"])} lost; '
                  f'submit {_num(writer["submit_us_mean"], 1)} µs per record).', '']

    soak = results.get('soak')
    if soak is not None:
        lat = soak['latency_us']
        lines += [f'### 6. Soak ({soak["seconds"]:.0f} s at {soak["rate_hz"]:.0f} Hz)', '']
        lines += _table(
            ['sent', 'drops', 'p50 µs', 'p99 µs', 'max µs', 'RSS start MB', 'RSS end MB',
             'RSS growth MB', 'trace lost', 'behind at end', 'behind max',
             'writer queue max', 'CPU %'],
            [[_num(soak['sent']), _num(soak['drops']), _num(lat['p50']), _num(lat['p99']),
              _num(lat['max']), _num(soak['rss_start_mb'], 1), _num(soak['rss_end_mb'], 1),
              _num(soak['rss_growth_mb'], 1), _num(soak['trace_lost']),
              _num(soak['behind_at_end']), _num(soak['behind_max']),
              _num(soak['writer_queue_max']), _num(soak['cpu_percent'], 1)]])
    if 'core_plans' in results or 'plans' in results:
        lines += _plans_lines(results)
    lines.append(END)
    return '\n'.join(lines) + '\n'


def write(results: Dict[str, Any], markdown_path: Path, json_path: Path) -> None:
    """Write ``results`` as JSON and replace the generated section of ``markdown_path``."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + '\n')
    section = markdown(results)
    text = markdown_path.read_text() if markdown_path.exists() else ''
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section.rstrip('\n') + tail
    else:
        text = text + ('\n' if text else '') + section
    markdown_path.write_text(text)
