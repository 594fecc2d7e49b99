"""espnet-l2dual: dual-output (surface + meaning) ASR for L2 speech, as an ESPnet plug-in."""

__version__ = "0.1.0"
