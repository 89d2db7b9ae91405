"""Human-readable text of a rule set, generated from its declaration (never written by hand)."""

from __future__ import annotations

from engine.rules import RuleSet


def describe(ruleset: RuleSet, level: int = 1) -> str:
    """A Markdown description: conditions in order, klantsoort, profiel, with sources and SQL.

    ``level`` is the heading level of the title, so the text can sit inside another document.
    """
    h1, h2 = "#" * level, "#" * (level + 1)
    lines = [
        f"{h1} {ruleset.titel}",
        "",
        f"- naam: `{ruleset.naam}`",
        f"- geldig vanaf: {ruleset.geldig_vanaf}",
        f"- bron: {ruleset.bron}",
        "",
        f"{h2} Voorwaarden (in volgorde; een cliënt telt mee als alle voorwaarden gelden)",
        "",
    ]
    for i, regel in enumerate(ruleset.regel, 1):
        lines += [
            f"{i}. **{regel.id}**: {regel.label}",
            f"   - bron: {regel.bron}",
            f"   - SQL: `{regel.sql}`",
        ]
        if regel.sql_peildatum:
            lines.append(f"   - SQL met peildatum: `{regel.sql_peildatum}`")
    for signaal in ruleset.signaal:
        lines += [
            "",
            f"Signaal **{signaal.id}** (na voorwaarde `{signaal.na_regel}`, telt niet mee): {signaal.label}",
            f"   - bron: {signaal.bron}",
            f"   - SQL: `{signaal.sql}`",
        ]
    k = ruleset.klantsoort
    lines += [
        "",
        f"{h2} Klantsoort",
        "",
        k.label,
        "",
        f"- UWV-indicering: {', '.join(k.uwv)}",
        f"- gemeentelijke indicering: {', '.join(k.gemeente)}",
        f"- bron: {k.bron}",
        "",
        f"{h2} Profiel",
        "",
        ruleset.profiel.label,
        "",
    ]
    lines += [f"- **{o.id}**: {o.label} (`{o.sql}`)" for o in ruleset.profiel.onderdeel]
    lines += [f"- bron: {ruleset.profiel.bron}"]
    return "\n".join(lines)
