"""Bad input and the checks that report it.

Every user-facing error of casesim is a :class:`ConfigError`: it names the key path, the
value given and what is allowed, so the command line can print it as one line and stop
before anything runs.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """Bad input: names the key path, the value given and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key}={value!r}: {allowed}")


def check(ok: bool, key: str, value: Any, allowed: str) -> None:
    """Raise ``ConfigError(key, value, allowed)`` unless ``ok``."""
    if not ok:
        raise ConfigError(key, value, allowed)


def check_probability(key: str, value: float) -> None:
    check(0.0 <= value <= 1.0, key, value, "a probability must lie in [0, 1]")


def check_non_negative(key: str, value: float) -> None:
    check(value >= 0, key, value, "must be >= 0")
