"""The indeling: 342 gemeenten in 35 arbeidsmarktregio's, and how raw names find them.

Names are matched on a *key*: lower-cased, diacritics removed, and everything but
letters and digits dropped, so ``s Gravenhage``, ``'S-GRAVENHAGE`` and
``Sudwest-Fryslan`` all find their gemeente. A short list of aliases (``Den Haag``,
``Bergen NH`` ...) is data in ``engine/reference/gemeente-aliassen.csv``.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from engine.paths import REFERENCE_DIR

INDELING_FILE = REFERENCE_DIR / "indeling-2025.csv"
ALIAS_FILE = REFERENCE_DIR / "gemeente-aliassen.csv"


def name_key(name: str) -> str:
    """The matching key of one name, in Python (mirrors :func:`key_expr`)."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.lower() if ch.isascii() and ch.isalnum())


def key_expr(names: pl.Expr) -> pl.Expr:
    """The matching key of a column of names, as a Polars expression."""
    return (
        names.str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    )


@dataclass(frozen=True)
class Indeling:
    """Gemeenten in publication order, with their region, and the lookup from key to name."""

    frame: pl.DataFrame  # amr, arbeidsmarktregio, gemeente — publication order
    keys: dict[str, str]  # name key -> canonical gemeente

    @property
    def gemeenten(self) -> list[str]:
        return self.frame["gemeente"].to_list()

    @property
    def gemeente_dtype(self) -> pl.Enum:
        return pl.Enum(self.gemeenten)

    def regions(self) -> pl.DataFrame:
        return self.frame.select("amr", "arbeidsmarktregio").unique(maintain_order=True)

    def match(self, names: pl.Expr) -> pl.Expr:
        """Canonical gemeente for each raw name; null when blank, null or unknown."""
        return key_expr(names).replace_strict(
            list(self.keys), list(self.keys.values()), default=None, return_dtype=self.gemeente_dtype
        )

    def amr_of(self, gemeente: pl.Expr) -> pl.Expr:
        return gemeente.cast(pl.String).replace_strict(
            self.frame["gemeente"], self.frame["amr"], default=None, return_dtype=pl.Int32
        )

    def suggest(self, raw_name: str, n: int = 3) -> list[str]:
        """The nearest canonical names, closest first, for an error message."""
        close = difflib.get_close_matches(name_key(raw_name), list(self.keys), n=n, cutoff=0.6)
        return list(dict.fromkeys(self.keys[k] for k in close))


def load_indeling(indeling_file: Path = INDELING_FILE, alias_file: Path = ALIAS_FILE) -> Indeling:
    frame = pl.read_csv(indeling_file, schema_overrides={"amr": pl.Int32})
    keys: dict[str, str] = {}
    for name in frame["gemeente"]:
        key = name_key(name)
        if key in keys:
            raise ValueError(f"two gemeenten share the matching key {key!r}: {keys[key]!r} and {name!r}")
        keys[key] = name
    aliases = pl.read_csv(alias_file)
    known = set(frame["gemeente"])
    for alias, target in aliases.select("alias", "gemeente").iter_rows():
        if target not in known:
            raise ValueError(f"alias {alias!r} points to unknown gemeente {target!r} in {alias_file}")
        key = name_key(alias)
        if keys.get(key, target) != target:
            raise ValueError(f"alias {alias!r} collides with gemeente {keys[key]!r}")
        keys[key] = target
    return Indeling(frame=frame, keys=keys)


@cache
def default_indeling() -> Indeling:
    return load_indeling()
