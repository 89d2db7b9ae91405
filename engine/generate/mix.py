"""Why a generated row is not counted: the failure reasons, the default mix, ``--mix`` parsing.

Every generated row that is not counted has exactly one *primary* reason. The reason
decides the first counting rule (rules/teldefinitie-2025.toml, in order) the row fails;
any extra failure the row gets is on a *later* rule only, so the engine's ``reden``
(the first failing rule) is always the primary reason's rule.

A reason's key is the id it exercises in the rule file: the rule's id, with the way it is
failed after a dot where a rule can be failed in two ways (``open_dienstverlening.einde``,
``open_dienstverlening.geen_begin``), and the signal's id for the beschut clients without
vink, who fail ``banenafspraak`` (``beschut_zonder_vink``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import UsageError


@dataclass(frozen=True)
class Reason:
    key: str
    rule: str  # the rule id in rules/teldefinitie-2025.toml the engine reports
    description: str


REASONS: tuple[Reason, ...] = (
    Reason("ingeschreven", "ingeschreven", "status 'uitgeschreven'"),
    Reason("open_dienstverlening.einde", "open_dienstverlening", "de indicering heeft een einddatum"),
    Reason("open_dienstverlening.geen_begin", "open_dienstverlening", "de indicering heeft geen begindatum"),
    Reason("doelgroepregister", "doelgroepregister", "niet in het doelgroepregister (onwaar of onbekend)"),
    Reason("banenafspraak", "banenafspraak", "in het doelgroepregister, 'banenafspraak' niet aangevinkt"),
    Reason(
        "beschut_zonder_vink",
        "banenafspraak",
        "beschut werkend in de WSW: in het doelgroepregister, beschut_wsw waar, 'banenafspraak' niet aangevinkt",
    ),
)
REASON_KEYS: tuple[str, ...] = tuple(r.key for r in REASONS)
#: The keys before they were the rule ids, still read.
ALIASES: dict[str, str] = {
    "uitgeschreven": "ingeschreven",
    "ended": "open_dienstverlening.einde",
    "no_begin": "open_dienstverlening.geen_begin",
    "not_in_register": "doelgroepregister",
    "no_vink": "banenafspraak",
    "beschut_no_vink": "beschut_zonder_vink",
}

#: Shares of the non-counted rows per reason. Leaving Sonar and ended indiceringen are the
#: bulk of a real extraction; beschut WSW is a small, separately reported group.
DEFAULT_MIX: dict[str, float] = {
    "ingeschreven": 0.30,
    "open_dienstverlening.einde": 0.25,
    "open_dienstverlening.geen_begin": 0.05,
    "doelgroepregister": 0.20,
    "banenafspraak": 0.12,
    "beschut_zonder_vink": 0.08,
}


def mix_text(mix: dict[str, float]) -> str:
    return ",".join(f"{k}={mix[k]:g}" for k in REASON_KEYS)


def parse_mix(spec: str | dict[str, float] | None) -> dict[str, float]:
    """``ingeschreven=0.3,open_dienstverlening.einde=0.2,...`` -> shares per reason, normalised
    to sum 1.

    Reasons left out get 0. The former keys (:data:`ALIASES`) are read as their new ones.
    Unknown or repeated keys, non-numbers, negative shares and an all-zero mix are usage errors.
    """
    if spec is None:
        return dict(DEFAULT_MIX)
    if isinstance(spec, dict):
        items = [(k, v) for k, v in spec.items()]
    else:
        items = []
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key, eq, value = part.partition("=")
            if not eq:
                raise UsageError(f"--mix: {part!r} is geen SLEUTEL=AANDEEL (bijvoorbeeld ingeschreven=0.3)")
            try:
                share = float(value)
            except ValueError:
                raise UsageError(f"--mix: het aandeel van {key.strip()!r} is geen getal: {value!r}") from None
            items.append((key.strip(), share))
    shares: dict[str, float] = {}
    for given, share in items:
        key = ALIASES.get(given, given)
        if key not in REASON_KEYS:
            raise UsageError(f"--mix: onbekende sleutel {given!r}; bekend: {', '.join(REASON_KEYS)}")
        if key in shares:
            raise UsageError(f"--mix: sleutel {key!r} twee keer gegeven")
        if not np.isfinite(share) or share < 0:
            raise UsageError(f"--mix: het aandeel van {given!r} moet 0 of meer zijn, niet {share!r}")
        shares[key] = float(share)
    total = sum(shares.values())
    if total <= 0:
        raise UsageError(f"--mix: geef minstens één positief aandeel; bekende sleutels: {', '.join(REASON_KEYS)}")
    return {k: shares.get(k, 0.0) / total for k in REASON_KEYS}


def allocate(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split ``total`` rows over the reasons exactly (largest remainder, ties in reason order)."""
    weights = np.array([shares.get(k, 0.0) for k in REASON_KEYS], dtype=np.float64)
    return dict(zip(REASON_KEYS, largest_remainder(total, weights), strict=True))


def largest_remainder(total: int, weights: np.ndarray) -> list[int]:
    """Integers proportional to ``weights`` that add up to ``total`` exactly."""
    if total == 0 or weights.sum() <= 0:
        return [0] * len(weights)
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:short]] += 1
    return [int(x) for x in base]
