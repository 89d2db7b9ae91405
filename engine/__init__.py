"""transparantie: reproduce UWV's *Transparantie van klantprofielen* from Sonar-like microdata."""

__version__ = "0.1.0"
