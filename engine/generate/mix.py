"""Why a generated row is not counted: the failure reasons, the default mix, ``--mix`` parsing.

Every generated row that is not counted has exactly one *primary* reason. The reason
decides the first counting rule (rules/teldefinitie-2025.toml, in order) the row fails;
any extra failure the row gets is on a *later* rule only, so the engine's ``reden``
(the first failing rule) is always the primary reason's rule.
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
    Reason("uitgeschreven", "ingeschreven", "status 'uitgeschreven'"),
    Reason("ended", "open_dienstverlening", "indicering has an einddatum"),
    Reason("no_begin", "open_dienstverlening", "indicering has no begindatum"),
    Reason("not_in_register", "doelgroepregister", "not in the doelgroepregister (false or unknown)"),
    Reason("no_vink", "banenafspraak", "in the register, but 'banenafspraak' not ticked"),
    Reason(
        "beschut_no_vink",
        "banenafspraak",
        "beschut werkend in de WSW: in the register, beschut_wsw true, 'banenafspraak' not ticked",
    ),
)
REASON_KEYS: tuple[str, ...] = tuple(r.key for r in REASONS)

#: Shares of the non-counted rows per reason. Leaving Sonar and ended indiceringen are the
#: bulk of a real extraction; beschut WSW is a small, separately reported group.
DEFAULT_MIX: dict[str, float] = {
    "uitgeschreven": 0.30,
    "ended": 0.25,
    "no_begin": 0.05,
    "not_in_register": 0.20,
    "no_vink": 0.12,
    "beschut_no_vink": 0.08,
}


def mix_text(mix: dict[str, float]) -> str:
    return ",".join(f"{k}={mix[k]:g}" for k in REASON_KEYS)


def parse_mix(spec: str | dict[str, float] | None) -> dict[str, float]:
    """``uitgeschreven=0.3,ended=0.2,...`` -> shares per reason, normalised to sum 1.

    Reasons left out get 0. Unknown or repeated keys, non-numbers, negative shares
    and an all-zero mix are usage errors.
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
                raise UsageError(f"--mix: {part!r} is geen SLEUTEL=AANDEEL (bijvoorbeeld uitgeschreven=0.3)")
            try:
                share = float(value)
            except ValueError:
                raise UsageError(f"--mix: het aandeel van {key.strip()!r} is geen getal: {value!r}") from None
            items.append((key.strip(), share))
    shares: dict[str, float] = {}
    for key, share in items:
        if key not in REASON_KEYS:
            raise UsageError(f"--mix: onbekende reden {key!r}; bekend: {', '.join(REASON_KEYS)}")
        if key in shares:
            raise UsageError(f"--mix: reden {key!r} twee keer gegeven")
        if not np.isfinite(share) or share < 0:
            raise UsageError(f"--mix: het aandeel van {key!r} moet 0 of meer zijn, niet {share!r}")
        shares[key] = float(share)
    total = sum(shares.values())
    if total <= 0:
        raise UsageError(f"--mix: geef minstens één positief aandeel; bekende redenen: {', '.join(REASON_KEYS)}")
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
