"""Operator actions as structured records: who, what, target, when, result."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("voj.audit")


def audit(actor: Any, action: str, *, target: str, result: str, **details: Any) -> None:
    logger.info(
        "operator action",
        extra={
            "actor": getattr(actor, "username", str(actor)),
            "action": action,
            "target": target,
            "at": datetime.now(UTC).isoformat(),
            "result": result,
            **details,
        },
    )
