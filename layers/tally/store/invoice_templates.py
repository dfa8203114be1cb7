"""Invoice templates: every version kept, immutable, in the reports table (no TTL).

- pk TEMPLATE#<templateId>, sk V#<nnnn>: one version, written once (conditional put);
- pk INVOICETEMPLATES, sk <templateId>: the template's latest version, so the list is one
  Query (never a Scan).

A version is saved in one transaction with the head and the audit entry: version n is put only
if no version n exists and the head still holds n - 1 (or does not exist, for n = 1), so two
editors who both read version 3 cannot both write 4: the second is a ``Conflict`` (409).
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any, Protocol

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from tally import tables
from tally.errors import Conflict
from tally.invoice_templates.model import InvoiceTemplate, Logo, TemplateContent
from tally.models import AuditEntry
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog, append_audit
from tally.store.base import DynamoStore, KeyedItem, cancel_codes

STALE = "the template was changed by someone else; reload it and edit the latest version"
EXISTS = "this scope already has a template; edit it instead"


class InvoiceTemplateStore(Protocol):
    def save(self, template: InvoiceTemplate, audit: AuditEntry) -> None:
        """Store a new version: ``Conflict`` unless it is the next one (1 for a new
        template)."""

    def get(self, template_id: str, version: int | None = None) -> InvoiceTemplate | None:
        """A version (None: the latest), strongly consistent; None when there is none."""

    def latest(self) -> list[InvoiceTemplate]:
        """Every template's latest version, by id."""


# --- mapping ---------------------------------------------------------------------------


def content_doc(content: TemplateContent) -> dict[str, Any]:
    return {
        "name": content.name,
        "language": content.language,
        "colours": dict(content.colours),
        "header": content.header,
        "footer": content.footer,
        "terms": content.terms,
        "numberPrefix": content.number_prefix,
        "columns": list(content.columns),
        "logo": None
        if content.logo is None
        else {
            "mediaType": content.logo.media_type,
            "data": base64.b64encode(content.logo.data).decode(),
        },
    }


def content_of(doc: dict[str, Any]) -> TemplateContent:
    logo = doc.get("logo")
    return TemplateContent(
        name=doc["name"],
        language=doc["language"],
        colours=dict(doc.get("colours") or {}),
        header=doc.get("header") or "",
        footer=doc.get("footer") or "",
        terms=doc.get("terms") or "",
        number_prefix=doc.get("numberPrefix"),
        columns=tuple(doc["columns"]),
        logo=None if not logo else Logo(base64.b64decode(logo["data"]), logo["mediaType"]),
    )


class TemplateVersionItem(KeyedItem):
    """pk TEMPLATE#<id>, sk V#<nnnn> (the version), and the head: pk INVOICETEMPLATES, sk
    <id>. Both carry the whole version."""

    spec = tables.REPORTS

    template_id = UnicodeAttribute()
    version = NumberAttribute()
    content = UnicodeAttribute()  # content_doc as JSON
    created_at = UTCDateTimeAttribute()
    created_by = UnicodeAttribute()


def _item(template: InvoiceTemplate, pk: str, sk: str) -> TemplateVersionItem:
    return TemplateVersionItem(
        pk=pk,
        sk=sk,
        template_id=template.template_id,
        version=template.version,
        content=json.dumps(content_doc(template.content), sort_keys=True),
        created_at=template.created_at,
        created_by=template.created_by,
    )


def _template(item: TemplateVersionItem) -> InvoiceTemplate:
    return InvoiceTemplate(
        template_id=item.template_id,
        version=int(item.version),
        content=content_of(json.loads(item.content)),
        created_at=item.created_at,
        created_by=item.created_by,
    )


# --- DynamoDB --------------------------------------------------------------------------


class DynamoInvoiceTemplateStore(DynamoStore):
    def save(self, template: InvoiceTemplate, audit: AuditEntry) -> None:
        tid, n = template.template_id, template.version
        head = _item(template, keys.TEMPLATES, tid)
        head_condition: Any = (
            TemplateVersionItem.pk.does_not_exist()
            if n == 1
            else TemplateVersionItem.version == n - 1
        )
        try:
            with self._tx() as tx:
                tx.save(
                    _item(template, keys.template(tid), keys.template_version(n)),
                    condition=TemplateVersionItem.pk.does_not_exist(),
                )
                tx.save(head, condition=head_condition)
                append_audit(tx, audit)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in cancel_codes(error):
                raise Conflict(EXISTS if n == 1 else STALE) from error
            raise

    def get(self, template_id: str, version: int | None = None) -> InvoiceTemplate | None:
        pk, sk = (
            (keys.TEMPLATES, template_id)
            if version is None
            else (keys.template(template_id), keys.template_version(version))
        )
        try:
            return _template(TemplateVersionItem.get(pk, sk, consistent_read=True))
        except TemplateVersionItem.DoesNotExist:
            return None

    def latest(self) -> list[InvoiceTemplate]:
        return [_template(i) for i in TemplateVersionItem.query(keys.TEMPLATES)]


# --- in memory -------------------------------------------------------------------------


class MemoryInvoiceTemplateStore:
    def __init__(self, audit: MemoryAuditLog) -> None:
        self.versions: dict[str, dict[int, InvoiceTemplate]] = {}
        self._audit = audit
        self._lock = threading.Lock()  # the transaction is atomic; so is this

    def save(self, template: InvoiceTemplate, audit: AuditEntry) -> None:
        with self._lock:
            found = self.versions.setdefault(template.template_id, {})
            latest = max(found, default=0)
            if template.version != latest + 1:
                raise Conflict(EXISTS if template.version == 1 else STALE)
            found[template.version] = template
            self._audit.append(audit)

    def get(self, template_id: str, version: int | None = None) -> InvoiceTemplate | None:
        found = self.versions.get(template_id) or {}
        if not found:
            return None
        return found.get(max(found) if version is None else version)

    def latest(self) -> list[InvoiceTemplate]:
        return [v[max(v)] for _, v in sorted(self.versions.items()) if v]


def dynamodb_store(settings: Settings) -> InvoiceTemplateStore:
    return DynamoInvoiceTemplateStore(settings)


def memory_store(audit: MemoryAuditLog) -> InvoiceTemplateStore:
    return MemoryInvoiceTemplateStore(audit)
