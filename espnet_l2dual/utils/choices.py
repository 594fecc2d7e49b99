"""Build an ESPnet ``ClassChoices`` entry from its ``<name>_conf``, naming unknown keys.

Why: ESPnet passes ``<name>_conf`` straight to the class, so a typo surfaces as a
Python TypeError deep in a stack trace; a config error should be one line that names
the option, the choice and the keys it knows.
"""

from __future__ import annotations

import inspect
from typing import Any, Mapping, Optional


def build_choice(choices, name: Optional[str], conf: Optional[Mapping[str, Any]], **extra: Any):
    """``choices.get_class(name)(**extra, **conf)``; None when ``name`` is None."""
    if name is None:
        return None
    cls = choices.get_class(name)
    conf = dict(conf or {})
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        known = [k for k in params if k not in ("self", *extra)]
        unknown = sorted(set(conf) - set(known))
        if unknown:
            raise ValueError(f"{choices.name}_conf: unknown key(s) {unknown} for {choices.name}: {name} "
                             f"(known: {', '.join(known) or 'none'})")
    return cls(**extra, **conf)
