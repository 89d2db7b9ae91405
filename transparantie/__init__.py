"""transparantie: reproduce UWV's *Transparantie van klantprofielen* from client microdata.

The public Python API (engine.api) under the project's own name; the code lives in ``engine``,
this package only re-exports it. ``engine.count`` and friends are modules (the commands), so
the functions of the same names are reached here: ``transparantie.count(...)``.
"""

from engine import __version__
from engine.api import (
    CountResult,
    ExplainResult,
    FunnelResult,
    GenerateSummary,
    InspectReport,
    Niveau,
    OnInvalid,
    PrepareResult,
    ProfielResult,
    ReadOptions,
    count,
    explain,
    funnel,
    generate,
    inspect,
    prepare,
    profiel,
)
from engine.errors import (
    FileError,
    InvalidRowsError,
    RowProblem,
    RuleFileError,
    SchemaError,
    TransparantieError,
    UsageError,
)
from engine.outcome import Reconciliation

__all__ = [
    "CountResult",
    "ExplainResult",
    "FileError",
    "FunnelResult",
    "GenerateSummary",
    "InspectReport",
    "InvalidRowsError",
    "Niveau",
    "OnInvalid",
    "PrepareResult",
    "ProfielResult",
    "ReadOptions",
    "Reconciliation",
    "RowProblem",
    "RuleFileError",
    "SchemaError",
    "TransparantieError",
    "UsageError",
    "__version__",
    "count",
    "explain",
    "funnel",
    "generate",
    "inspect",
    "prepare",
    "profiel",
]
