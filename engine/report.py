"""Report text shared by every command: headings, Dutch numbers and percentages, the JSON header,
and the numbering of the counting rules."""

from __future__ import annotations

from datetime import date

from engine.rules import RuleSet


def nl_int(n: int) -> str:
    """An integer with Dutch thousands separators: 1092 -> '1.092'."""
    return f"{n:,}".replace(",", ".")


def nl_pct(share: float | None, decimals: int = 1) -> str:
    """A share as a Dutch percentage: 0.8123 -> '81,2%'; no share (nothing counted) -> '-'."""
    if share is None:
        return "-"
    return f"{100 * share:.{decimals}f}%".replace(".", ",")


def moment(peildatum: date | None) -> str:
    """Which indiceringen are open: at a peildatum, or at the moment of the extraction."""
    return f"peildatum {peildatum}" if peildatum else "open dienstverlening op het moment van de extractie"


def heading(what: str, ruleset: RuleSet, peildatum: date | None) -> str:
    """The first line of every report: what, which rules, which moment."""
    return f"{what} — regels: {ruleset.naam} (geldig vanaf {ruleset.geldig_vanaf}); {moment(peildatum)}"


def json_header(ruleset: RuleSet, peildatum: date | None) -> dict[str, object]:
    """The fields every JSON report starts with: which rules, which moment."""
    return {
        "regels": ruleset.naam,
        "geldig_vanaf": ruleset.geldig_vanaf.isoformat(),
        "peildatum": peildatum.isoformat() if peildatum else None,
    }


def rule_number(ruleset: RuleSet, rule_id: str) -> int:
    """The number a report gives a counting rule: its place in the rule set, from 1."""
    return [r.id for r in ruleset.regel].index(rule_id) + 1
