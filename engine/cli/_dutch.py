"""Typer's own words in Dutch: the help screens and the usage errors.

Why this way. Typer (0.29) vendors its own copy of Click (``typer._click``) whose messages are
plain English f-strings, not ``gettext`` calls, so a message catalog (.po/.mo) cannot reach
them; only a few of Typer's strings go through gettext, and those are read once, at import.
What Typer does offer is used instead, each at one place:

* the module constants of ``typer.rich_utils`` for the panel titles, ``[default: …]``,
  ``[required]``, the error panel and its "Try '… --help'" line (:func:`use_dutch_texts`);
* the command classes Typer lets an app choose (``Typer(cls=…)``, ``app.command(cls=…)``):
  :class:`DutchGroup` and :class:`DutchCommand` write the usage line ("Gebruik: …"), the help
  option's text, and show a parameter's type only where it adds something (its choices, a date
  format): never ``<bool>``, ``<path>``, ``<str>``, ``<int>``;
* a usage error (unknown option, missing argument, bad value, …) is caught where the group
  parses and runs a command, and raised again as a Click ``UsageError`` with a Dutch message
  made from the error's own fields (:func:`dutch_message`). Typer then shows it as always: the
  usage line, the hint, the message, exit code 2, no traceback. A message no rule here
  recognises (a future Typer's) keeps its text inside the Dutch frame; tests/test_help.py
  lists the errors it must translate.

Typer builds each parameter object itself and has no setting for the type column, so the
command classes give their parameters a subclass whose ``display_type_rich`` (the one method
the help calls for that column) keeps only the useful hints.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from typer import rich_utils
from typer._click import Context, HelpFormatter
from typer._click.exceptions import (
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

USAGE_PREFIX = "Gebruik: "
OPTIONS_METAVAR = "[OPTIES]"
SUBCOMMAND_METAVAR = "COMMANDO [ARGUMENTEN]..."
HELP_TEXT = "Toon deze hulp en stop."
#: strftime formats as the help and the messages name them.
DATE_FORMATS = {"%Y-%m-%d": "JJJJ-MM-DD"}


def use_dutch_texts() -> None:
    """Set Typer's help and error texts (module constants of typer.rich_utils) in Dutch."""
    rich_utils.ARGUMENTS_PANEL_TITLE = "Argumenten"
    rich_utils.OPTIONS_PANEL_TITLE = "Opties"
    rich_utils.COMMANDS_PANEL_TITLE = "Commando's"
    rich_utils.ERRORS_PANEL_TITLE = "Fout"
    rich_utils.DEFAULT_STRING = "[standaard: {}]"
    rich_utils.REQUIRED_LONG_STRING = "[verplicht]"
    rich_utils.ENVVAR_STRING = "[omgevingsvariabele: {}]"
    rich_utils.DEPRECATED_STRING = "(verouderd) "
    rich_utils.ABORTED_TEXT = "Afgebroken."
    rich_utils.RICH_HELP = "Zie [blue]'{command_path} {help_option}'[/] voor uitleg."


# --- help ------------------------------------------------------------------------------------


def _useful_hint(shown: str) -> str:
    """Of Typer's type hint (``<int>``, ``<nederland|amr|gemeente>``, ``<%Y-%m-%d>``) only what
    tells the user something: the choices, or the date format in Dutch."""
    inner = shown.strip()
    if inner.startswith("<") and inner.endswith(">"):
        inner = inner[1:-1]
    if "%" in inner:
        return "|".join(DATE_FORMATS.get(f, f) for f in inner.split("|"))
    if "|" in inner and "[" not in inner:
        return inner
    return ""


