"""The audit log (audit:read at the organisation): who changed what, when, before and after."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.api_gateway import Router

from api import context
from api.lazy import lazy_module
from api.paging import page_cursor
from api.problems import responses
from api.schemas import AuditEntryOut, AuditListOut, AuditSubject, NextToken, PageLimit

if TYPE_CHECKING:
    from tally.org import audit_log
else:
    audit_log = lazy_module("tally.org.audit_log")

router = Router()


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


@router.get(
    "/audit",
    summary="The audit log, newest first (audit:read)",
    description="Every change, or one subject's (`subject`: a user id, team:<teamId> or "
    "role:<roleId>). Role and team changes carry before and after.",
    responses=responses(200, AuditListOut, 403),
    tags=["audit"],
)
def read_audit(
    subject: AuditSubject = None, limit: PageLimit = 50, nextToken: NextToken = None
) -> AuditListOut:
    pages = page_cursor(router, "audit", subject)
    page = audit_log.read_audit(
        context.view(router), subject=subject, limit=limit, start_key=pages.read_token(nextToken)
    )
    return AuditListOut(
        items=[
            AuditEntryOut(
                at=e.at.isoformat(),
                actor=e.actor,
                action=e.action,
                subject=e.subject_user_id,
                entity_id=e.entity_id,
                details={k: _text(v) for k, v in e.details.items()},
            )
            for e in page.items
        ],
        next_token=pages.next_token(page.next_key),
    )
