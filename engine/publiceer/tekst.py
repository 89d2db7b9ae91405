"""The publication's prose, written once for the pages, the PDF and the workbook.

Only the text that is not a counting rule lives here (the introduction, the column headings,
the footnotes): the voorwaarden, the beschut-WSW note, the klantsoort and the profile
definition are taken from the rule set (:func:`toelichting`), so no rule is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.rules import RuleSet

TITEL = "Transparantie van klantprofielen"

#: The introduction of UWV's publication (Q2 2025), section by section.
INLEIDING: tuple[tuple[str, str], ...] = (
    (
        "Transparantie op de arbeidsmarkt",
        "Gemeenten en UWV hebben een gedeelde verantwoordelijkheid om transparantie op de arbeidsmarkt te "
        "realiseren. Speciaal voor werkgevers en intermediairs heeft UWV daarom de kandidatenverkenner "
        "banenafspraak ontwikkeld: een online databank op werk.nl met de anonieme profielen van mensen die "
        "behoren tot de doelgroep van de banenafspraak. De publicatie ‘Transparantie van klantprofielen’ geeft "
        "inzicht in de vorderingen op dit gebied: hoeveel mensen die behoren tot de doelgroep banenafspraak zijn "
        "vindbaar voor werkgevers en intermediairs?",
    ),
    (
        "Klantprofielen in Sonar",
        "De profielen in de kandidatenverkenner zijn afkomstig uit het landelijke klantvolgsysteem Sonar. UWV "
        "registreert werkzoekenden in Sonar en gebruikt het systeem voor het vastleggen, monitoren en "
        "verantwoorden van de dienstverlening en re-integratie. Gemeenten kunnen eveneens werkzoekenden in Sonar "
        "registreren en het systeem gebruiken voor het vinden van geschikte kandidaten voor een vacature.",
    ),
    (
        "Opstellen van klantprofielen",
        "Sonar biedt ook de mogelijkheid om van geregistreerde kandidaten een klantprofiel op te stellen. Deze "
        "profielen in Sonar bevatten gegevens van werkzoekenden, waaronder opleiding, vaardigheden, competenties, "
        "affiniteiten, beroepssectoren en taaksoorten. Het opstellen van het klantprofiel gebeurt samen met de "
        "cliënt en is een onderdeel van de reguliere dienstverlening van UWV. Ook gemeenten kunnen "
        "klantprofielen opstellen voor hun doelgroep.",
    ),
    (
        "Kandidatenverkenner banenafspraak",
        "Door de koppeling tussen de kandidatenverkenner banenafspraak en Sonar zijn de (geanonimiseerde) "
        "klantprofielen ook beschikbaar voor werkgevers en intermediairs. Gemeenten en UWV kunnen op die manier "
        "hun klantenbestand transparant maken.",
    ),
)

VOORWAARDEN_KOP = "Wanneer wordt een profiel meegeteld voor de transparantiecijfers?"
VOORWAARDEN_INTRO = "Een profiel wordt meegeteld wanneer aan de volgende voorwaarden is voldaan:"
ONDERSCHEID = (
    "Om aan te geven hoe goed mensen uit de banenafspraak te vinden zijn in de kandidatenverkenner, is "
    "onderscheid gemaakt tussen mensen met en zonder profiel in Sonar."
)
GEEN_PROFIEL = (
    "Cliënt heeft geen klantprofiel in Sonar: het klantprofiel wordt als ‘nee’ aangeduid als niet al deze "
    "onderdelen geregistreerd zijn (geen enkel onderdeel, of wel een of meer onderdelen maar nog niet genoeg "
    "voor de teldefinitie)."
)
GRAAD_UITLEG = (
    "Transparantiegraad: het aandeel van de meegetelde cliënten met een klantprofiel in Sonar (profiel ‘ja’, "
    "gemeentecliënten en UWV-cliënten samen), als percentage van het totaal. De arbeidsmarktregio's zijn "
    "gerangschikt van hoogste naar laagste transparantiegraad."
)
VOETNOOT = (
    "Niet alle mensen uit het doelgroepregister zijn ingeschreven in Sonar. En de mensen uit het "
    "doelgroepregister die wel geregistreerd zijn in Sonar hebben niet allemaal een open dienstverlening."
)
ONBEKEND_UITLEG = "Gemeente onbekend: meegetelde cliënten zonder (herkende) woongemeente; zij tellen mee in Nederland."
DISCLAIMER = "Bronvermelding bij overname is verplicht."
ONDERDRUKT_TEKEN = "•"

#: Column headings as in the publication: two groups of two, then the total.
GROEPEN = ("Gemeentecliënten in Sonar", "UWV-cliënten in Sonar")
KOLOMMEN = ("Profiel in Sonar", "Geen profiel in Sonar", "Profiel in Sonar", "Geen profiel in Sonar", "Totaal in Sonar")
GRAAD_KOP = "Transparantiegraad"
VERSCHIL_KOP = "verschil"


def onderdrukking_uitleg(drempel: int) -> str:
    return (
        f"{ONDERDRUKT_TEKEN} = niet gepubliceerd. Aantallen van 1 tot en met {drempel - 1} zijn weggelaten "
        "(een 0 wordt wel getoond), en daarnaast zoveel andere cellen dat de weggelaten aantallen niet uit de "
        "totalen van rijen, regio's en Nederland zijn terug te rekenen. Een transparantiegraad wordt alleen "
        "getoond als alle aantallen van de rij gepubliceerd zijn."
    )


def vergelijking_uitleg(vorige: str) -> str:
    return (
        f"In de kolommen ‘{VERSCHIL_KOP}’ (en tussen haakjes in de grafieken): de verandering ten opzichte "
        f"van {vorige} (nieuw − vorige); bij de transparantiegraad in procentpunten (pp)."
    )


@dataclass(frozen=True)
class Toelichting:
    """The explanation of the figures, taken from the rule set."""

    voorwaarden: list[str]  # the labels of the counting rules, in order
    let_op: list[str]  # the signalen (the beschut-WSW note)
    klantsoort: str
    profiel: str
    onderdelen: list[str]
    regels: str  # rule set name, version, source

    @property
    def secties(self) -> list[tuple[str, list[str]]]:
        """The explanation as (heading, paragraphs), for the workbook's first sheet."""
        return [
            *((kop, [tekst]) for kop, tekst in INLEIDING),
            (
                VOORWAARDEN_KOP,
                [
                    VOORWAARDEN_INTRO,
                    *(f"• {v}" for v in self.voorwaarden),
                    *(f"Let op: {s}" for s in self.let_op),
                    self.klantsoort,
                    ONDERSCHEID,
                    f"Cliënt heeft een klantprofiel in Sonar: {self.profiel}",
                    *(f"• {o}" for o in self.onderdelen),
                    GEEN_PROFIEL,
                ],
            ),
            ("Transparantiegraad", [GRAAD_UITLEG, ONBEKEND_UITLEG, VOETNOOT]),
            ("Teldefinitie", [self.regels]),
        ]


def toelichting(ruleset: RuleSet) -> Toelichting:
    return Toelichting(
        voorwaarden=[r.label for r in ruleset.regel],
        let_op=[s.label for s in ruleset.signaal],
        klantsoort=ruleset.klantsoort.label,
        profiel=ruleset.profiel.label,
        onderdelen=[f"{o.id}: {o.label}" for o in ruleset.profiel.onderdeel],
        regels=f"{ruleset.titel} (regels ‘{ruleset.naam}’, geldig vanaf {ruleset.geldig_vanaf}). Bron: {ruleset.bron}",
    )