class _Option(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return ""
        return _useful_hint(self.display_type(ctx))


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return _useful_hint(self.display_type(ctx))


def _dutch_params(params: Sequence[Any]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument


class _DutchHelp:
    """What DutchCommand and DutchGroup share: the usage line and the help option in Dutch."""

    params: list[Any]
    options_metavar: str | None

    def _make_dutch(self) -> None:
        self.options_metavar = OPTIONS_METAVAR
        _dutch_params(self.params)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option: TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
            _dutch_params([option])
        return option

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        """``[OPTIES] BESTAND...``: arguments by their name, without Typer's ``{…}``."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):  # type: ignore[attr-defined]
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except UsageError as exc:
            # Click raises some (an option without its value) without a context: give it this
            # command's, so the error shows its usage line and help hint.
            if exc.ctx is None:
                exc.ctx, exc.cmd = ctx, ctx.command
            raise

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=USAGE_PREFIX)


class DutchCommand(_DutchHelp, TyperCommand):
    """A command whose help is Dutch (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._make_dutch()


class DutchGroup(_DutchHelp, TyperGroup):
    """The ``transparantie`` group: Dutch help, and every usage error of it and its commands in
    Dutch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["subcommand_metavar"] = SUBCOMMAND_METAVAR
        super().__init__(*args, **kwargs)
        self._make_dutch()

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), self.subcommand_metavar]

    def make_context(
        self, info_name: str | None, args: list[str], parent: Context | None = None, **extra: Any
    ) -> Context:
        with _dutch_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context) -> Any:
        # Resolving the command, and parsing its arguments (in its make_context), happen here.
        with _dutch_usage_errors():
            return super().invoke(ctx)


# --- usage errors --------------------------------------------------------------------------------


class _DutchUsageError(UsageError):
    """A usage error whose message is already Dutch."""


@contextmanager
def _dutch_usage_errors() -> Iterator[None]:
    try:
        yield
    except (NoArgsIsHelpError, _DutchUsageError):
        raise
    except UsageError as exc:
        dutch = _DutchUsageError(dutch_message(exc), exc.ctx)
        dutch.exit_code = exc.exit_code
        raise dutch from None


def _param_hint(exc: BadParameter) -> str | None:
    """How the error names its parameter, as Click does: ``'--amr'``, ``'BESTAND'``."""
    hint = exc.param_hint
    if hint is None and exc.param is not None:
        hint = exc.param.get_error_hint()
    if hint is None:
        return None
    if isinstance(hint, str):
        return hint
    return " / ".join(repr(h) for h in hint)


def _value(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _choices(text: str) -> str:
    return ", ".join(c.strip() for c in re.split(r",\s*", text.strip()) if c.strip())


def _dates(text: str) -> str:
    formats = [f.strip().strip("'") for f in text.split(",")]
    return " of ".join(DATE_FORMATS.get(f, f) for f in formats)


#: A bad value's explanation by pydantic error type (Typer checks values with pydantic).
_PYDANTIC: dict[str, str] = {
    "int_parsing": "{input} is geen geheel getal",
    "int_from_float": "{input} is geen geheel getal",
    "int_type": "{input} is geen geheel getal",
    "float_parsing": "{input} is geen getal",
    "float_type": "{input} is geen getal",
    "bool_parsing": "{input} is geen ja of nee",
    "bool_type": "{input} is geen ja of nee",
    "greater_than_equal": "moet minstens {ge} zijn, niet {raw}",
    "greater_than": "moet groter dan {gt} zijn, niet {raw}",
    "less_than_equal": "mag hoogstens {le} zijn, niet {raw}",
    "less_than": "moet kleiner dan {lt} zijn, niet {raw}",
    "string_type": "{input} is geen tekst",
    "missing": "ontbreekt",
}

_KIND = {"File": "bestand", "Directory": "map", "Path": "pad"}

#: Click's and Typer's English messages, each with its Dutch form (``{0}``: the first group).
_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"(.+) is not one of (.+)\.", re.S), lambda m: f"{m[1]} is geen keuze; kies uit {_choices(m[2])}"),
    (
        re.compile(r"(.+) does not match the formats? (.+)\.", re.S),
        lambda m: f"{m[1]} is geen datum in de vorm {_dates(m[2])}",
    ),
    (re.compile(r"(File|Directory|Path) (.+) does not exist\."), lambda m: f"{_KIND[m[1]]} {m[2]} bestaat niet"),
    (re.compile(r"(File|Directory|Path) (.+) is a file\."), lambda m: f"{_KIND[m[1]]} {m[2]} is een bestand"),
    (re.compile(r"(File|Directory|Path) (.+) is a directory\."), lambda m: f"{_KIND[m[1]]} {m[2]} is een map"),
    (re.compile(r"(File|Directory|Path) (.+) is not readable\."), lambda m: f"{_KIND[m[1]]} {m[2]} is niet leesbaar"),
    (
        re.compile(r"(File|Directory|Path) (.+) is not writable\."),
        lambda m: f"{_KIND[m[1]]} {m[2]} is niet schrijfbaar",
    ),
    (re.compile(r"Value must be an iterable\."), lambda m: "verwacht een of meer waarden"),
    (re.compile(r"Value (.+) is not a valid (\w+)\."), lambda m: f"{m[1]} is geen geldige {m[2]}"),
    (re.compile(r"Option (.+) requires an argument\."), lambda m: f"Optie {m[1]} heeft een waarde nodig."),
    (re.compile(r"Option (.+) requires (\d+) arguments\."), lambda m: f"Optie {m[1]} heeft {m[2]} waarden nodig."),
    (re.compile(r"Option (.+) does not take a value\."), lambda m: f"Optie {m[1]} neemt geen waarde."),
    (re.compile(r"Argument (.+) takes (\d+) values\."), lambda m: f"Argument {m[1]} heeft {m[2]} waarden nodig."),
    (
        re.compile(r"No such command (.+?)\.(?: Did you mean (.+)\?)?"),
        lambda m: f"Onbekend commando {m[1]}." + (f" Bedoelt u {m[2]}?" if m[2] else ""),
    ),
    (
        re.compile(r"Got unexpected extra argument\(s\) \((.+)\)", re.S),
        lambda m: f"Onverwacht(e) extra argument(en): {m[1]}.",
    ),
    (re.compile(r"Missing command\."), lambda m: "Ontbrekend commando."),
]


def _translated(text: str) -> str:
    """``text`` in Dutch by the first rule of :data:`_MESSAGES` it matches whole; else itself."""
    text = re.sub(r"^Value error, ", "", text)
    for pattern, dutch in _MESSAGES:
        match = pattern.fullmatch(text.strip())
        if match:
            return str(dutch(match))
    return text


def _bad_value(exc: BadParameter) -> str:
    """Why the value is bad, in Dutch: from pydantic's error type when Typer's check raised one
    (it keeps the value itself), else from the message."""
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        first = errors()[0] if errors() else None
        if first is not None:
            template = _PYDANTIC.get(str(first.get("type")))
            if template is not None:
                context = {k: _value(v) for k, v in (first.get("ctx") or {}).items()}
                value = first.get("input")
                return template.format(input=_value(value), raw=value, **context)
            if first.get("type") == "value_error" and first.get("ctx", {}).get("error") is not None:
                return _translated(str(first["ctx"]["error"]))
    return _translated(exc.message)


def dutch_message(exc: UsageError) -> str:
    """The Dutch message of one of Click's usage errors, from its fields."""
    if isinstance(exc, NoSuchOption):
        text = f"Onbekende optie: {exc.option_name}"
        if exc.possibilities:
            text += f" (bedoelt u {', '.join(sorted(exc.possibilities))}?)"
        return text
    if isinstance(exc, MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        word = {"argument": "Ontbrekend argument", "option": "Ontbrekende optie"}.get(kind, "Ontbrekende waarde")
        hint = _param_hint(exc)
        text = f"{word} {hint}." if hint else f"{word}."
        choices = exc.param.get_missing_message(exc.ctx) if exc.param is not None else None
        match = re.fullmatch(r"Choose from:\s*(.*)", choices or "", re.S)
        return text + (f" Kies uit: {_choices(match[1])}." if match else "")
    if isinstance(exc, BadParameter):
        hint = _param_hint(exc)
        why = _bad_value(exc).rstrip(".")
        return f"Ongeldige waarde voor {hint}: {why}." if hint else f"Ongeldige waarde: {why}."
    return _translated(exc.message)
