"""Command lines (``python -m espnet_l2dual.bin.<x>``): they parse options and call the library.

Every command runs offline: importing this package, which Python does before any of its
modules, turns off run-time downloads (``utils.offline.guard``) before ESPnet is imported.
The library itself changes nothing on import; code that uses it outside these commands
calls ``espnet_l2dual.utils.offline.guard()`` first to get the same.
"""

from espnet_l2dual.utils import offline

offline.guard()
