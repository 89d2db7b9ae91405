"""Synthetic Sonar-like client microdata, calibrated to reproduce an official table.

``generate(out, ...)`` writes a file of client records (engine.contract) that the engine
counts into exactly a reference table (calibrated) or into a plausible one. Modules:

* :mod:`~engine.generate.mix`        the reasons a row is not counted, ``--mix``;
* :mod:`~engine.generate.population` how many rows of each kind, and per chunk;
* :mod:`~engine.generate.records`    one chunk of records, column by column;
* :mod:`~engine.generate.vocab`      vocabularies and messy spellings;
* :mod:`~engine.generate.ids`        unique pseudonymous client ids;
* :mod:`~engine.generate.sink`       Parquet (pyarrow) / CSV writing, atomically;
* :mod:`~engine.generate.run`        the driver.
"""

from engine.generate.mix import DEFAULT_MIX, REASON_KEYS, REASONS, parse_mix
from engine.generate.population import DEFAULT_FILLER_RATIO, DEFAULT_UNCALIBRATED_ROWS
from engine.generate.run import CHUNK_ROWS, GenerateSummary, generate

__all__ = [
    "CHUNK_ROWS",
    "DEFAULT_FILLER_RATIO",
    "DEFAULT_MIX",
    "DEFAULT_UNCALIBRATED_ROWS",
    "REASONS",
    "REASON_KEYS",
    "GenerateSummary",
    "generate",
    "parse_mix",
]
