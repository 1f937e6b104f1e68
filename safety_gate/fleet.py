# Copyright 2026 The safety_gate Authors
# SPDX-License-Identifier: Apache-2.0
"""Traces of a fleet as one table: DuckDB over the JSONL (gzip-rotated too) or over Parquet.

The offline SPI tools (``safety-gate baseline``, ``safety-gate spi``) and
``safety-gate export --parquet`` read records here. DuckDB scans the files
in parallel with typed columns and the indicators are SQL aggregates, so the
work grows with the bytes read, not with Python loops over records. Only the
members the indicators need are read; ``hmac_sha256`` and the other writer
members are ignored, so signed traces read as they are (``--verify`` checks
hash chains and HMACs first, in Python, at a much higher cost per byte).

DuckDB is needed here only (``pip install duckdb``); the gate never imports
this module.
"""

from pathlib import Path
from typing import Any, Dict, List, Sequence

from safety_gate.spi import BINS, PROPOSAL_TRIGGERS

MISSING = "needs the Python package 'duckdb' (not needed by the gate): pip install duckdb"

# The members read from every JSONL record, typed; the rest of a record is not read.
_JSON_COLUMNS = {
    'seq': 'BIGINT', 't': 'DOUBLE', 'wall_time': 'DOUBLE', 'trigger': 'VARCHAR',
    'verdict': 'VARCHAR', 'reasons': 'VARCHAR[]', 'proposal': 'JSON', 'checks': 'JSON',
    'output': 'JSON', 'model': 'JSON', 'config_sha256': 'VARCHAR', 'config': 'JSON',
    'spi': 'JSON',
}
# One row per record with what the indicators need, the same from JSONL and from Parquet (what
# export --parquet writes): the measured values of the checks the SPIs read, not every check.
_FLAT = """
    SELECT filename AS file, seq, t, wall_time,
           CASE WHEN config IS NOT NULL THEN 'config' WHEN spi IS NOT NULL THEN 'spi'
                ELSE 'decision' END AS kind,
           trigger, verdict, reasons,
           coalesce(json_extract_string(model, '$.sha256'),
                    json_extract_string(proposal, '$.model_sha256'), '') AS model,
           coalesce(TRY_CAST(json_extract(proposal, '$.confidence') AS DOUBLE),
                    TRY_CAST(json_extract(list_filter(
                        from_json(checks, '[{"name": "VARCHAR", "value": "JSON"}]'),
                        lambda c: c.name = 'confidence')[1].value, '$') AS DOUBLE)) AS confidence,
           TRY_CAST(json_extract(output, '$.v') AS DOUBLE) AS output_v,
           TRY_CAST(json_extract(output, '$.w') AS DOUBLE) AS output_w,
           config_sha256,
           TRY_CAST(json_extract(list_filter(
               from_json(checks, '[{"name": "VARCHAR", "value": "JSON"}]'),
               lambda c: c.name = 'plan.shift_lateral')[1].value, '$') AS DOUBLE) AS plan_shift,
           TRY_CAST(json_extract(list_filter(
               from_json(checks, '[{"name": "VARCHAR", "value": "JSON"}]'),
               lambda c: c.name = 'plan.start')[1].value, '$') AS DOUBLE) AS ego_start,
           CAST(spi AS VARCHAR) AS spi
    FROM read_json($files, format = 'newline_delimited', filename = true,
                   columns = $columns)
"""
_GROUPS = {
    'model': 'model',
    'config': 'config_sha256',
    'hour': "strftime(to_timestamp(floor(wall_time / 3600) * 3600), '%Y-%m-%d %H:00')",
    'scenario': "regexp_extract(file, '([^/]+)/[^/]+$', 1)",
}
GROUPINGS = tuple(_GROUPS)


class FleetError(ValueError):
    """The traces cannot be read as asked."""


def connect(paths: Sequence[Path]):
    """Return a DuckDB connection with the view ``records`` over ``paths``.

    All ``.parquet`` (written by ``safety-gate export --parquet``) or all traces.
    """
    try:
        import duckdb
    except ImportError:
        raise FleetError(MISSING) from None
    files = [str(path) for path in paths]
    missing = [name for name in files if not Path(name).is_file()]
    if missing:
        raise FleetError(f'no such file: {missing[0]}')
    parquet = [name.endswith('.parquet') for name in files]
    if any(parquet) and not all(parquet):
        raise FleetError('give either traces or Parquet files written by '
                         'safety-gate export --parquet, not both')
    con = duckdb.connect()
    # A view cannot take a parameter: the file list goes in as a literal.
    literal = '[' + ', '.join(_quoted(name) for name in files) + ']'
    if all(parquet):
        con.execute(f'CREATE VIEW records AS SELECT * FROM read_parquet({literal})')
        return con
    columns = '{' + ', '.join(f"'{name}': '{kind}'" for name, kind in _JSON_COLUMNS.items()) + '}'
    # Parsed once into a columnar table: every indicator after reads that, not the JSON again.
    con.execute('CREATE TEMP TABLE records AS ' + _FLAT.replace('$columns', columns).replace(
        '$files', literal))
    return con


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def export_parquet(paths: Sequence[Path], out: Path) -> int:
    """Write the records of ``paths`` as one Parquet file (one row per record); return rows."""
    if out.exists():
        raise FleetError(f'{out} exists already: not overwriting it')
    con = connect(paths)
    literal = _quoted(str(out))
    con.execute(f'COPY (SELECT * FROM records) TO {literal} (FORMAT parquet)')
    return con.execute(f'SELECT count(*) FROM read_parquet({literal})').fetchone()[0]


