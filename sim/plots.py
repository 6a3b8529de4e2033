"""``sim.plots``: the figures, by their public names (they live in ``sim.present.plots``)."""

from .present.plots import *  # noqa: F401,F403
from .present.plots import __all__  # noqa: F401
