"""Local servers started for the tests and the prod-like local mode end with their starter."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn``: in the child before exec, have the kernel send ``sig`` when the process
    that started it dies (Linux's PR_SET_PDEATHSIG), so a killed test worker or `make run-aws`
    leaves no server behind. A change of user clears the setting: a child that drops root sets
    it again after the change (``setpriv --pdeathsig``, deploy/postgres_local.py)."""
    import ctypes

    # Looked up here, in the parent: between fork and exec the child may only make plain calls
    # (another thread of the parent may have held a lock, such as the loader's, at the fork).
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig))
        if os.getppid() != parent:  # the parent died before the signal was set
            os.kill(os.getpid(), sig)

    return preexec
