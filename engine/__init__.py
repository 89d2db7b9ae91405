"""transparantie: reproduce UWV's *Transparantie van klantprofielen* from Sonar-like microdata.

The Python API is :mod:`engine.api`, imported as the package ``transparantie`` (``engine.count``
and its siblings are the command modules, so the functions of the same names live there).
"""

__version__ = "0.1.0"
