"""The same count as plain SQL, for another engine (DuckDB) to run on the same file.

The rule texts come straight from the rule set (``RuleSet.condition_sql`` and friends);
this module only adds the frame around them: the normalised record as a SQL relation,
and the grouping into cells. It is a peer for tests and benchmarks, not a second engine:
it covers typed Parquet input (bool, date, list columns) and prepared files, and does not
reproduce the lenient text parsing or the row-level contract checks.
"""

from __future__ import annotations

from datetime import date

from engine.contract import LIST_COLUMNS, TAAKSOORT_COLUMNS
from engine.indeling import Indeling
from engine.packed import read_layout
from engine.rules import RuleSet


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def gemeente_keys_sql(indeling: Indeling) -> str:
    rows = ", ".join(f"({_quote(k)}, {_quote(g)})" for k, g in indeling.keys.items())
    return f"SELECT * FROM (VALUES {rows}) AS t(sleutel, naam)"


def normalised_from_parquet(path: str, indeling: Indeling, peildatum: date | None) -> str:
    """SQL for the normalised record of a typed Parquet file (mirrors engine.contract.normalise)."""
    peil = f"DATE {_quote(peildatum.isoformat())}" if peildatum else "CAST(NULL AS DATE)"
    registered = ",\n  ".join(
        f"coalesce(len(list_filter({c}, lambda x: trim(x) <> '')) > 0, false) AS {c}" for c in LIST_COLUMNS
    )
    taaksoorten = " + ".join(f"(coalesce(trim({c}) <> '', false))::INTEGER" for c in TAAKSOORT_COLUMNS)
    key = "regexp_replace(lower(strip_accents(r.gemeente)), '[^a-z0-9]', '', 'g')"
    return f"""
SELECT
  r.client_id,
  k.naam AS gemeente,
  lower(trim(r.status)) AS status,
  lower(trim(r.indicering)) AS indicering,
  r.indicering_begin, r.indicering_einde,
  r.doelgroepregister, r.banenafspraak, r.beschut_wsw,
  {registered},
  ({taaksoorten}) AS taaksoorten,
  {peil} AS peildatum
FROM read_parquet({_quote(path)}) AS r
LEFT JOIN ({gemeente_keys_sql(indeling)}) AS k ON k.sleutel = {key}
"""


def normalised_from_prepared(path: str, peildatum: date | None) -> str:
    """SQL for the normalised record of a prepared file: each field decoded from ``sleutel``
    with the layout stored in the file (engine.packed), the valid rows only."""
    layout = read_layout(path)
    peil = f"DATE {_quote(peildatum.isoformat())}" if peildatum else "CAST(NULL AS DATE)"
    fields = ",\n  ".join(f"{f.sql('sleutel')} AS {f.name}" for f in layout.fields if f.name != "afgewezen")
    return f"""
SELECT client_id, indicering_begin, indicering_einde,
  {fields},
  {peil} AS peildatum
FROM read_parquet({_quote(path)})
WHERE {layout.field("afgewezen").sql("sleutel")} IS NULL
"""


def cells_sql(normalised: str, ruleset: RuleSet, peildatum: date | None) -> str:
    """Counted clients per (gemeente, klantsoort, profiel), as the engine's ``cells``."""
    conditions = " AND ".join(f"({text})" for text in ruleset.condition_sql(peildatum).values())
    return f"""
SELECT gemeente, klantsoort, profiel, count(*) AS n
FROM (
  SELECT gemeente, ({ruleset.klantsoort.sql()}) AS klantsoort, ({ruleset.profiel.sql()}) AS profiel
  FROM ({normalised}) AS record
  WHERE {conditions}
) AS counted
GROUP BY ALL
"""
