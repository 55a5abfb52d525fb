"""Click options built from ``DubOptions`` (one definition of each option), and the consent
flags that ``translate`` and ``live`` share."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from dubkit.jobs.consent import Consent
from dubkit.request import option_fields

CONSENT_FLAGS = ("consent_file", "consent_self", "i_have_consent")


def dub_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command with the flags of the ``DubOptions`` fields ``names`` (all of them
    when none are named). Each flag's value arrives under the field's name."""
    fields = [f for f in option_fields() if not names or f.name in names]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for f in reversed(fields):
            meta = f.metadata
            kwargs: dict[str, Any] = {"default": f.default, "help": meta["help"]}
            if meta["choices"]:
                kwargs["type"] = click.Choice(meta["choices"])
            elif meta["minimum"] is not None:
                kwargs["type"] = int  # its range is checked by DubOptions, with the others
            if meta["metavar"]:
                kwargs["metavar"] = meta["metavar"]
            if meta["envvar"]:
                kwargs["envvar"] = meta["envvar"]
            flag = meta["flag"]
            if "/" in flag:
                kwargs["show_default"] = True
            elif f.default is False:
                kwargs["is_flag"] = True
            command = click.option(flag, f.name, **kwargs)(command)
        return command

    return decorate


def consent_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The three ways to state consent to keep voices; read them with ``consent_from``."""
    command = click.option(
        "--i-have-consent", is_flag=True,
        help="Declare that you hold every speaker's consent to keep their voice.")(command)
    command = click.option("--consent-self", is_flag=True,
                           help="Declare that you are the only speaker.")(command)
    return click.option(
        "--consent", "consent_file", type=click.Path(dir_okay=False, path_type=str),
        default=None, help="A statement of the speakers' consent to keep their voices (stored "
                           "with the job, hashed into the provenance).")(command)


def consent_from(values: dict[str, Any]) -> Consent | None:
    """The consent the flags in ``values`` state (at most one of them), or None; the flags are
    taken out of ``values``."""
    consent_file, consent_self, i_have_consent = (values.pop(k) for k in CONSENT_FLAGS)
    given = [flag for flag, on in (("--consent", consent_file is not None),
                                   ("--consent-self", consent_self),
                                   ("--i-have-consent", i_have_consent)) if on]
    if len(given) > 1:
        raise click.UsageError(f"give one of {', '.join(given)}, not several")
    return (Consent.from_file(consent_file) if consent_file is not None
            else Consent.declared("self") if consent_self
            else Consent.declared("declared") if i_have_consent else None)
