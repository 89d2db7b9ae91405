"""Count where the data lives: the whole count as one SQL query, and engines that run it.

The query is written once, in DuckDB's dialect, and transpiled by sqlglot to the other
dialects (:data:`DIALECTS`). It reads a table of raw records in the input contract (columns
named as the contract names them) and does the contract's work inside the query:

* every column is read through ``CAST(col AS VARCHAR)``, so a column may be text or typed:
  dates as DATE, TIMESTAMP or ISO text (``jjjj-mm-dd``, optionally with a time part);
  booleans as BOOLEAN, 0/1 or the words of ``invoerwaarden.toml``; lists as arrays on
  DuckDB and Spark (which cast an array to ``[a, NULL]`` text) or as text (``a;b``, JSON or
  Python list text);
* blanks, null words and invisible characters, "no end" dates and the date range come from
  ``engine/reference/invoerwaarden.toml``;
* status and indicering are trimmed and lower-cased (``LOWER``: SQL has no Unicode casefold);
* the gemeente match key, computed once per distinct name (diacritics removed by a ``TRANSLATE`` table generated from
  Python's unicodedata, lower case, letters and digits only) is joined to an inline VALUES
  table generated from :mod:`engine.indeling` (names, aliases, CBS codes, former gemeenten);
* the contract checks of :data:`engine.contract.CHECKS` (in their order), the rules,
  klantsoort and profiel from the rule set (``RuleSet.condition_sql`` and friends).

Nothing here restates a rule: the rule texts are inserted as the rule set declares them.
:func:`table_query` gives the published table; :func:`controles_query` the reconciliation
(rows per uitkomst and reden); :func:`count_with` runs the work on DuckDB or Spark.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from engine import values
from engine.contract import (
    BOOL_COLUMNS,
    CHECKS,
    CLIENT_ID,
    DATE_COLUMNS,
    LIST_COLUMNS,
    REQUIRED_COLUMNS,
    TAAKSOORT_COLUMNS,
)
from engine.errors import SchemaError, UsageError
from engine.indeling import Indeling, default_indeling
from engine.layout import COLUMNS, FIGURES, SCHEMA
from engine.rules import RuleSet

DIALECTS = ("duckdb", "spark", "postgres", "tsql", "snowflake", "trino", "bigquery")
ENGINES = ("polars", "duckdb", "spark")
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")

# --- text building blocks ---------------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _escape_regex(text: str) -> str:
    """Escape regex metacharacters the same way for RE2 (DuckDB, BigQuery) and Java (Spark)."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


def _ranges(codepoints: Sequence[int]) -> str:
    parts: list[str] = []
    start = prev = codepoints[0]
    for cp in [*codepoints[1:], -1]:
        if cp == prev + 1:
            prev = cp
            continue
        parts.append(f"\\x{{{start:04X}}}" if start == prev else f"\\x{{{start:04X}}}-\\x{{{prev:04X}}}")
        start = prev = cp
    return "".join(parts)


#: Unicode White_Space, what ``\s`` means to Polars (Rust regex); RE2's and Java's ``\s`` are ASCII only.
WHITE_SPACE = (
    *range(0x09, 0x0E),
    0x20,
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
)


