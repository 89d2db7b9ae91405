"""The DuckDB same-work peer (issue 12): DuckDB running `transparantie sql --dialect duckdb` on a raw file.

    python benchmarks/duckdb_peer.py RAW.parquet QUERY.sql VIEW OUT.parquet

QUERY.sql is the text that ``transparantie sql --dialect duckdb --tabel VIEW`` prints
(engine.warehouse.table_query): the input contract and the rules in one query over a table of
raw records. This process does what a DuckDB user does with it: a view named VIEW over
``read_parquet(RAW)``, the query, and the published table written with DuckDB's own COPY to
OUT.parquet. It imports DuckDB only (no Polars, no engine), so a measurement of this process
is DuckDB's start, the query and the write. The runner checks the table against the engine's.
"""

from __future__ import annotations

import sys


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main(argv: list[str]) -> int:
    raw, query_file, view, out = argv
    with open(query_file, encoding="utf-8") as handle:
        query = handle.read().strip().rstrip(";")
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet({quote(raw)})")
        con.execute(f"COPY ({query}) TO {quote(out)} (FORMAT parquet)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
