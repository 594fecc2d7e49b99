"""espnet-l2dual: dual-output (surface + meaning) ASR for L2 speech, as an ESPnet plug-in."""

__version__ = "0.1.0"

from espnet_l2dual.utils.interrupt import install_from_env as _quiet_interrupt_in_recipes

_quiet_interrupt_in_recipes()  # only where l2dual.sh asks (it names the interrupted stage itself)
