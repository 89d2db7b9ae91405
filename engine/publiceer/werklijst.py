"""`transparantie werklijst`: the counted clients without a complete profile, per region or gemeente.

A worklist for the people who complete the profiles: one row per counted client (``uitkomst``
geteld) with profiel "nee", with the gemeente, the klantsoort and, per profiel onderdeel of the
rule set, whether it is missing (``zonder_<onderdeel>``). Built lazily from the engine's
classified plan and collected once; no Python loop over records.

The file holds client-level data: it is created with mode 0600 (a temporary file in the target
directory, created 0600 by :func:`tempfile.mkstemp`, then renamed over the target), an xlsx has
a notice row above every table, a Parquet file carries the notice in its key-value metadata, and
the command says it on stderr (a comment line would break CSV readers).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import xlsxwriter

from engine.errors import UsageError
from engine.grouping import bsn_aggregation
from engine.indeling import Indeling, name_key
from engine.layout import MISSING_PREFIX, nl_int
from engine.outcome import OnInvalid, collect_checked
from engine.output import write_bytes
from engine.pipeline import GETELD, ONDERDEEL_PREFIX, classify
from engine.readers import ReadOptions
from engine.rules import DEFAULT_RULES, RuleSet, select_ruleset
from engine.source import open_source

NOTICE = (
    "Let op: dit bestand bevat gegevens op cliëntniveau (client_id per cliënt). Alleen gebruiken voor het "
    "aanvullen van klantprofielen; niet delen of publiceren."
)
NOTICE_KEY = "transparantie.werklijst"


@dataclass(frozen=True)
class Werklijst:
    rijen: pl.DataFrame  # werklijst_columns(ruleset), sorted
    ruleset: RuleSet
    scope: str  # "arbeidsmarktregio 22 Rijnmond" or "gemeente Zwolle"
    peildatum: date | None

    def samenvatting(self) -> str:
        return f"{nl_int(self.rijen.height)} meegetelde cliënten zonder volledig profiel in {self.scope}."


def werklijst_columns(ruleset: RuleSet) -> list[str]:
    return ["client_id", "gemeente", "klantsoort", *(MISSING_PREFIX + o.id for o in ruleset.profiel.onderdeel)]


def _gemeente(name: str, indeling: Indeling) -> str:
    canonical = indeling.keys.get(name_key(name))
    if canonical is None:
        suggestions = indeling.suggest(name)
        hint = f" Bedoelt u: {', '.join(suggestions)}?" if suggestions else ""
        raise UsageError(f"--gemeente {name!r}: geen gemeente met die naam.{hint}")
    return canonical


def werklijst_file(
    path: Path | str,
    amr: int | None = None,
    gemeente: str | None = None,
    rules: str = DEFAULT_RULES,
    peildatum: date | None = None,
    on_invalid: OnInvalid = OnInvalid.FAIL,
    quarantine: Path | None = None,
    lezen: ReadOptions | None = None,
    allow_bsn: bool = False,
) -> Werklijst:
    """The worklist of one region (``amr``) or one gemeente; exactly one of the two."""
    if (amr is None) == (gemeente is None):
        raise UsageError("geef precies één van --amr N of --gemeente NAAM (de werklijst is per regio of gemeente)")
    ruleset = select_ruleset(rules, peildatum)
    # Whole records: the list names each client's missing onderdelen.
    plan = classify(open_source(path, lezen), ruleset, peildatum)
    indeling = plan.indeling
    if amr is not None:
        members = indeling.frame.filter(pl.col("amr") == amr)
        if members.is_empty():
            raise UsageError(f"--amr {amr}: er is geen arbeidsmarktregio {amr}; de regio's zijn genummerd 1-35")
        names = members["gemeente"].to_list()
        scope = f"arbeidsmarktregio {amr} {members['arbeidsmarktregio'][0]}"
    else:
        assert gemeente is not None
        names = [_gemeente(gemeente, indeling)]
        scope = f"gemeente {names[0]}"
    onderdelen = ruleset.profiel.onderdeel
    wanted = (
        plan.frame.filter(
            (pl.col("uitkomst") == GETELD) & ~pl.col("profiel") & pl.col("gemeente").cast(pl.String).is_in(names)
        )
        .select(
            pl.col("client_id").cast(pl.String),
            pl.col("gemeente"),  # an Enum in publication order: sorting keeps the publication's order
            pl.col("klantsoort").cast(pl.String),
            *(~pl.col(ONDERDEEL_PREFIX + o.id).fill_null(False).alias(MISSING_PREFIX + o.id) for o in onderdelen),
        )
        .sort("gemeente", "klantsoort", "client_id")
    )
    # The outcomes are counted in the same collection, under count's on-invalid policy
    # (engine.outcome): a file that breaks the contract fails as `count` fails, and a file
    # of BSNs stops before a list of them is written.
    if on_invalid is OnInvalid.QUARANTINE and quarantine is None:
        raise UsageError("--on-invalid quarantine heeft --quarantine PAD nodig voor de afgewezen rijen")
    outcomes = plan.frame.group_by("uitkomst", "reden").agg(pl.len().alias("n"), *bsn_aggregation(plan))
    checked = collect_checked(plan, outcomes, on_invalid, quarantine, allow_bsn=allow_bsn, also=[wanted])
    rows = checked.also[0].with_columns(pl.col("gemeente").cast(pl.String))
    return Werklijst(rijen=rows, ruleset=ruleset, scope=scope, peildatum=peildatum)


def _xlsx(werklijst: Werklijst) -> bytes:
    """One sheet per gemeente, a notice row above the table, the header frozen."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    notice = book.add_format({"bold": True, "font_color": "#9c0006", "bg_color": "#ffc7ce", "text_wrap": True})
    head = book.add_format({"bold": True, "bottom": 1})
    columns = werklijst.rijen.columns
    groups = werklijst.rijen.partition_by("gemeente", maintain_order=True, as_dict=False)
    if not groups:
        groups = [werklijst.rijen]
    for group in groups:
        title = group["gemeente"][0] if group.height else "Werklijst"
        for bad in "[]:*?/\\":
            title = title.replace(bad, " ")
        ws = book.add_worksheet(title[:31])
        ws.merge_range(0, 0, 0, len(columns) - 1, NOTICE, notice)
        ws.set_row(0, 45)
        for c, name in enumerate(columns):
            ws.write_string(1, c, name, head)
        for r, row in enumerate(group.iter_rows(), start=2):
            for c, value in enumerate(row):
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                else:
                    ws.write_string(r, c, "" if value is None else str(value))
        ws.set_column(0, 0, 18)
        ws.set_column(1, 1, 24)
        ws.set_column(2, len(columns) - 1, 20)
        ws.freeze_panes(2, 0)
        ws.autofilter(1, 0, 1 + group.height, len(columns) - 1)
    book.close()
    return buffer.getvalue()


def write_werklijst(werklijst: Werklijst, fmt: str, output: Path) -> None:
    """``fmt``: csv, xlsx or parquet."""
    if fmt == "csv":
        data = werklijst.rijen.write_csv().encode("utf-8")
    elif fmt == "parquet":
        table = werklijst.rijen.to_arrow()
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), NOTICE_KEY.encode(): NOTICE.encode()})
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        data = buffer.getvalue()
    elif fmt == "xlsx":
        data = _xlsx(werklijst)
    else:
        raise UsageError(f"--format {fmt}: kies csv, xlsx of parquet")
    write_bytes(output, data, private=True, option="--output")
