"""The indeling: 342 gemeenten in 35 arbeidsmarktregio's, and how raw names find them.

Names are matched on a *key*: lower-cased, diacritics removed, and everything but letters
and digits dropped, so ``s Gravenhage``, ``'S-GRAVENHAGE`` and ``Sudwest-Fryslan`` all find
their gemeente. Letters of other scripts are kept, so ``Utrecht中`` is not ``Utrecht``.
Besides the names, four tables of data lead to a gemeente, each with its source:

* aliases (``gemeente-aliassen.csv``): ``Den Haag``, ``Den Bosch``, ``Bergen NH`` ...;
* CBS gemeentecodes and CBS names (``gemeentecodes-2025.csv``): ``GM0363``, ``0363`` and
  ``363``; ``Hengelo (O.)``, ``Rijswijk (ZH.)`` ...;
* former gemeenten, merged since 2019 (``herindelingen-2019-2025.csv``): ``Weesp`` is
  Amsterdam since 2022-03-24. A gemeente split over several successors (Haaren, 2021) is
  ambiguous and matches none; the error message names the successors.

Every match carries its *route* (``naam``, ``alias``, ``code``, ``voormalig``), which
``funnel`` and ``inspect`` count.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

from engine.paths import REFERENCE_DIR

INDELING_FILE = REFERENCE_DIR / "indeling-2025.csv"
ALIAS_FILE = REFERENCE_DIR / "gemeente-aliassen.csv"
CODE_FILE = REFERENCE_DIR / "gemeentecodes-2025.csv"
HERINDELING_FILE = REFERENCE_DIR / "herindelingen-2019-2025.csv"
#: Every file the matching reads: prepared files carry their hash.
INDELING_FILES = (INDELING_FILE, ALIAS_FILE, CODE_FILE, HERINDELING_FILE)

ROUTES = ("naam", "alias", "code", "voormalig")
_CODE = re.compile(r"^(?:gm)?(\d{1,4})$")


def name_key(name: str) -> str:
    """The matching key of one name, in Python (mirrors :func:`key_expr`)."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in stripped.lower() if ch.isalnum())


def key_expr(names: pl.Expr) -> pl.Expr:
    """The matching key of a column of names, as a Polars expression."""
    return (
        names.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]", "")
    )


def code_keys(code: str) -> list[str]:
    """``GM0363`` is written ``GM0363``, ``0363`` or ``363``: the keys of all three."""
    digits = code.removeprefix("GM")
    return [f"gm{digits}", digits, str(int(digits))]


@dataclass(frozen=True)
class Indeling:
    """Gemeenten in publication order, with their region, and the lookup from key to name."""

    frame: pl.DataFrame  # amr, arbeidsmarktregio, gemeente — publication order
    keys: dict[str, str]  # name key -> canonical gemeente
    routes: dict[str, str] = field(default_factory=dict)  # name key -> route (ROUTES)
    split: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key of a split former gemeente -> successors

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

    def route(self, names: pl.Expr) -> pl.Expr:
        """How each raw name found its gemeente (``naam``, ``alias``, ``code``, ``voormalig``); null if none."""
        return key_expr(names).replace_strict(
            list(self.routes), list(self.routes.values()), default=None, return_dtype=pl.Enum(ROUTES)
        )

    def amr_of(self, gemeente: pl.Expr) -> pl.Expr:
        return gemeente.cast(pl.String).replace_strict(
            self.frame["gemeente"], self.frame["amr"], default=None, return_dtype=pl.Int32
        )

    def suggest(self, raw_name: str, n: int = 3) -> list[str]:
        """The nearest canonical names, closest first, for an error message; for a gemeente
        split over several successors, those."""
        key = name_key(raw_name)
        if key in self.split:
            return list(self.split[key])
        close = difflib.get_close_matches(key, [k for k in self.keys if not k.isdigit()], n=n, cutoff=0.6)
        return list(dict.fromkeys(self.keys[k] for k in close))


def load_indeling(
    indeling_file: Path = INDELING_FILE,
    alias_file: Path = ALIAS_FILE,
    code_file: Path = CODE_FILE,
    herindeling_file: Path = HERINDELING_FILE,
) -> Indeling:
    frame = pl.read_csv(indeling_file, schema_overrides={"amr": pl.Int32})
    known = set(frame["gemeente"])
    keys: dict[str, str] = {}
    routes: dict[str, str] = {}

    def add(key: str, target: str, route: str, what: str) -> None:
        if target not in known:
            raise ValueError(f"{what} points to unknown gemeente {target!r}")
        if keys.get(key, target) != target:
            raise ValueError(f"{what} collides with gemeente {keys[key]!r} on key {key!r}")
        keys[key] = target
        routes.setdefault(key, route)

    for name in frame["gemeente"]:
        if name_key(name) in keys:
            raise ValueError(
                f"two gemeenten share the matching key {name_key(name)!r}: {keys[name_key(name)]!r}, {name!r}"
            )
        add(name_key(name), name, "naam", f"gemeente {name!r}")
    for alias, target in pl.read_csv(alias_file).select("alias", "gemeente").iter_rows():
        add(name_key(alias), target, "alias", f"alias {alias!r} in {alias_file.name}")
    codes = pl.read_csv(code_file, infer_schema=False)
    for code, target, cbs_name in codes.select("code", "gemeente", "cbs_naam").iter_rows():
        for key in code_keys(code):
            add(key, target, "code", f"code {code} in {code_file.name}")
        add(name_key(cbs_name), target, "alias", f"CBS name {cbs_name!r} in {code_file.name}")
    split: dict[str, tuple[str, ...]] = {}
    herindelingen = pl.read_csv(herindeling_file, infer_schema=False)
    for old, old_code, new, _datum in herindelingen.select(
        "oude_gemeente", "oude_code", "nieuwe_gemeente", "datum"
    ).iter_rows():
        successors = tuple(new.split("|"))
        if len(successors) > 1:
            missing = [s for s in successors if s not in known]
            if missing:
                raise ValueError(f"former gemeente {old!r} points to unknown gemeente(n) {missing}")
            for key in (name_key(old), *code_keys(old_code)):
                if key in keys:
                    raise ValueError(f"split former gemeente {old!r} collides with {keys[key]!r}")
                split[key] = successors
            continue
        what = f"former gemeente {old!r} in {herindeling_file.name}"
        add(name_key(old), new, "voormalig", what)
        for key in code_keys(old_code):
            add(key, new, "voormalig", what)
    return Indeling(frame=frame, keys=keys, routes=routes, split=split)


@cache
def default_indeling() -> Indeling:
    return load_indeling()