@functools.cache
def invisible_class() -> str:
    """The contents of a regex character class for :data:`engine.values.INVISIBLE` (white space
    and Unicode format characters, ``\\p{Cf}``), spelled as ``\\x{...}`` ranges, which RE2 and
    Java both read."""
    cf = [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Cf"]
    return _ranges(sorted({*WHITE_SPACE, *cf}))


def _white_class() -> str:
    return _ranges(sorted(WHITE_SPACE))


def _null_words() -> str:
    return "|".join(_escape_regex(w.lower()) for w in values.input_values().null_woorden)


def _blank_regex() -> str:
    """Invisible only, or a null word: on the lower-cased text (mirrors engine.values._blank_regex)."""
    inv = invisible_class()
    return f"^[{inv}]*(?:(?:{_null_words()})[{inv}]*)?$"


def is_blank(text: str) -> str:
    """SQL: the text is null, empty, invisible only or a null word."""
    return f"({text} IS NULL OR regexp_matches(lower({text}), {_quote(_blank_regex())}))"


def cleaned(text: str) -> str:
    """SQL: invisible characters removed at both ends; NULL where blank (engine.values.cleaned)."""
    inv = invisible_class()
    strip = _quote(f"^[{inv}]+|[{inv}]+$")
    return f"CASE WHEN NOT {is_blank(text)} THEN regexp_replace({text}, {strip}, '', 'g') END"


def _strip_white(text: str) -> str:
    white = _white_class()
    return f"regexp_replace({text}, {_quote(f'^[{white}]+|[{white}]+$')}, '', 'g')"


def _in(text: str, words: Sequence[str]) -> str:
    return f"{text} IN ({', '.join(_quote(w) for w in words)})"


def as_bool(text: str) -> str:
    """SQL: TRUE, FALSE or NULL from the text of a boolean, integer or word column."""
    words = values.input_values().boolean
    folded = f"lower({_strip_white(text)})"
    return f"CASE WHEN {_in(folded, words.waar)} THEN TRUE WHEN {_in(folded, words.onwaar)} THEN FALSE END"


_LIST_SEPARATORS = (*values.input_values().lijst.scheidingstekens, "[", "]", '"', "'")


def registered_list(text: str) -> str:
    """SQL: a list (as text: ``a;b``, JSON, Python list text, or an array cast to text) holds one
    item that is neither blank nor a null word (engine.values.registered_text_list).

    Every separator is doubled and the whole wrapped in separators, so that each item lies
    between separators of its own; the items that are null words are then removed in one
    global replace, and what is left is registered when it shows a character that is neither
    a separator nor invisible."""
    seps = "".join(_escape_regex(s) for s in _LIST_SEPARATORS)
    inv = invisible_class()
    doubled = f"lower({text})"
    for s in _LIST_SEPARATORS:
        doubled = f"replace({doubled}, {_quote(s)}, {_quote(s + s)})"
    wrapped = f"(';' || {doubled} || ';')"
    null_items = _quote(f"[{seps}][{inv}]*(?:{_null_words()})[{inv}]*[{seps}]")
    rest = f"regexp_replace({wrapped}, {null_items}, '', 'g')"
    return f"coalesce(regexp_matches({rest}, {_quote(f'[^{seps}{inv}]')}), FALSE)"


def read_date(text: str) -> str:
    """SQL: a DATE from the text of a DATE, TIMESTAMP or ISO (jjjj-mm-dd) text column; NULL when
    blank or not such a date. The time part (invoerwaarden.toml, tijddeel) is dropped."""
    table = values.input_values()
    iso = table.datumformaat[0]
    assert iso.naam == "jjjj-mm-dd", "the warehouse query reads ISO dates only"
    bare = f"regexp_replace({_strip_white(text)}, {_quote(table.tijddeel.patroon)}, '')"
    return f"CASE WHEN regexp_matches({bare}, {_quote(iso.patroon)}) THEN TRY_CAST({bare} AS DATE) END"


def _date(d: date) -> str:
    return f"DATE {_quote(d.isoformat())}"


# --- diacritics and the gemeente key ------------------------------------------------------------

#: Unicode blocks whose letters may carry diacritics in a Dutch (or Frisian) gemeente name.
_LATIN = (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))


@functools.cache
def _unaccented() -> tuple[str, str, dict[str, str]]:
    """For TRANSLATE: each Latin letter with its letters without diacritics (as NFKD and
    dropping the marks gives, engine.indeling.name_key); letters that become two (``Ĳ``) by REPLACE."""
    one_from, one_to, more = [], [], {}
    for cp in _LATIN:
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base == ch or not base:
            continue
        if len(base) == 1:
            one_from.append(ch)
            one_to.append(base)
        else:
            more[ch] = base
    return "".join(one_from), "".join(one_to), more


def gemeente_key(text: str) -> str:
    """SQL: the matching key of a gemeente name (engine.indeling.key_expr), with diacritics of Latin
    letters removed by TRANSLATE (SQL has no Unicode normalisation)."""
    one_from, one_to, more = _unaccented()
    expr = text
    for ch, base in more.items():
        expr = f"replace({expr}, {_quote(ch)}, {_quote(base)})"
    expr = f"lower(translate({expr}, {_quote(one_from)}, {_quote(one_to)}))"
    return f"regexp_replace({expr}, '[^\\p{{L}}\\p{{N}}]', '', 'g')"


