"""Privacy guards: no BSN in the input, no long or many values echoed in messages.

The input must be pseudonymised: a ``client_id`` column whose values look like BSNs
(burgerservicenummers: exactly nine digits passing the elfproef) stops the run unless the
user explicitly allows it (``--sta-bsn-toe``). The check is a lazy, vectorised expression
that rides along in the aggregation a command already runs (engine.count), so it costs no
extra pass over the input.
"""

from __future__ import annotations

import polars as pl

from engine.errors import MAX_SHOWN_CHARS, MAX_SHOWN_VALUES, TransparantieError, capped, shown

__all__ = ["MAX_SHOWN_CHARS", "MAX_SHOWN_VALUES", "capped", "shown"]

#: Column that carries, per aggregated group, how many of its client_ids look like a BSN.
BSN_COLUMN = "bsn_achtig"
#: From this many BSN-like ids on, the run stops ...
BSN_MIN_ROWS = 5
#: ... or from this share of the rows read (so a tiny file with one BSN stops too).
BSN_MIN_SHARE = 0.01
#: funnel: status and indicering values seen in fewer records than this are shown together as
#: one line 'overig' (free text typed for a single client is not echoed).
MIN_AANTAL = 10
#: Weights of the elfproef for BSNs: d1*9 + d2*8 + ... + d8*2 - d9*1 is divisible by 11.
ELFPROEF_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def looks_like_bsn(column: pl.Expr) -> pl.Expr:
    """True where the value is exactly nine digits that pass the elfproef; false otherwise,
    null included. Vectorised: no Python per row."""
    text = column.cast(pl.String)
    nine_digits = text.str.contains(r"^[0-9]{9}$").fill_null(False)
    # Digits by integer arithmetic: much cheaper than nine string slices per row.
    number = text.cast(pl.Int64, strict=False)
    digits = [(number // 10 ** (8 - i)) % 10 for i in range(9)]
    weighted = pl.sum_horizontal(d * w for d, w in zip(digits, ELFPROEF_WEIGHTS, strict=True))
    return nine_digits & (weighted % 11 == 0).fill_null(False)


def bsn_count(column: str = "client_id") -> pl.Expr:
    """An aggregation: how many values of ``column`` look like a BSN (:func:`looks_like_bsn`).

    Only values of nine bytes are tested (a cheap filter first): a pseudonymised file whose
    ids have another length pays next to nothing (2M rows: +0.5 s testing every id).
    """
    # The contract's client_id is already trimmed, so a padded BSN is caught too. Forms such as
    # "123456782.0" or "1234.56.782" are not: normalising every id for them cost 0.6 s per 2M
    # rows (2026-11-30), more than the rest of the check together.
    text = pl.col(column).cast(pl.String)
    # Elementwise, then summed: a filter inside the aggregation cost 0.6 s per 2M rows in the
    # full count's group_by, against next to nothing for this form.
    return ((text.str.len_bytes() == 9) & looks_like_bsn(text)).sum().cast(pl.Int64).alias(BSN_COLUMN)


class BsnError(TransparantieError):
    """The input's client_id looks like BSNs: it is not pseudonymised."""

    label = "fout"


def too_many(n_bsn: int, n_read: int) -> bool:
    return n_bsn > 0 and (n_bsn >= BSN_MIN_ROWS or n_bsn >= BSN_MIN_SHARE * n_read)


def check_bsn(n_bsn: int, n_read: int, allow: bool) -> None:
    """Stop the run when too many client_ids look like BSNs, unless ``allow``; the values
    themselves are never shown."""
    if allow or not too_many(n_bsn, n_read):
        return
    raise BsnError(
        f"{n_bsn} van {n_read} waarden in kolom 'client_id' zien eruit als een BSN "
        "(negen cijfers die de elfproef doorstaan). De invoer moet gepseudonimiseerd zijn: "
        "vervang het BSN door een pseudoniem voordat u het bestand gebruikt. De waarden worden "
        "niet getoond. Alleen binnen de beveiligde omgeving van UWV, op gegevens die die omgeving "
        "nooit verlaten, kunt u deze controle overslaan met --sta-bsn-toe."
    )
