"""The Python API: every kind of input counts alike, and bad input raises a typed error."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import transparantie
from engine.count import count_file
from engine.errors import TransparantieError
from tests.factory import client, frame, write_parquet


@pytest.fixture
def records() -> pl.DataFrame:
    return frame([client("a"), client("b", gemeente="Assen"), client("c", status="uitgeschreven")])


def test_every_kind_of_input_counts_as_the_file(records: pl.DataFrame, tmp_path: Path) -> None:
    path = write_parquet(records.to_dicts(), tmp_path / "c.parquet")
    expected = count_file(path)
    inputs = {
        "path": path,
        "text path": str(path),
        "paths": [path],
        "DataFrame": records,
        "LazyFrame": records.lazy(),
        "pandas": records.to_pandas(),
        "pyarrow": records.to_arrow(),
    }
    for kind, data in inputs.items():
        result = transparantie.count(data)
        assert result.table.equals(expected.table), kind
        assert result.reconciliation == expected.reconciliation, kind
        assert result.problems == [] and result.warnings == expected.warnings, kind


def test_every_command_has_a_function(records: pl.DataFrame, tmp_path: Path) -> None:
    assert transparantie.funnel(records).table.equals(transparantie.funnel(records).steps)
    assert transparantie.profiel(records, niveau="nederland").table.height == 1
    assert [c.client_id for c in transparantie.explain(records, ["b"]).clients] == ["b"]
    prepared = transparantie.prepare(records, tmp_path / "p.parquet")
    assert prepared.read == 3
    # That the prepared file counts like its source is the golden run's and the property test's.
    assert transparantie.count(prepared.output).reconciliation.gelezen == 3
    assert transparantie.inspect(records).as_dict()


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda r: transparantie.count(42), transparantie.UsageError, "wordt niet ondersteund"),
        (lambda r: transparantie.count(r, on_invalid="negeer"), transparantie.UsageError, "kies uit 'fail'"),
        (lambda r: transparantie.count(r, peildatum="30-06-2025"), transparantie.UsageError, "JJJJ-MM-DD"),
        (lambda r: transparantie.funnel(r, niveau="provincie"), transparantie.UsageError, "'provincie'"),
        (lambda r: transparantie.count(r.drop("gemeente")), transparantie.SchemaError, "gemeente"),
        (lambda r: transparantie.count(r, rules="geen-regels"), transparantie.RuleFileError, "geen-regels"),
        (
            lambda r: transparantie.count(r.with_columns(pl.lit("Atlantis").alias("gemeente"))),
            transparantie.InvalidRowsError,
            "Atlantis",
        ),
        (
            lambda r: transparantie.count(r, on_invalid="quarantine"),
            transparantie.UsageError,
            "--quarantine PAD",
        ),
    ],
)
def test_bad_input_raises_a_typed_error_with_the_clis_message(
    records: pl.DataFrame, call: object, error: type[TransparantieError], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(records)  # type: ignore[operator]
