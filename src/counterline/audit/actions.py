from __future__ import annotations

from counterline.audit.models import AuditEntry
from counterline.db import Unit


def record(
    unit: Unit,
    action: str,
    *,
    actor_id: int | None = None,
    target: str = "",
    client_ip: str = "",
    **details: object,
) -> None:
    """Add an audit entry to the current transaction."""
    unit.session.add(
        AuditEntry(
            action=action, actor_id=actor_id, target=target, client_ip=client_ip, details=details
        )
    )
