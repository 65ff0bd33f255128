"""HParams: a typed bag of hyperparameters with T2T's override syntax.

```python
hp = HParams(hidden_size=64, dropout=0.1, layers=[1, 2], use_moe=True)
hp.parse("hidden_size=128,dropout=0.2,layers=[2,3],use_moe=false")
hp.add_hparam("new_key", 3)       # as in T2T
hp.to_json(); HParams.from_json(text)
```

Every value keeps the type it was created with: an override of a different
type (`hidden_size=0.5`) or of an unknown key raises `HParamsError` naming the
key, with close matches for misspelled names.
"""

import json
import re

from t2t_multimodel.errors import HParamsError, did_you_mean

_ALLOWED = (bool, int, float, str, list, type(None))


class HParams:
    """Named hyperparameters with typed values.

    Args:
        **kwargs: the initial name -> value pairs. Values are bool, int, float,
            str, None or lists of those.

    Example:

    ```python
    hp = HParams(hidden_size=64)
    hp.parse("hidden_size=128")
    hp.hidden_size  # 128
    ```
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_values", {})
        for name, value in kwargs.items():
            self.add_hparam(name, value)

    def add_hparam(self, name, value):
        """Adds a new hyperparameter; it must not exist yet."""
        if name in self._values:
            raise HParamsError(
                f"hparam {name!r} already exists; set it with hparams.{name} = "
                f"... instead. Received: name={name!r}")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise HParamsError(f"hparam names are identifiers. Received: name={name!r}")
        if not isinstance(value, _ALLOWED):
            raise HParamsError(
                f"hparam {name!r} must be a bool, int, float, str, None or list. "
                f"Received: {name}={value!r}")
        self._values[name] = value

    def set_hparam(self, name, value):
        """Sets an existing hyperparameter, checking the type."""
        self._check_known(name)
        self._values[name] = _coerce(name, value, self._values[name])

    def del_hparam(self, name):
        self._values.pop(name, None)

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(self._unknown_message(name))

    def __setattr__(self, name, value):
        # As in T2T, `hparams.x = v` on a new name adds it.
        if name in self._values:
            self.set_hparam(name, value)
        else:
            self.add_hparam(name, value)

    def __contains__(self, name):
        return name in self._values

    def get(self, name, default=None):
        return self._values.get(name, default)

    def values(self):
        """A copy of the name -> value dictionary."""
        return {k: (list(v) if isinstance(v, list) else v)
                for k, v in self._values.items()}

    def copy(self):
        return HParams(**self.values())

    def _check_known(self, name):
        if name not in self._values:
            raise HParamsError(self._unknown_message(name))

    def _unknown_message(self, name):
        hint = did_you_mean(name, self._values)
        return f"unknown hparam {name!r}: {hint}Received: {name}"

    def parse(self, overrides):
        """Applies `"a=1,b=0.5,c=[1,2],d=true"` overrides; returns self."""
        for name, raw in _split_overrides(overrides):
            self._check_known(name)
            self._values[name] = _parse_value(name, raw, self._values[name])
        return self

    def override_from_dict(self, values):
        for name, value in values.items():
            self.set_hparam(name, value)
        return self

    def to_json(self, indent=2):
        return json.dumps(self._values, indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        return cls(**json.loads(text))

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in sorted(self._values.items()))
        return f"HParams({body})"

    def __eq__(self, other):
        return isinstance(other, HParams) and self._values == other._values


def _split_overrides(text):
    """Splits "a=1,b=[1,2]" at the commas outside brackets."""
    text = (text or "").strip()
    if not text:
        return []
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    pairs = []
    for part in parts:
        if "=" not in part:
            raise HParamsError(
                f"--hparams entries look like name=value, separated by commas. "
                f"Received: {part.strip()!r}")
        name, raw = part.split("=", 1)
        pairs.append((name.strip(), raw.strip()))
    return pairs


def _parse_scalar(name, raw, kind):
    try:
        if kind is bool:
            low = raw.lower()
            if low in ("true", "1", "yes"):
                return True
            if low in ("false", "0", "no"):
                return False
            raise ValueError
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise HParamsError(
            f"hparam {name!r} takes a {kind.__name__}. Received: {name}={raw}"
        ) from None
    return raw


def _parse_value(name, raw, current):
    if isinstance(current, list):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise HParamsError(
                f"hparam {name!r} takes a list like [1,2]. Received: {name}={raw}")
        items = [r.strip() for r in raw[1:-1].split(",") if r.strip()]
        kind = type(current[0]) if current else _guess_type(items)
        return [_parse_scalar(name, item, kind) for item in items]
    if current is None:
        return _parse_scalar(name, raw, _guess_type([raw]))
    return _parse_scalar(name, raw, type(current))


def _guess_type(items):
    for kind in (int, float):
        try:
            for item in items:
                kind(item)
            return kind
        except ValueError:
            continue
    return str


def _coerce(name, value, current):
    if current is None or value is None:
        return value
    kind = type(current)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise HParamsError(
        f"hparam {name!r} takes a {kind.__name__}. Received: {name}={value!r}")