def _proposals(by: str) -> str:
    triggers = ', '.join(f"'{t}'" for t in sorted(PROPOSAL_TRIGGERS))
    return (f"SELECT {_GROUPS[by]} AS grp, * FROM records WHERE kind = 'decision' "
            f'AND trigger IN ({triggers})')


def histogram(con, by: str = 'model') -> Dict[str, List[int]]:
    """Return each group's confidence histogram: ``spi.BINS`` bins on [0, 1]."""
    rows = con.execute(f"""
        SELECT grp, least(CAST(floor(confidence * {BINS}) AS INTEGER), {BINS - 1}) AS bin,
               count(*)
        FROM ({_proposals(by)}) WHERE confidence BETWEEN 0 AND 1 GROUP BY ALL""").fetchall()
    found: Dict[str, List[int]] = {}
    for group, index, count in rows:
        found.setdefault(group, [0] * BINS)[index] = count
    return found


def indicators(con, by: str) -> Dict[str, Dict[str, Any]]:
    """Return the indicators of each group, as ``spi.indicators`` names them."""
    rows = con.execute(f"""
        SELECT grp, count(*), count(*) FILTER (WHERE verdict IN ('FALLBACK', 'ESTOP')),
               count(confidence) FILTER (WHERE confidence BETWEEN 0 AND 1),
               avg(confidence) FILTER (WHERE confidence BETWEEN 0 AND 1),
               quantile_cont(confidence, [0.1, 0.5, 0.9])
                   FILTER (WHERE confidence BETWEEN 0 AND 1),
               min(wall_time), max(wall_time), count(DISTINCT file)
        FROM ({_proposals(by)}) GROUP BY grp ORDER BY grp""").fetchall()
    found = {}
    for group, n, refused, known, mean, quantiles, first, last, files in rows:
        p10, p50, p90 = quantiles if quantiles else (None, None, None)
        found[group] = {
            'proposals': n, 'intervention_rate': refused / n, 'fallback_rate': {},
            'confidence_n': known, 'confidence_mean': mean, 'confidence_p10': p10,
            'confidence_p50': p50, 'confidence_p90': p90, 'first_wall_time': first,
            'last_wall_time': last, 'files': files}
    reasons = con.execute(f"""
        SELECT grp, reason, count(*) FROM (
            SELECT grp, unnest(list_distinct(reasons)) AS reason FROM ({_proposals(by)})
            WHERE verdict IN ('FALLBACK', 'ESTOP'))
        GROUP BY ALL ORDER BY ALL""").fetchall()
    for group, reason, count in reasons:
        found[group]['fallback_rate'][reason] = count / found[group]['proposals']
    measured = con.execute(f"""
        SELECT grp, avg(plan_shift), avg(ego_start) FROM ({_proposals(by)})
        GROUP BY grp""").fetchall()
    for group, plan_shift, ego_start in measured:
        found[group].update(plan_shift=plan_shift, ego_start=ego_start)
    for group, counts in histogram(con, by).items():
        found[group]['confidence_histogram'] = counts
    for values in found.values():
        values.setdefault('confidence_histogram', [0] * BINS)
        values['fallback_rate_max'] = max(values['fallback_rate'].values(), default=0.0)
    return found


def alarm_records(con) -> List[Dict[str, Any]]:
    """Return the SPI records whose drift action differs from the one before in their trace.

    A trace is its files without the rotation suffix (``trace.jsonl.3.gz`` is ``trace``).
    """
    rows = con.execute("""
        SELECT file, seq, wall_time, drift, spi FROM (
            SELECT file, seq, wall_time, json_extract_string(spi, '$.drift') AS drift, spi,
                   lag(json_extract_string(spi, '$.drift'), 1, 'none') OVER (
                       PARTITION BY regexp_replace(file, '\\.jsonl(\\.[0-9]+)?(\\.gz)?$', '')
                       ORDER BY wall_time, seq) AS before
            FROM records WHERE kind = 'spi')
        WHERE drift <> before ORDER BY wall_time""").fetchall()
    return [{'file': f, 'seq': s, 'wall_time': w, 'drift': d, 'spi': spi}
            for f, s, w, d, spi in rows]
