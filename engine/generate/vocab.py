"""The small vocabularies the generator draws from, and their messy spellings.

Every string column of a generated file is built as an index into one of these short
lists (an Arrow dictionary array), never string by string: that is what makes 100M rows
feasible. A :class:`Variants` holds, for each *canonical* value, the spellings a real
export might use; the engine's contract (engine.contract, engine.indeling) must map every
spelling back to its canonical value, which :func:`gemeente_variants` checks when built.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import polars as pl

from engine.contract import FALSE_WORDS, TRUE_WORDS
from engine.indeling import ALIAS_FILE, Indeling, name_key

# --- indiceringen ------------------------------------------------------------------------------
# The normalised (trimmed, lower-cased) values of rules/teldefinitie-2025.toml [klantsoort], with
# the weights the generator draws them with: Wajong is the largest UWV group in the
# banenafspraak, then WIA and WW; bijstand and NUG make up almost all gemeente clients.

UWV_INDICERINGEN: dict[str, float] = {
    "wajong": 0.46,
    "wia": 0.17,
    "ww": 0.12,
    "wao": 0.08,
    "zw": 0.07,
    "tw": 0.04,
    "waz": 0.03,
    "iow": 0.03,
}
GEMEENTE_INDICERINGEN: dict[str, float] = {
    "bijstand": 0.58,
    "nug": 0.32,
    "ioaw": 0.05,
    "bbz": 0.03,
    "ioaz": 0.02,
}
#: How the indicering is usually written in an export (the messy mode's main spelling).
INDICERING_DISPLAY: dict[str, str] = {
    "wajong": "Wajong",
    "wia": "WIA",
    "ww": "WW",
    "wao": "WAO",
    "zw": "ZW",
    "tw": "TW",
    "waz": "WAZ",
    "iow": "IOW",
    "bijstand": "Bijstand",
    "nug": "NUG",
    "ioaw": "IOAW",
    "bbz": "Bbz",
    "ioaz": "IOAZ",
}
INDICERINGEN: tuple[str, ...] = (*UWV_INDICERINGEN, *GEMEENTE_INDICERINGEN)
N_UWV = len(UWV_INDICERINGEN)

STATUS_INGESCHREVEN = "ingeschreven"
STATUS_UITGESCHREVEN = "uitgeschreven"
STATUSES: tuple[str, ...] = (STATUS_INGESCHREVEN, STATUS_UITGESCHREVEN)

# --- profile components ------------------------------------------------------------------------
# Prime-sized lists: a row's values are first, first+stride, first+2*stride (mod size), which
# are distinct for any stride in 1..size-1 when the size is prime.

OPLEIDING = (
    "geen", "basisonderwijs", "praktijkonderwijs", "vso", "vmbo", "mbo 1", "mbo 2",
    "mbo 3", "mbo 4", "havo", "vwo", "hbo", "wo",
)  # fmt: skip
VAARDIGHEDEN = (
    "computervaardig", "rijbewijs B", "heftruckcertificaat", "VCA", "kassa", "Nederlandse taal",
    "Engelse taal", "rekenen", "klantcontact", "schoonmaken", "koken",
)  # fmt: skip
COMPETENTIES = (
    "samenwerken", "zelfstandig werken", "nauwkeurig", "flexibel", "klantgericht",
    "stressbestendig", "leergierig", "doorzetten", "communiceren", "plannen", "betrouwbaar",
)  # fmt: skip
AFFINITEITEN = (
    "dieren", "mensen", "techniek", "natuur", "computers", "muziek", "sport", "koken",
    "auto's", "kunst", "ordenen", "buiten werken", "kinderen",
)  # fmt: skip
BEROEPSSECTOREN = (
    "groen", "zorg en welzijn", "horeca", "logistiek", "schoonmaak", "detailhandel", "bouw",
    "techniek en productie", "administratie", "ICT", "facilitaire dienstverlening", "agrarisch",
    "transport", "onderwijs", "overheid", "cultuur", "beveiliging",
)  # fmt: skip
LIST_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "opleiding": OPLEIDING,
    "vaardigheden": VAARDIGHEDEN,
    "competenties": COMPETENTIES,
    "affiniteiten": AFFINITEITEN,
    "beroepssectoren": BEROEPSSECTOREN,
}
#: Values that *look* filled but are not registered (engine.contract.registered_list).
BLANK_VALUES = ("", "  ")

#: Answers to a taaksoortvraag; any of them registers the question, "nee" too.
TAAKSOORT_ANSWERS = ("ja", "nee", "misschien")
#: A taaksoort value that is present but blank: not registered.
TAAKSOORT_DICTIONARY = (*TAAKSOORT_ANSWERS, *BLANK_VALUES)

# --- dates -------------------------------------------------------------------------------------

EPOCH = date(1970, 1, 1)
#: Indiceringen begin in the banenafspraak era and end before the extraction date.
FIRST_DAY = date(2015, 1, 1)
LAST_DAY = date(2025, 6, 30)
FIRST_DAY_NO = (FIRST_DAY - EPOCH).days
LAST_DAY_NO = (LAST_DAY - EPOCH).days


@cache
def iso_days() -> tuple[str, ...]:
    """Every day from FIRST_DAY to LAST_DAY as ISO text: a dictionary for messy date columns."""
    return tuple((FIRST_DAY + timedelta(days=d)).isoformat() for d in range(LAST_DAY_NO - FIRST_DAY_NO + 1))


# --- spellings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variants:
    """Spellings per canonical value, flattened into one dictionary.

    ``words[offsets[i]]`` is value i's main spelling; ``words[offsets[i] + 1 : offsets[i] +
    counts[i]]`` are the alternatives.
    """

    words: tuple[str, ...]
    offsets: np.ndarray  # int32, one per canonical value
    counts: np.ndarray  # int32, >= 1

    @staticmethod
    def of(spellings: list[list[str]]) -> Variants:
        counts = np.array([len(s) for s in spellings], dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        return Variants(tuple(w for s in spellings for w in s), offsets, counts)

    def pick(self, values: np.ndarray, rng: np.random.Generator, p_main: float) -> np.ndarray:
        """Dictionary index per row: the main spelling with probability ``p_main``, else a
        uniformly chosen alternative (when the value has any)."""
        n_alt = self.counts[values] - 1
        u = rng.random(values.shape[0], dtype=np.float32)
        alt = 1 + ((u - p_main) / np.float32(1 - p_main) * n_alt).astype(np.int32)
        alt = np.minimum(alt, n_alt)
        return self.offsets[values] + np.where((u < p_main) | (n_alt == 0), 0, alt)


def _case_and_space(display: str) -> list[str]:
    lower, upper = display.lower(), display.upper()
    spellings = [display, lower, upper, f" {display}", f"{lower}  ", f"\t{display} "]
    return list(dict.fromkeys(spellings))


@cache
def status_variants() -> Variants:
    """Case and whitespace variants; the contract trims and case-folds status."""
    return Variants.of([_case_and_space(s.capitalize()) for s in STATUSES])


@cache
def indicering_variants() -> Variants:
    return Variants.of([_case_and_space(INDICERING_DISPLAY[i]) for i in INDICERINGEN])


@cache
def bool_variants() -> Variants:
    """Index 0 = false, 1 = true: mostly ``N``/``J``, sometimes another word the contract knows."""
    false = ["N", "n", "nee", "Nee", "0", "false"]
    true = ["J", "j", "ja", "Ja", "1", "true"]
    assert all(w.strip().lower() in FALSE_WORDS for w in false)
    assert all(w.strip().lower() in TRUE_WORDS for w in true)
    return Variants.of([false, true])


def _without_diacritics(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _aliases() -> dict[str, list[str]]:
    by_target: dict[str, list[str]] = {}
    for alias, target in pl.read_csv(ALIAS_FILE).select("alias", "gemeente").iter_rows():
        by_target.setdefault(target, []).append(alias)
    return by_target


def gemeente_variants(indeling: Indeling, messy: bool) -> Variants:
    """Per gemeente (in indeling order) its canonical name, plus, when messy, the spellings
    an export might use: aliases (``Den Haag``), no diacritics (``Sudwest-Fryslan``),
    ``s Gravenhage``, upper and lower case, stray whitespace.

    Every spelling is checked to match its own gemeente through engine.indeling's key,
    so messy files count exactly like clean ones.
    """
    spellings: list[list[str]] = []
    for name in indeling.gemeenten:
        options = [name]
        if messy:
            plain = _without_diacritics(name)
            options += [plain, name.upper(), plain.lower(), f" {name} "]
            if name.startswith("'s-"):
                options += ["s " + name[3:], name[1:]]
            options += _aliases().get(name, [])
        options = list(dict.fromkeys(options))
        for option in options:
            if indeling.keys.get(name_key(option)) != name:
                raise AssertionError(f"spelling {option!r} does not match gemeente {name!r}")
        spellings.append(options)
    return Variants.of(spellings)
