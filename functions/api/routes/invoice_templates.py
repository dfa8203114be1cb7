"""Invoice templates: the organisation's default and teams' (``invoices:templates``, held by
finance and admins). Every PUT is a new version; a preview renders a sample invoice, never
anyone's data, and answers the PDF itself (base64 through API Gateway, whose binary media
types include application/pdf)."""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from api import context
from api.invoice_template_schemas import (
    LogoOut,
    TemplateFieldsIn,
    TemplateId,
    TemplateIn,
    TemplateListOut,
    TemplateOut,
    TemplateSummaryOut,
    TemplateUpdateIn,
)
from api.lazy import lazy_module
from api.problems import responses
from tally.ratelimit import RateLimit, consume

if TYPE_CHECKING:
    from tally.invoice_templates import service
    from tally.invoice_templates.model import InvoiceTemplate
else:
    service = lazy_module("tally.invoice_templates.service")

router = Router()
PDF = "application/pdf"
# A preview renders a PDF on the request path (about 0.3 s of CPU, 1.2 s in a new container):
# the live preview asks after each pause in typing, so the limit is generous but there.
PREVIEW_LIMIT = RateLimit("template-previews", per_hour=300, burst=30)


def _draft(body: TemplateFieldsIn) -> service.TemplateDraft:
    return service.TemplateDraft(
        name=body.name,
        language=body.language,
        colours=body.colours,
        header=body.header,
        footer=body.footer,
        terms=body.terms,
        number_prefix=body.number_prefix,
        columns=list(body.columns),
        logo=body.logo,
    )


def template_out(t: InvoiceTemplate) -> TemplateOut:
    c = t.content
    logo = c.logo
    return TemplateOut(
        template_id=t.template_id,
        team_id=t.team_id,
        version=t.version,
        name=c.name,
        language=c.language,
        colours=dict(c.colours),
        header=c.header,
        footer=c.footer,
        terms=c.terms,
        number_prefix=c.number_prefix,
        columns=list(c.columns),
        logo=None
        if logo is None
        else LogoOut(media_type=logo.media_type, data=base64.b64encode(logo.data).decode()),
        created_at=t.created_at.isoformat(),
        created_by=t.created_by,
    )


def _json(model: TemplateOut, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type="application/json",
        body=model.model_dump_json(by_alias=True),
        headers={"ETag": f'"{model.version}"'},
    )


@router.get(
    "/invoice-templates",
    summary="Every invoice template, latest versions (invoices:templates)",
    responses=responses(200, TemplateListOut, 403),
    tags=["invoice-templates"],
)
def list_templates() -> TemplateListOut:
    found = service.list_templates(context.view(router))
    return TemplateListOut(
        items=[
            TemplateSummaryOut(
                template_id=t.template_id,
                team_id=t.team_id,
                version=t.version,
                name=t.content.name,
                language=t.content.language,
                number_prefix=t.content.number_prefix,
                has_logo=t.content.logo is not None,
                created_at=t.created_at.isoformat(),
                created_by=t.created_by,
            )
            for t in found
        ]
    )


@router.post(
    "/invoice-templates",
    status_code=201,
    summary="Create the organisation's or a team's invoice template (invoices:templates)",
    description="Version 1. One template per scope: its id is `org` or `team-<teamId>`; a "
    "scope that has one is 409. Invalid text, colours, columns, prefix or logo: 422 naming "
    "the field.",
    responses=responses(201, TemplateOut, 403, 409),
    tags=["invoice-templates"],
)
def create_template(body: Annotated[TemplateIn, Body()]) -> Response[str]:
    made = service.create_template(context.view(router), body.team_id, _draft(body))
    return _json(template_out(made), 201)


@router.get(
    "/invoice-templates/<templateId>",
    summary="An invoice template: its latest version, or `version` (invoices:templates)",
    description="Every version stays readable: invoices rendered with it render the same.",
    responses=responses(200, TemplateOut, 403),
    tags=["invoice-templates"],
)
def get_template(
    templateId: Annotated[TemplateId, Path()],
    version: Annotated[int | None, Query(ge=1, le=9999)] = None,
) -> Response[str]:
    found = service.get_template(context.view(router), templateId, version)
    return _json(template_out(found))


@router.put(
    "/invoice-templates/<templateId>",
    summary="Save a new version of an invoice template (invoices:templates)",
    description="Replaces every field (send the logo again to keep it) as version "
    "`version` + 1; the older versions stay as they were. `version` must be the latest "
    "(409 when someone saved since you read it).",
    responses=responses(200, TemplateOut, 403, 409),
    tags=["invoice-templates"],
)
def update_template(
    templateId: Annotated[TemplateId, Path()], body: Annotated[TemplateUpdateIn, Body()]
) -> Response[str]:
    made = service.update_template(
        context.view(router), templateId, _draft(body), expected_version=body.version
    )
    return _json(template_out(made))


@router.post(
    "/invoice-templates/<templateId>/preview",
    summary="A sample invoice rendered with the template, as a PDF (invoices:templates)",
    description="The body, when given, is an unsaved draft to preview (the edit form's live "
    "preview; the scope need not have a template yet); without one, the template's latest "
    "version, or `version`. The invoice is made up: no one's data is read. Answers "
    "application/pdf (send Accept: application/pdf through API Gateway). 30 at once, then "
    "300 an hour per user: over that, 429 with Retry-After.",
    responses={
        **responses(200, None, 403, 429),
        200: {
            "description": "OK",
            "content": {PDF: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
    tags=["invoice-templates"],
)
# No return annotation: Powertools validates an annotated return as JSON, and this one is a
# PDF (bytes, base64-encoded by Powertools for API Gateway).
def preview_template(
    templateId: Annotated[TemplateId, Path()],
    body: Annotated[TemplateFieldsIn | None, Body()] = None,
    version: Annotated[int | None, Query(ge=1, le=9999)] = None,
):  # type: ignore[no-untyped-def]
    from tally.invoices.model import InvoiceOrg

    view = context.view(router)
    if body is None:
        content = service.get_template(view, templateId, version).content
    else:  # a draft: the scope need not have a template yet (the new-template form)
        content = service.check_draft(_draft(body))
    # Only a preview that will render takes a token (an invalid draft is a cheap 422).
    consume(view.stores.rate_limits, PREVIEW_LIMIT, view.caller.user_id)
    pdf = service.preview_pdf(content, org=InvoiceOrg.from_env(os.environ), today=view.today)
    return Response(
        status_code=200,
        content_type=PDF,
        body=pdf,
        headers={"Content-Disposition": f'inline; filename="preview-{templateId}.pdf"'},
    )
