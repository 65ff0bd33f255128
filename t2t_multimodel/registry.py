"""Registries of problems, models, hparams sets and modalities, by name.

As in Tensor2Tensor, things are registered with decorators and looked up by
name; the default name is the class or function name in snake_case
(`AlgorithmicReverseBinary40` -> `algorithmic_reverse_binary40`):

```python
from t2t_multimodel import registry

@registry.register_problem
class MyProblem(text_problems.Text2TextProblem):
    ...

@registry.register_hparams
def my_hparams():
    hparams = registry.hparams("transformer_tiny")()
    hparams.hidden_size = 64
    return hparams
```

Each kind has its own typed `Registry`; an unknown name raises
`RegistryError` with the close matches ("did you mean ...?").
"""

import re

from t2t_multimodel.errors import RegistryError, did_you_mean

_FIRST_CAP_RE = re.compile("(.)([A-Z][a-z0-9]+)")
_ALL_CAP_RE = re.compile("([a-z0-9])([A-Z])")


def camelcase_to_snakecase(name):
    """Converts a CamelCase name to snake_case, as T2T does."""
    s1 = _FIRST_CAP_RE.sub(r"\1_\2", name)
    return _ALL_CAP_RE.sub(r"\1_\2", s1).lower()


def default_name(obj):
    """The registry key of a class or function: its snake_case name."""
    return camelcase_to_snakecase(obj.__name__)


class Registry:
    """A dictionary of named things of one kind.

    Args:
        kind: str. What the registry holds, used in messages ("problem").
        validator: callable or None. Called as `validator(name, value)` at
            registration; raises to refuse the value.
        on_set: callable or None. Called as `on_set(name, value)` after
            registration (problems and models learn their own name).
        arg_name: str or None. How the user passes a name of this kind
            (`hparams_set`), for "Received: hparams_set=..." in errors.

    Example:

    ```python
    reg = Registry("optimizer")
    reg.register(my_adam)        # key "my_adam"
    reg["my_adam"]
    ```
    """

    def __init__(self, kind, validator=None, on_set=None, arg_name=None):
        self.kind = kind
        self.arg_name = arg_name or kind.replace(" ", "_")
        self.validator = validator
        self.on_set = on_set
        self._entries = {}

    def register(self, key_or_value=None):
        """Decorator: `@reg.register`, `@reg.register()` or `@reg.register("name")`."""

        def decorator(value, key=None):
            key = key or default_name(value)
            if key in self._entries:
                raise RegistryError(
                    f"{self.kind} {key!r} is already registered; pick another "
                    f"name. Received: name={key!r}"
                )
            if not callable(value):
                raise RegistryError(
                    f"a {self.kind} must be a class or function. "
                    f"Received: {key}={value!r}"
                )
            if self.validator is not None:
                self.validator(key, value)
            self._entries[key] = value
            if self.on_set is not None:
                self.on_set(key, value)
            return value

        if callable(key_or_value):
            return decorator(key_or_value)
        return lambda value: decorator(value, key=key_or_value)

    def __getitem__(self, key):
        if key not in self._entries:
            raise RegistryError(self._unknown_message(key))
        return self._entries[key]

    def _unknown_message(self, key):
        hint = (did_you_mean(key, self._entries) or
                f"see t2t-trainer --registry_help for all {len(self)}. ")
        return f"unknown {self.kind} {key!r}: {hint}Received: {self.arg_name}={key!r}"

    def __contains__(self, key):
        return key in self._entries

    def __iter__(self):
        return iter(sorted(self._entries))

    def __len__(self):
        return len(self._entries)

    def keys(self):
        return sorted(self._entries)

    def items(self):
        return sorted(self._entries.items())

    def get(self, key, default=None):
        return self._entries.get(key, default)

    def unregister(self, key):
        """Removes `key` (tests use it to keep the global registries clean)."""
        self._entries.pop(key, None)


def _set_registered_name(key, value):
    if isinstance(value, type):
        value.REGISTERED_NAME = key


class Registries:
    """The global registries, one per kind."""

    problems = Registry("problem", on_set=_set_registered_name)
    models = Registry("model", on_set=_set_registered_name)
    hparams = Registry("hparams set", arg_name="hparams_set")
    modalities = Registry("modality", on_set=_set_registered_name)
    mixtures = Registry("mixture")


def register_problem(name=None):
    return Registries.problems.register(name)


def register_model(name=None):
    return Registries.models.register(name)


def register_hparams(name=None):
    return Registries.hparams.register(name)


def register_modality(name=None):
    return Registries.modalities.register(name)


def register_mixture(name=None):
    return Registries.mixtures.register(name)


def _ensure_builtins():
    # Importing these modules registers the built-in problems, models and
    # hparams sets. Imported lazily so that `registry` itself stays cheap and
    # free of import cycles; an ImportError here is a bug and propagates.
    import t2t_multimodel.hparams  # noqa: F401
    import t2t_multimodel.modalities  # noqa: F401
    import t2t_multimodel.models  # noqa: F401
    import t2t_multimodel.problems  # noqa: F401


def problem(name):
    """Returns a new instance of the problem registered as `name`."""
    _ensure_builtins()
    return Registries.problems[name]()


def model(name):
    """Returns the model class registered as `name`."""
    _ensure_builtins()
    return Registries.models[name]


def hparams(name):
    """Returns the hparams function registered as `name` (call it for a set)."""
    _ensure_builtins()
    return Registries.hparams[name]


def modality(name):
    """Returns the modality class registered as `name`."""
    _ensure_builtins()
    return Registries.modalities[name]


def mixture(name):
    """Returns the mixture registered as `name`."""
    _ensure_builtins()
    return Registries.mixtures[name]


def list_mixtures():
    _ensure_builtins()
    return Registries.mixtures.keys()


def list_problems():
    _ensure_builtins()
    return Registries.problems.keys()


def list_models():
    _ensure_builtins()
    return Registries.models.keys()


def list_hparams(prefix=None):
    _ensure_builtins()
    names = Registries.hparams.keys()
    return [n for n in names if prefix is None or n.startswith(prefix)]


def list_modalities():
    _ensure_builtins()
    return Registries.modalities.keys()


def help_string():
    """Everything registered, one section per kind (`--registry_help`)."""
    _ensure_builtins()
    sections = []
    for title, reg in [("Problems", Registries.problems),
                       ("Mixtures", Registries.mixtures),
                       ("Models", Registries.models),
                       ("HParams sets", Registries.hparams),
                       ("Modalities", Registries.modalities)]:
        lines = "\n".join(f"  * {k}" for k in reg.keys()) or "  (none)"
        sections.append(f"{title}:\n{lines}")
    return "\n\n".join(sections)
