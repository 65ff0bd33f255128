"""The one exception type that binaries turn into a one-line message.

Library code raises `T2TError` (or a subclass) for anything the user can fix:
an unknown name, a bad `--hparams` override, a missing data file, a directory
that is not a training run. The binaries in `bin/` catch it, print
`Error: <message>` on one line and exit with status 1, so a user never sees a
traceback for a mistake of theirs.
"""


class T2TError(Exception):
    """An error the user can fix; its message says what and how."""


class RegistryError(T2TError, LookupError):
    """An unknown or duplicate name in a registry."""


class HParamsError(T2TError, ValueError):
    """A bad hyperparameter name, value or override string."""


class DataError(T2TError):
    """Missing, empty or corrupt data, vocabulary or output directory."""


def did_you_mean(name, choices, n=3, cutoff=0.6):
    """`"did you mean a or b? "` for the choices closest to `name`, else `""`.

    The hint every "unknown <thing>" message carries, so all of them read
    alike: `f"unknown optimizer {name!r}: {did_you_mean(name, OPTIMIZERS)}..."`.
    """
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=n, cutoff=cutoff)
    return f"did you mean {' or '.join(close)}? " if close else ""
