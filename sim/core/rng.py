"""Named random streams: one independent generator per (seed, replication, stream name).

A stream's identity is its name, never its position, so adding a stream or a draw elsewhere
leaves every other stream's numbers unchanged, and a scenario (which never enters the seed)
sees the same numbers as the baseline: common random numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit integer for a stream name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator for stream ``name`` of ``replication`` under ``seed``."""
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(replication), stream_key(name)))
    return np.random.Generator(np.random.PCG64(ss))


class Streams:
    """The named streams of one replication, created on first use. ``prefix`` starts every
    name (``"north/"``): each force of a region draws its own cases, and a force's draws do
    not depend on which other forces are listed, or in what order."""

    def __init__(self, seed: int, replication: int, prefix: str = ""):
        self.seed, self.replication, self.prefix = int(seed), int(replication), prefix
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            gen = self._cache[name] = stream(self.seed, self.replication, self.prefix + name)
        return gen

    def uniforms(self, name: str, n: int, columns: int | None = None) -> np.ndarray:
        """``n`` (x ``columns``) uniforms in [0, 1) from stream ``name``."""
        return self[name].random(n if columns is None else (n, columns))
