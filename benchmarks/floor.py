"""The rules-first floor (issue 12): the least plan that does the engine's every-row work on a raw file.

    python benchmarks/floor.py RAW.parquet --table OUT.parquet

What it does, all in ONE ``pl.collect_all(..., engine="streaming")`` of two plans over the file:

1. every row, on the cheap columns only: client_id trimmed (``contract.client_id_text``); gemeente
   matched to the CBS indeling per distinct value (``contract.per_distinct`` with ``indeling.match``);
   status and indicering trimmed and case-folded (``contract.folded``); dates read with "no end"
   sentinels (``values.as_date``, ``no_end``); booleans (``contract.as_bool``); every contract check
   of ``contract.CHECKS`` but the duplicate check (null/blank id, not a date, out of range, not a
   boolean, einde < begin, unknown gemeente), summed as "rows rejected"; the duplicate check as the
   number of distinct 64-bit id hashes (equal to the rows read proves every id unique; otherwise an
   exact ``is_duplicated`` pass follows); the BSN count (``privacy.bsn_count``); the reconciliation
   (rows per first failing rule, from ``RuleSet.condition_exprs``); the distinct folded statuses.
2. rules first: ``filter`` with the four rules written on raw-column expressions (the same
   expressions as in 1), so Polars hands the predicate to the Parquet reader and the profile
   columns are decoded only for rows that pass; then, for those rows only, indicering folded, the
   list components (``contract.registered_list``: blank-aware, null words), the taaksoortvragen
   (``contract.registered_taaksoort``), klantsoort and profiel (``RuleSet.klantsoort_expr`` and
   ``profiel_expr``), gemeente matched, and ``group_by(gemeente, klantsoort, profiel).len()``.

Then, like ``transparantie count`` (``--on-invalid fail``), it stops with exit 1 on any rejected row
(a contract check, a duplicate id, or a counted row without klantsoort) or on BSN-like ids, checks
that the rules-first branch counted exactly the rows the rule set counts in step 1, and writes the
publication table (``engine.layout.publication_table``) to ``--table``.

Left out, compared with the engine: other readers (CSV, Excel, ...) and reading options; the date
format of a text date column (only typed dates or ISO text); a peildatum and other rule sets (the
four rules of the default ``teldefinitie`` are written here by hand: a changed rule file stops the
floor, see ``RULES``); the details of rejected rows (offending values, example ids) and quarantine;
the warnings (computed by the engine from the same reconciliation and statuses); the CLI (typer,
rich) and its output formats. No engine plan (``engine.pipeline``, ``engine.count``) is imported.
"""

from __future__ import annotations

import argparse
import sys

import polars as pl

from engine import contract as c
from engine import values
from engine.indeling import default_indeling
from engine.layout import publication_table
from engine.privacy import bsn_count, check_bsn
from engine.rules import select_ruleset

#: The rule texts the hand-written predicate below stands for.
RULES = {
    "ingeschreven": "status = 'ingeschreven'",
    "open_dienstverlening": "indicering_begin IS NOT NULL AND indicering_einde IS NULL",
    "doelgroepregister": "doelgroepregister",
    "banenafspraak": "banenafspraak",
}


def floor_table(path: str) -> pl.DataFrame:
    rs, ind = select_ruleset("teldefinitie"), default_indeling()
    if {r.id: r.sql for r in rs.regel} != RULES:
        raise SystemExit("floor: the rule set is not the one written into the floor's predicate")
    lf = pl.scan_parquet(path)
    s = lf.collect_schema()
    c.check_schema(s)
    gemeente = c.per_distinct(
        values.as_text(pl.col("gemeente"), s["gemeente"]), ind.match, ind.gemeente_dtype, c._canonical_as_is(ind)
    )
    folded = {k: c.folded(k, s[k], rs.folded_values()) for k in ("status", "indicering")}
    read = {d: values.as_date(d, pl.col(d), s[d], None, keep_sentinels=True) for d in c.DATE_COLUMNS}
    dates = {d: values.no_end(d, e) for d, e in read.items()}
    bools = {b: c.as_bool(b, s[b]) for b in c.BOOL_COLUMNS}
    holds = [
        folded["status"] == "ingeschreven",
        dates["indicering_begin"].is_not_null() & dates["indicering_einde"].is_null(),
        bools["doelgroepregister"],
        bools["banenafspraak"],
    ]
    cheap = [c.CLIENT_ID, "gemeente", "status", *c.DATE_COLUMNS, *c.BOOL_COLUMNS]
    flags = list(rs.condition_exprs(None).values())
    every = lf.with_columns(
        *(pl.col(k).alias(c.RAW_PREFIX + k) for k in cheap),
        c.client_id_text(s[c.CLIENT_ID]).alias(c.CLIENT_ID),
        gemeente.alias("gemeente"),
        folded["status"].alias("status"),
        **bools,
        **dates,
        **{c.AS_READ_PREFIX + d: e for d, e in read.items()},
    ).select(
        pl.len().alias("gelezen"),
        bsn_count(),
        pl.any_horizontal(k.fails(s).fill_null(False) for k in c.CHECKS if k.reden != "client_id_dubbel")
        .sum()
        .alias("afgewezen"),
        pl.col(c.CLIENT_ID).hash(20250601).n_unique().alias("ids"),
        *(
            ((pl.all_horizontal(flags[:i]) if i else True) & ~f).sum().alias(r.id)
            for i, (f, r) in enumerate(zip(flags, rs.regel, strict=True))
        ),
        pl.col("status").unique().implode().alias("statussen"),
    )
    counted = (
        lf.filter(pl.all_horizontal(h.fill_null(False) for h in holds))
        .with_columns(
            gemeente.alias("gemeente"),
            folded["indicering"].alias("indicering"),
            *(c.registered_list(k, s[k]).alias(k) for k in c.LIST_COLUMNS),
            pl.sum_horizontal(c.registered_taaksoort(k, s[k]).cast(pl.UInt8) for k in c.TAAKSOORT_COLUMNS).alias(
                "taaksoorten"
            ),
        )
        .group_by("gemeente", rs.klantsoort_expr().alias("klantsoort"), rs.profiel_expr().alias("profiel"))
        .len("n")
    )
    totals, cells = pl.collect_all([every, counted], engine="streaming")
    t = totals.row(0, named=True)
    if t["ids"] < t["gelezen"] and lf.select(c.client_id_text(s[c.CLIENT_ID]).is_duplicated().any()).collect().item():
        t["afgewezen"] += 1  # the engine rejects every occurrence; that the count stops is what matters here
    t["afgewezen"] += cells.filter(pl.col("klantsoort").is_null())["n"].sum()
    if t["afgewezen"]:
        raise SystemExit(f"floor: {t['afgewezen']} rows break the input contract (the engine stops too)")
    check_bsn(t["bsn_achtig"], t["gelezen"], allow=False)
    if cells["n"].sum() != t["gelezen"] - sum(t[r.id] for r in rs.regel):
        raise SystemExit("floor: the rules-first branch counted other rows than the rule set")
    return publication_table(cells.with_columns(pl.col("n").cast(pl.UInt32)), ind)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--table", required=True, help="write the publication table here (Parquet)")
    args = parser.parse_args()
    floor_table(args.path).write_parquet(args.table)
    sys.exit(0)