def _values_table(name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def lit(v: object) -> str:
        return "NULL" if v is None else str(v) if isinstance(v, int) else _quote(str(v))

    body = ",\n    ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)
    return f"{name} AS (SELECT * FROM (VALUES\n    {body}) AS {name}_v({', '.join(columns)}))"


# --- the query ------------------------------------------------------------------------------------


def _bsn_sql(text: str) -> str:
    """SQL: 1 where the id is nine digits that pass the elfproef (engine.privacy), else 0."""
    from engine.privacy import ELFPROEF_WEIGHTS

    digits = " + ".join(
        f"({w}) * TRY_CAST(substring({text}, {i + 1}, 1) AS INTEGER)" for i, w in enumerate(ELFPROEF_WEIGHTS)
    )
    return f"CASE WHEN regexp_matches({text}, '^[0-9]{{9}}$') AND (({digits}) % 11) = 0 THEN 1 ELSE 0 END"


def _check_sql() -> dict[str, str]:
    """Each contract check as SQL over the ``gelezen`` relation: TRUE where a row breaks it."""
    bereik = values.input_values().bereik
    sentinels = values.input_values().geen_einde
    checks = {
        "client_id_leeg": is_blank(f"ruw_{CLIENT_ID}"),
        "client_id_dubbel": "dubbel",
        "einde_voor_begin": "(indicering_einde < indicering_begin)",
        "gemeente_onbekend": f"(NOT {is_blank('ruw_gemeente')} AND gemeente IS NULL)",
    }
    for c in DATE_COLUMNS:
        checks[f"{c}_geen_datum"] = f"(NOT {is_blank(f'ruw_{c}')} AND gelezen_{c} IS NULL)"
        out = f"(gelezen_{c} < {_date(bereik.van)} OR gelezen_{c} > {_date(bereik.tot_en_met)})"
        if c in sentinels.kolommen:
            out = f"({out} AND gelezen_{c} NOT IN ({', '.join(_date(d) for d in sentinels.datums)}))"
        checks[f"{c}_buiten_bereik"] = out
    for c in BOOL_COLUMNS:
        checks[f"{c}_geen_boolean"] = f"(NOT {is_blank(f'ruw_{c}')} AND {c} IS NULL)"
    order = [check.reden for check in CHECKS]
    if set(order) != set(checks):
        raise AssertionError(f"the SQL checks {sorted(checks)} differ from the contract's {order}")
    return {reden: checks[reden] for reden in order}


def classified_sql(tabel: str, ruleset: RuleSet, peildatum: date | None, indeling: Indeling) -> str:
    """The CTEs up to ``uitkomst``: one row per record with its normalised columns, ``uitkomst``,
    ``reden``, ``klantsoort``, ``profiel`` and ``waarde`` (the offending raw value). DuckDB dialect."""
    sentinels = values.input_values().geen_einde
    keys = _values_table("sleutels", ["sleutel", "gemeente"], sorted(indeling.keys.items()))
    regions = _values_table(
        "indeling",
        ["volgorde", "amr", "arbeidsmarktregio", "gemeente"],
        [
            (i, amr, region, g)
            for i, (amr, region, g) in enumerate(
                indeling.frame.select("amr", "arbeidsmarktregio", "gemeente").iter_rows()
            )
        ],
    )
    ruw = ",\n    ".join(f"CAST({c} AS VARCHAR) AS ruw_{c}" for c in REQUIRED_COLUMNS)
    gelezen_dates = ",\n    ".join(f"{read_date(f'ruw_{c}')} AS gelezen_{c}" for c in DATE_COLUMNS)
    bools = ",\n    ".join(f"{as_bool(f'ruw_{c}')} AS {c}" for c in BOOL_COLUMNS)
    lists = ",\n    ".join(f"{registered_list(f'ruw_{c}')} AS {c}" for c in LIST_COLUMNS)
    taaksoorten = "\n      + ".join(f"CASE WHEN {is_blank(f'ruw_{c}')} THEN 0 ELSE 1 END" for c in TAAKSOORT_COLUMNS)
    peil = _date(peildatum) if peildatum else "CAST(NULL AS DATE)"

    def no_end(c: str) -> str:
        if c not in sentinels.kolommen:
            return f"gelezen_{c} AS {c}"
        sentinel_list = ", ".join(_date(d) for d in sentinels.datums)
        return f"CASE WHEN gelezen_{c} IN ({sentinel_list}) THEN NULL ELSE gelezen_{c} END AS {c}"

    no_ends = ",\n    ".join(no_end(c) for c in DATE_COLUMNS)
    checks = _check_sql()
    afgewezen = "CASE " + " ".join(f"WHEN {sql} THEN {_quote(reden)}" for reden, sql in checks.items()) + " END"
    waarde_by_check = {check.reden: f"ruw_{check.column}" for check in CHECKS}
    waarde_by_check["einde_voor_begin"] = "'begin ' || ruw_indicering_begin || ', einde ' || ruw_indicering_einde"
    waarde = "CASE afgewezen " + " ".join(f"WHEN {_quote(r)} THEN {w}" for r, w in waarde_by_check.items()) + " END"
    conditions = ruleset.condition_sql(peildatum)
    flags = ",\n    ".join(f"{sql} AS regel__{rid}" for rid, sql in conditions.items())
    first_failing = "CASE " + " ".join(f"WHEN NOT regel__{rid} THEN {_quote(rid)}" for rid in conditions) + " END"
    return f"""WITH
  {keys},
  {regions},
  ruw AS (SELECT
    {ruw}
  FROM {tabel}),
  gemeenten AS (SELECT namen.ruw_gemeente, sleutels.gemeente
  FROM (SELECT DISTINCT ruw_gemeente FROM ruw WHERE ruw_gemeente IS NOT NULL) AS namen
  LEFT JOIN sleutels ON sleutels.sleutel = {gemeente_key("namen.ruw_gemeente")}),
  dubbele AS (SELECT ruw_{CLIENT_ID} AS {CLIENT_ID} FROM ruw
  WHERE ruw_{CLIENT_ID} IS NOT NULL GROUP BY ruw_{CLIENT_ID} HAVING COUNT(*) > 1),
  gelezen AS (SELECT ruw.*,
    ruw_{CLIENT_ID} AS {CLIENT_ID},
    (dubbele.{CLIENT_ID} IS NOT NULL) AS dubbel,
    gemeenten.gemeente AS gemeente,
    lower({cleaned("ruw_status")}) AS status,
    lower({cleaned("ruw_indicering")}) AS indicering,
    {gelezen_dates},
    {bools},
    {lists},
    ({taaksoorten}) AS taaksoorten,
    {peil} AS peildatum
  FROM ruw LEFT JOIN gemeenten ON gemeenten.ruw_gemeente = ruw.ruw_gemeente
  LEFT JOIN dubbele ON dubbele.{CLIENT_ID} = ruw.ruw_{CLIENT_ID}),
  record AS (SELECT gelezen.*,
    {no_ends},
    indeling.amr AS amr
  FROM gelezen LEFT JOIN indeling ON indeling.gemeente = gelezen.gemeente),
  gecontroleerd AS (SELECT record.*,
    {afgewezen} AS afgewezen,
    {flags},
    {ruleset.klantsoort.sql()} AS klantsoort,
    {ruleset.profiel.sql()} AS profiel
  FROM record),
  beslist AS (SELECT gecontroleerd.*, {first_failing} AS eerste_regel FROM gecontroleerd),
  uitkomst AS (SELECT beslist.*,
    CASE WHEN afgewezen IS NOT NULL THEN 'afgewezen' WHEN eerste_regel IS NOT NULL THEN 'uitgesloten'
      WHEN klantsoort IS NULL THEN 'afgewezen' ELSE 'geteld' END AS uitkomst,
    CASE WHEN afgewezen IS NOT NULL THEN afgewezen WHEN eerste_regel IS NOT NULL THEN eerste_regel
      WHEN klantsoort IS NULL THEN 'klantsoort_onbepaald' END AS reden,
    CASE WHEN afgewezen IS NULL AND eerste_regel IS NULL AND klantsoort IS NULL THEN ruw_indicering
      ELSE {waarde} END AS waarde
  FROM beslist)"""


def _figure_sums(source: str = "") -> str:
    sums = []
    for f in FIGURES:
        klantsoort, _, ja = f.rpartition("_profiel_")
        profiel = "profiel" if ja == "ja" else "NOT profiel"
        sums.append(f"SUM(CASE WHEN klantsoort = {_quote(klantsoort)} AND {profiel} THEN 1 ELSE 0 END) AS {f}")
    return ",\n    ".join(sums)


def _table_sql(classified: str) -> str:
    coalesced = ", ".join(f"COALESCE(cellen.{f}, 0) AS {f}" for f in FIGURES)
    summed = ", ".join(f"COALESCE(SUM({f}), 0) AS {f}" for f in FIGURES)
    totaal = " + ".join(FIGURES)
    columns = ", ".join(c for c in COLUMNS if c != "totaal")
    return f"""{classified},
  cellen AS (SELECT gemeente,
    {_figure_sums()}
  FROM uitkomst WHERE uitkomst = 'geteld' GROUP BY gemeente),
  gemeenterijen AS (SELECT 'gemeente' AS niveau, indeling.amr, indeling.arbeidsmarktregio, indeling.gemeente,
    {coalesced}, 2 * indeling.volgorde AS volgorde
  FROM indeling LEFT JOIN cellen ON cellen.gemeente = indeling.gemeente),
  rijen AS (
    SELECT niveau, amr, arbeidsmarktregio, gemeente, {", ".join(FIGURES)}, volgorde FROM gemeenterijen
    UNION ALL
    SELECT 'arbeidsmarktregio', amr, arbeidsmarktregio, CAST(NULL AS VARCHAR), {summed}, MAX(volgorde) + 1
    FROM gemeenterijen GROUP BY amr, arbeidsmarktregio
    UNION ALL
    SELECT 'onbekend', CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), {summed}, 1000000
    FROM cellen WHERE gemeente IS NULL
    UNION ALL
    SELECT 'nederland', CAST(NULL AS INTEGER), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), {summed}, 1000001
    FROM cellen)
SELECT {columns}, {totaal} AS totaal
FROM rijen
ORDER BY volgorde"""


def _controles_sql(classified: str) -> str:
    return f"""{classified}
SELECT uitkomst, reden, COUNT(*) AS n
FROM uitkomst
GROUP BY uitkomst, reden
ORDER BY uitkomst, reden"""


def _groups_sql(classified: str) -> str:
    return f"""{classified}
SELECT uitkomst, reden, gemeente, klantsoort, profiel, status, COUNT(*) AS n,
  SUM({_bsn_sql(CLIENT_ID)}) AS bsn_achtig
FROM uitkomst
GROUP BY uitkomst, reden, gemeente, klantsoort, profiel, status"""


def _rejected_sql(classified: str) -> str:
    return f"""{classified}
SELECT reden, waarde, COUNT(*) AS n, MIN({CLIENT_ID}) AS voorbeeld
FROM uitkomst WHERE uitkomst = 'afgewezen'
GROUP BY reden, waarde"""


def _records_sql(classified: str) -> str:
    return f"""{classified}
SELECT {CLIENT_ID}, uitkomst, reden, gemeente, klantsoort, profiel FROM uitkomst"""


_SHAPES = {
    "tabel": _table_sql,
    "controles": _controles_sql,
    "groepen": _groups_sql,
    "afgewezen": _rejected_sql,
    "records": _records_sql,
}


def transpile(sql: str, dialect: str) -> str:
    """The DuckDB text in ``dialect``, by sqlglot (the DuckDB text too, so that what is printed
    is what the tests run)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    if dialect not in DIALECTS:
        raise UsageError(f"onbekend dialect '{dialect}'; kies uit: {', '.join(DIALECTS)}")
    # BigQuery's REGEXP_REPLACE is global without the 'g' flag: dropping it is right there.
    return sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=True, unsupported_level=ErrorLevel.IGNORE)[0]


def check_table_name(tabel: str) -> str:
    if not _TABLE_NAME.match(tabel):
        raise UsageError(
            f"--tabel {tabel!r}: geef een tabelnaam (naam, schema.naam of catalogus.schema.naam; letters, cijfers en _)"
        )
    return tabel


def query(
    tabel: str,
    ruleset: RuleSet,
    peildatum: date | None,
    dialect: str = "duckdb",
    shape: str = "tabel",
    indeling: Indeling | None = None,
) -> str:
    """One query over table ``tabel`` of raw records, in ``dialect``: the published table
    (``tabel``), rows per uitkomst and reden (``controles``), or for the engines ``groepen``,
    ``afgewezen`` and ``records``."""
    classified = classified_sql(check_table_name(tabel), ruleset, peildatum, indeling or default_indeling())
    return transpile(_SHAPES[shape](classified), dialect)


def table_query(tabel: str, ruleset: RuleSet, peildatum: date | None, dialect: str = "duckdb") -> str:
    return query(tabel, ruleset, peildatum, dialect, "tabel")


def controles_query(tabel: str, ruleset: RuleSet, peildatum: date | None, dialect: str = "duckdb") -> str:
    return query(tabel, ruleset, peildatum, dialect, "controles")


def as_table(rows: pl.DataFrame) -> pl.DataFrame:
    """A result of :func:`table_query` in the output's column types (engine.layout.SCHEMA)."""
    return rows.select(pl.col(c).cast(t) for c, t in SCHEMA.items())


# --- engines --------------------------------------------------------------------------------------

#: Name of the view or temporary table the engines give the input.
VIEW = "transparantie_invoer"


def _header_key(name: str) -> str:
    return re.sub(r"[\s-]", "_", name.strip().lower())


def _column_map(names: Sequence[str]) -> dict[str, str]:
    """Contract column -> the input's column (headers match ignoring case, surrounding
    whitespace, and a space or '-' for '_', as the Polars engine reads them)."""
    found = {_header_key(n): n for n in names}
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise SchemaError(
            f"ontbrekende kolom(men): {', '.join(missing)}\n"
            f"  het bestand heeft: {', '.join(names) or '(geen kolommen)'}"
        )
    return {c: found[c] for c in REQUIRED_COLUMNS}


def _is_parquet(path: Path) -> bool:
    if path.is_dir():
        return any(path.rglob("*.parquet"))
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _files(paths: Sequence[Path | str]) -> list[Path]:
    found = [Path(p) for p in paths]
    for p in found:
        if not p.exists():
            raise SchemaError(f"{p}: bestand niet gevonden")
    return found


def _sniff_delimiter(path: Path) -> str:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", errors="replace")
    return max((",", ";", "\t", "|"), key=first.count)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb_view(con: Any, files: list[Path]) -> None:
    listing = "[" + ", ".join(_quote(str(p / "**" / "*.parquet") if p.is_dir() else str(p)) for p in files) + "]"
    if _is_parquet(files[0]):
        scan = f"read_parquet({listing}, union_by_name = true)"
    else:
        delim = _sniff_delimiter(files[0])
        scan = f"read_csv({listing}, all_varchar = true, header = true, delim = {_quote(delim)})"
    names = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    mapping = _column_map(names)
    select = ", ".join(f"{_quoted(src)} AS {c}" for c, src in mapping.items())
    con.execute(f"CREATE OR REPLACE TEMP VIEW {VIEW} AS SELECT {select} FROM {scan}")


def _run_duckdb(files: list[Path], queries: dict[str, str]) -> dict[str, pl.DataFrame]:
    try:
        import duckdb
    except ImportError:
        raise UsageError("--engine duckdb heeft duckdb nodig: pip install 'transparantie[duckdb]'") from None

    con = duckdb.connect()
    try:
        _duckdb_view(con, files)
        return {name: con.sql(sql).pl() for name, sql in queries.items()}
    finally:
        con.close()


def spark_session(master: str | None = None) -> Any:
    """A Spark session: ``local[*]`` unless ``master`` names a cluster; no UI, 4 shuffle partitions,
    the driver bound to 127.0.0.1 when local."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark heeft pyspark nodig: pip install 'transparantie[spark]' (en Java 17)"
        ) from None
    builder = (
        SparkSession.builder.appName("transparantie")
        .master(master or "local[*]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        # The query is wide: whole-stage code generation exceeds the JVM's method size and falls
        # back after trying; without it the sample counts in 8 s instead of 20 s (warm, 2 cores).
        .config("spark.sql.codegen.wholeStage", "false")
    )
    if master is None or master.startswith("local"):
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def _run_spark(files: list[Path], queries: dict[str, str], master: str | None) -> dict[str, pl.DataFrame]:
    spark = spark_session(master)
    paths = [str(p) for p in files]
    if _is_parquet(files[0]):
        frame = spark.read.parquet(*paths)
    else:
        frame = (
            spark.read.option("header", "true")
            .option("sep", _sniff_delimiter(files[0]))
            .option("escape", '"')
            .option("encoding", "UTF-8")
            .csv(paths)
        )
    mapping = _column_map(frame.columns)
    frame.select(*(frame[src].alias(c) for c, src in mapping.items())).createOrReplaceTempView(VIEW)
    results = {}
    for name, sql in queries.items():
        result = spark.sql(sql)
        rows = [row.asDict() for row in result.collect()]
        results[name] = (
            pl.DataFrame(rows, schema=result.columns, orient="row")
            if rows
            else pl.DataFrame(schema=dict.fromkeys(result.columns, pl.String))
        )
    return results


def run_queries(
    engine: str, paths: Sequence[Path | str], queries: dict[str, str], spark_master: str | None = None
) -> dict[str, pl.DataFrame]:
    """Run DuckDB-dialect ``queries`` (over the view :data:`VIEW`) on ``engine``."""
    files = _files(paths)
    if engine == "duckdb":
        return _run_duckdb(files, queries)
    if engine == "spark":
        return _run_spark(files, {k: transpile(q, "spark") for k, q in queries.items()}, spark_master)
    raise UsageError(f"onbekende engine '{engine}'; kies uit: {', '.join(ENGINES)}")


def count_with(
    engine: str,
    source: Path | str | Sequence[Path | str],
    rules: str | None = None,
    peildatum: date | None = None,
    allow_bsn: bool = False,
    fail_on_invalid: bool = True,
    spark_master: str | None = None,
) -> Any:
    """Count a Parquet or CSV input on DuckDB or Spark with the generated query: the same
    :class:`engine.count.CountResult` (table, reconciliation, warnings) as the Polars engine.

    Rejected rows stop the run (``fail_on_invalid``) with the same message as the Polars engine's,
    after a second query for their details; otherwise they are only counted in the
    reconciliation (``problems`` stays empty). No quarantine file."""
    from engine.count import CountResult, warnings
    from engine.errors import InvalidRowsError
    from engine.layout import publication_table
    from engine.outcome import problems_from, reconcile
    from engine.privacy import check_bsn
    from engine.rules import DEFAULT_RULES, select_ruleset

    ruleset = select_ruleset(rules or DEFAULT_RULES, peildatum)
    indeling = default_indeling()
    paths = [source] if isinstance(source, str | Path) else list(source)
    classified = classified_sql(VIEW, ruleset, peildatum, indeling)
    got = run_queries(engine, paths, {"groepen": _groups_sql(classified)}, spark_master)
    groups = got["groepen"].with_columns(
        pl.col("profiel").cast(pl.Boolean), pl.col("n").cast(pl.Int64), pl.col("bsn_achtig").cast(pl.Int64)
    )
    reconciliation = reconcile(groups, ruleset)
    check_bsn(int(groups["bsn_achtig"].sum() or 0), reconciliation.gelezen, allow_bsn)
    if reconciliation.n_afgewezen and fail_on_invalid:
        rejected = run_queries(engine, paths, {"afgewezen": _rejected_sql(classified)}, spark_master)["afgewezen"]
        details = (
            rejected.with_columns(pl.col("n").cast(pl.Int64))
            .sort(["reden", "n", "waarde"], descending=[False, True, False], nulls_last=True)
            .group_by("reden", maintain_order=True)
            .agg(
                pl.col("n").sum(),
                pl.col("voorbeeld").drop_nulls().unique(maintain_order=True).head(3).alias("voorbeelden"),
                pl.col("waarde").drop_nulls().unique(maintain_order=True).head(5).alias("waarden"),
            )
        )
        raise InvalidRowsError(problems_from(details, indeling), reconciliation.gelezen)
    cells = (
        groups.filter(pl.col("uitkomst") == "geteld")
        .group_by("gemeente", "klantsoort", "profiel")
        .agg(pl.col("n").sum().cast(pl.UInt32))
    )
    statuses = groups.group_by("status").agg(pl.col("n").sum())
    return CountResult(
        table=publication_table(cells, indeling),
        reconciliation=reconciliation,
        problems=[],
        ruleset=ruleset,
        peildatum=peildatum,
        cells=cells,
        warnings=warnings(reconciliation, ruleset, {s: int(n) for s, n in statuses.iter_rows()}),
    )


def refuse_options(engine: str, on_invalid: object, *reading: object) -> None:
    """``count --engine duckdb|spark`` reads Parquet and CSV by the contract's column names and
    writes no quarantine file: refuse the options it would ignore."""
    if engine not in ENGINES:
        raise UsageError(f"--engine {engine}: kies uit {', '.join(ENGINES)}")
    if str(on_invalid) != "fail":
        raise UsageError(f"--engine {engine} schrijft geen quarantainebestand: gebruik --engine polars")
    if any(option for option in reading):
        raise UsageError(
            f"--engine {engine} leest Parquet en CSV zoals ze zijn: --scheidingsteken, --encoding, --blad, "
            "--kolommen en --datumformaat werken alleen met --engine polars"
        )
