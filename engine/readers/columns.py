"""Which column of the file is which column of the input contract.

Headers match ignoring case, surrounding whitespace, and a space or ``-`` for ``_``:
``Client_ID``, ``GEMEENTE``, ``Gemeente `` and ``indicering-begin`` all find their column.
A mapping file (``--kolommen FILE.toml``) names the others, export name -> contract name::

    [kolommen]
    "Klantnummer" = "client_id"
    "Woonplaats gemeente" = "gemeente"
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from engine.contract import REQUIRED_COLUMNS
from engine.errors import SchemaError


def header_key(name: str) -> str:
    """``Client_ID``, `` client id `` and ``client-id`` all give ``client_id``."""
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip()).casefold()


@dataclass(frozen=True)
class ColumnMap:
    """Contract column -> the file's column, and how it was found."""

    source: dict[str, str]  # contract name -> header in the file
    how: dict[str, str]  # contract name -> "naam" | "kolommen-bestand"

    def rename(self) -> dict[str, str]:
        return {header: contract for contract, header in self.source.items()}


def load_mapping(path: Path) -> dict[str, str]:
    """The mapping file, validated: export name -> contract name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"--kolommen {path}: bestand niet gevonden") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SchemaError(f"--kolommen {path}: geen geldig TOML-bestand: {exc}") from None
    table = data.get("kolommen")
    if not isinstance(table, dict) or set(data) != {"kolommen"}:
        raise SchemaError(f'--kolommen {path}: verwacht één tabel [kolommen] met regels "naam in export" = "kolom"')
    mapping: dict[str, str] = {}
    for export, contract in table.items():
        if not isinstance(contract, str) or contract not in REQUIRED_COLUMNS:
            raise SchemaError(
                f"--kolommen {path}: '{export}' wijst naar {contract!r}, geen kolom van het invoercontract "
                f"(bijvoorbeeld client_id, gemeente, status, indicering_begin, taaksoort_01)"
            )
        if contract in mapping.values():
            raise SchemaError(f"--kolommen {path}: twee exportkolommen wijzen naar '{contract}'")
        mapping[export] = contract
    return mapping


def map_columns(headers: list[str], name: str, mapping: dict[str, str] | None = None) -> ColumnMap:
    """Find every contract column among the file's headers, or fail naming what is missing."""
    mapping = mapping or {}
    by_key: dict[str, str] = {}
    for header in headers:
        key = header_key(header)
        if key in by_key and key in REQUIRED_COLUMNS:
            raise SchemaError(
                f"{name}: de kolommen '{by_key[key]}' en '{header}' zijn allebei '{key}'; laat er één over"
            )
        by_key.setdefault(key, header)
    source: dict[str, str] = {}
    how: dict[str, str] = {}
    for export, contract in mapping.items():
        found = export if export in headers else by_key.get(header_key(export))
        if found is None:
            raise SchemaError(
                f"--kolommen: kolom '{export}' (voor {contract}) staat niet in {name}; "
                f"het bestand heeft: {', '.join(headers)}"
            )
        source[contract], how[contract] = found, "kolommen-bestand"
    for contract in REQUIRED_COLUMNS:
        if contract not in source and contract in by_key:
            source[contract], how[contract] = by_key[contract], "naam"
    missing = [c for c in REQUIRED_COLUMNS if c not in source]
    if missing:
        taken = set(source.values())
        free = [h for h in headers if h not in taken]
        hints = []
        for column in missing[:8]:
            near = difflib.get_close_matches(column, [header_key(h) for h in free], n=1, cutoff=0.6)
            if near:
                hints.append(f"  {column}: bedoelt u '{by_key[near[0]]}'?")
        more = f" (en {len(missing) - 8} meer)" if len(missing) > 8 else ""
        raise SchemaError(
            f"{name}: ontbrekende kolom(men): {', '.join(missing[:8])}{more}\n"
            f"  het bestand heeft: {', '.join(headers) or '(geen kolommen)'}\n"
            + ("\n".join(hints) + "\n" if hints else "")
            + "  Noem afwijkende namen in een bestand voor --kolommen (zie transparantie inspect --help)."
        )
    return ColumnMap(source, how)
