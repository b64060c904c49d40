"""Local servers started for the tests and the prod-like local mode end with their starter."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn``: in the child before exec, have the kernel send ``sig`` when the process
    that started it dies (Linux's PR_SET_PDEATHSIG), so a killed test worker or `make run-aws`
    leaves no server behind. A change of user clears the setting: a child that drops root sets
    it again after the change (``setpriv --pdeathsig``, deploy/postgres_local.py)."""

    def preexec() -> None:
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)

    return preexec
