"""One in-memory QBO company (``Realm``): entity stores, ids, change log, files, replays.

Stored entities are plain dicts in QBO's JSON shape, with ``Decimal`` money. A stored dict is
never mutated once stored: every change stores a new dict, so readers may hand stored objects
to the JSON renderer without copying and a failed validation can never leave half a change.

The emulator hosting the realms (``Sandbox``) is in ``sandbox.state``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any
from urllib.parse import quote

from sandbox import computed
from sandbox import entities
from sandbox import faults
from sandbox import schema
from sandbox import temp_links
from sandbox import validation

if TYPE_CHECKING:
    from sandbox.state import Sandbox

# Attachable (and Class) ids are long in QBO (API.md §1.4); other entities count from 1.
_LONG_ID_BASE = 5_000_000_000_000_150_000
_LONG_ID_ENTITIES = frozenset({"Attachable"})


def _copied(value: Any) -> Any:
    """Copy the dicts and lists of a JSON-shaped object; leaves (str, Decimal...) are immutable.

    A fraction of ``copy.deepcopy``'s cost, which dominated seeding (no memo, no dispatch).
    """
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


class Realm:
    """One QBO company: entity stores, change log, files and the requestid replay store.

    Attributes:
        id: The realm id (digits).
        lock: Held by every mutation (re-entrant).
        store: ``store[entity][id]`` -> the stored object (never mutated once stored).
        deleted: ``deleted[entity][id]`` -> the deleted stub CDC answers.
        changed_at: ``changed_at[entity][id]`` -> the change-log time (aware UTC; feeds CDC).
        files: Attachable id -> (file name, content type, bytes).
        seeding: True while seed.py builds the company's history: writes notify no listener
            and ``attach_file`` stores through ``insert``.
    """

    seeding: bool

    def __init__(self, sb: Sandbox, realm_id: str, company_name: str) -> None:
        self.sb = sb
        self.id = realm_id
        self.lock = threading.RLock()
        self.store: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in entities.ENTITIES}
        self.deleted: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in entities.ENTITIES}
        self.changed_at: dict[str, dict[str, datetime]] = {n: {} for n in entities.ENTITIES}
        # Ids voided through the API: QBO refuses to void them again.
        self.voided: dict[str, set[str]] = {n: set() for n in entities.ENTITIES}
        self.files: dict[str, tuple[str, str, bytes]] = {}
        self.seeding = False
        # Signs TempDownloadUri links (temp_links.py); random, so links die with the realm.
        self._link_secret = temp_links.new_secret()
        self._requests: dict[str, tuple[int, dict[str, Any]]] = {}
        self._next_id = 1
        self._next_long_id = _LONG_ID_BASE
        self._pending: list[tuple[str, str, str, datetime]] = []
        now = sb.clock.now()
        for name, obj in entities.company_singletons(company_name, sb.config.company_tz).items():
            self.insert(name, obj, created=now)

    # -- ids, time, bookkeeping ------------------------------------------------------------

    def new_id(self, entity: str) -> str:
        """Allocate the next Id: numeric string, long for Attachable."""
        with self.lock:
            if entity in _LONG_ID_ENTITIES:
                self._next_long_id += 1
                return str(self._next_long_id)
            value = self._next_id
            self._next_id += 1
            return str(value)

    def _reserve_id(self, entity: str, id_: str) -> None:
        # Seeded ids must not be handed out again. Long ids (Attachable, some Class ids in
        # real companies) live in their own range and never drag the short counter up.
        if not id_.isdigit():
            return
        value = int(id_)
        if entity in _LONG_ID_ENTITIES or len(id_) > 12:
            self._next_long_id = max(self._next_long_id, value)
        else:
            self._next_id = max(self._next_id, value + 1)

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        """Return the stored object or None (no copy: stored objects are never mutated)."""
        return self.store[entity].get(str(entity_id))

    def all(self, entity: str) -> list[dict[str, Any]]:
        """Every stored object of ``entity`` (no deleted ones), by numeric Id."""
        with self.lock:
            return list(self.store[entity].values())

    def _put(self, entity: str, obj: dict[str, Any], op: str, at: datetime) -> None:
        self.store[entity][obj["Id"]] = obj
        self.changed_at[entity][obj["Id"]] = at
        self.deleted[entity].pop(obj["Id"], None)
        self._pending.append((entity, obj["Id"], op, at))
        self.sb.count(f"entity:{entity}:{op}")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the lock for one write; notify listeners after it commits, forget on failure."""
        with self.lock:
            try:
                yield
            except BaseException:
                self._pending.clear()
                raise
            # Taken under the lock: another writer's events must not leave before it commits.
            pending, self._pending = self._pending, []
        if self.seeding:
            return
        for entity, id_, op, at in pending:
            self.sb.emit(self.id, entity, id_, op, at)

    def _meta(self, created: datetime, updated: datetime) -> dict[str, str]:
        clock = self.sb.clock
        return {"CreateTime": clock.local_iso(created), "LastUpdatedTime": clock.local_iso(updated)}

    def _bumped(self, existing: dict[str, Any], obj: dict[str, Any], at: datetime) -> None:
        """Give ``obj`` the next SyncToken of ``existing`` and its CreateTime, updated ``at``."""
        obj["SyncToken"] = str(int(existing["SyncToken"]) + 1)
        created = existing.get("MetaData", {}).get("CreateTime")
        obj["MetaData"] = {
            "CreateTime": created or self.sb.clock.local_iso(at),
            "LastUpdatedTime": self.sb.clock.local_iso(at),
        }

    # -- API operations ----------------------------------------------------------------------

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate and store a new object; returns it with every computed field filled."""
        spec = entities.ENTITIES[entity]
        if not spec.creatable:
            raise faults.unsupported_operation(f"Create is not supported for {entity}.")
        body = schema.checked(entity, body)
        validation.check_fields(entity, body)
        with self._writing():
            now = self.sb.clock.now()
            obj = entities.prepare(self, spec, body, None)
            obj["Id"] = self.new_id(entity)
            obj["SyncToken"] = "0"
            obj["MetaData"] = self._meta(now, now)
            obj = entities.finish(spec, obj)
            followups = entities.linked_updates(self, spec, obj, None)
            self._put(entity, obj, "Create", now)
            self._apply_followups(followups, now)
        return obj

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        """Return the object or raise 610 when unknown or deleted."""
        obj = self.get(entity, entity_id)
        if obj is None:
            raise faults.object_not_found(
                f"Object Not Found : Something you're trying to use has been made inactive or "
                f"deleted. {entity} Id={entity_id}"
            )
        return obj

    def _claimed(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """Check Id and SyncToken of an update/delete/void body; return the stored object."""
        if not isinstance(body, dict):
            raise faults.invalid_field(entity, "body must be an object")
        id_ = body.get("Id")
        if id_ is None or id_ == "":
            raise faults.required_field("Id")
        existing = self.read(entity, str(id_))
        token = body.get("SyncToken")
        if token is None or token == "":
            raise faults.required_field("SyncToken")
        # §13: some clients send SyncToken as a number; compare its text.
        if str(token).strip() != existing["SyncToken"]:
            raise faults.stale_object()
        return existing

    def update(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """Full or sparse (``body["sparse"]``) update; 5010 when the SyncToken is stale."""
        spec = entities.ENTITIES[entity]
        if not spec.updatable:
            raise faults.unsupported_operation(f"Update is not supported for {entity}.")
        body = schema.checked(entity, body)
        validation.check_fields(entity, body)
        with self._writing():
            existing = self._claimed(entity, body)
            now = self.sb.clock.now()
            sparse = body.get("sparse") in (True, "true")
            merged = validation.sparse_merge(existing, body) if sparse else body
            obj = entities.prepare(self, spec, merged, existing)
            obj["Id"] = existing["Id"]
            self._bumped(existing, obj, now)
            obj = entities.finish(spec, obj)
            followups = entities.linked_updates(self, spec, obj, existing)
            self._put(entity, obj, "Update", now)
            self._apply_followups(followups, now)
        return obj

    def delete(
        self, entity: str, body: dict[str, Any], *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Delete a transaction or Attachable; returns the deleted stub.

        Args:
            entity: Canonical entity name.
            body: ``Id`` and ``SyncToken`` (anything else is ignored).
            at: When the deletion happened (change log, stub MetaData); the clock's now when
                None. The seed passes past times to build history.
        """
        spec = entities.ENTITIES[entity]
        if not spec.deletable:
            raise faults.business_validation(
                f"You can't delete this {entity}. Make it inactive instead."
                if spec.kind == "name"
                else f"Delete is not supported for {entity}."
            )
        with self._writing():
            existing = self._claimed(entity, body)
            when = at or self.sb.clock.now()
            followups = entities.linked_updates(self, spec, None, existing)
            id_ = existing["Id"]
            del self.store[entity][id_]
            self.files.pop(id_, None)
            self.deleted[entity][id_] = {
                "domain": "QBO",
                "status": "Deleted",
                "Id": id_,
                "MetaData": {"LastUpdatedTime": self.sb.clock.local_iso(when)},
            }
            self.changed_at[entity][id_] = when
            self._pending.append((entity, id_, "Delete", when))
            self.sb.count(f"entity:{entity}:Delete")
            self._apply_followups(followups, when)
        return {"domain": "QBO", "status": "Deleted", "Id": id_}

    def void(
        self, entity: str, body: dict[str, Any], *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Void an Invoice or Payment: it stays, with zero amounts (API.md §2.6).

        Args:
            entity: Canonical entity name.
            body: ``Id`` and ``SyncToken``.
            at: When the void happened; the clock's now when None (see ``delete``).
        """
        spec = entities.ENTITIES[entity]
        if not spec.voidable:
            raise faults.unsupported_operation(f"Void is not supported for {entity}.")
        with self._writing():
            existing = self._claimed(entity, body)
            if existing["Id"] in self.voided[entity]:
                raise faults.business_validation(
                    f"This {entity.lower()} has already been voided.", "Id"
                )
            when = at or self.sb.clock.now()
            obj = entities.voided(existing)
            followups = entities.linked_updates(self, spec, obj, existing)
            if entity == "Invoice":
                # Intuit unapplies payments from a voided invoice: each payment keeps its
                # amount, now unapplied, and the invoice links none.
                obj["LinkedTxn"] = []
                followups += self._unapplied_from(existing["Id"])
            self._bumped(existing, obj, when)
            self._put(entity, obj, "Void", when)
            self.voided[entity].add(existing["Id"])
            self._apply_followups(followups, when)
        return obj

    def send(self, entity: str, entity_id: str, send_to: str | None) -> dict[str, Any]:
        """Email a sales form (``POST /<entity>/<id>/send``): EmailStatus and DeliveryInfo.

        ``sendTo`` replaces the form's ``BillEmail``; without either there is nobody to send
        to (6000, our reading: Intuit's wording is not documented).
        """
        with self._writing():
            existing = self.read(entity, entity_id)
            address = send_to or (existing.get("BillEmail") or {}).get("Address")
            if not address or "@" not in str(address):
                raise faults.business_validation(
                    "Add an email address (BillEmail or sendTo) to send this form.", "BillEmail"
                )
            now = self.sb.clock.now()
            obj = dict(existing)
            obj["BillEmail"] = {"Address": str(address)}
            obj["EmailStatus"] = "EmailSent"
            obj["DeliveryInfo"] = {
                "DeliveryType": "Email",
                "DeliveryTime": self.sb.clock.local_iso(now),
            }
            self._bumped(existing, obj, now)
            self._put(entity, obj, "Update", now)
        return obj

    def tax_service(self, body: dict[str, Any]) -> dict[str, Any]:
        """``taxservice/taxcode``: store a TaxCode and any new TaxRates it names.

        Each ``TaxRateDetails`` item names an existing rate (``TaxRateId``) or a new one
        (``TaxRateName``, ``RateValue``, ``TaxAgencyId``; ``TaxApplicableOn`` Sales or
        Purchase). Everything is checked before anything is stored.
        """
        from sandbox.fields import to_decimal

        name = body.get("TaxCode")
        if not isinstance(name, str) or not name.strip():
            raise faults.required_field("TaxCode")
        name = name.strip()
        details = body.get("TaxRateDetails")
        if not isinstance(details, list) or not details:
            raise faults.required_field("TaxRateDetails")
        with self._writing():
            if any(
                str(c.get("Name", "")).casefold() == name.casefold() for c in self.all("TaxCode")
            ):
                raise faults.duplicate_name(name)
            planned: list[tuple[dict[str, Any] | None, dict[str, Any]]] = []
            for item in details:
                if not isinstance(item, dict):
                    raise faults.invalid_field("TaxRateDetails", "each rate must be an object")
                applies = item.get("TaxApplicableOn") or "Sales"
                if applies not in ("Sales", "Purchase"):
                    raise faults.invalid_enum(str(applies), "TaxRateDetails.TaxApplicableOn")
                if item.get("TaxRateId") not in (None, "", 0):
                    rate = self.get("TaxRate", str(item["TaxRateId"]))
                    if rate is None:
                        raise faults.invalid_reference(
                            "TaxRateDetails.TaxRateId", "TaxRate", str(item["TaxRateId"])
                        )
                    planned.append((rate, {"TaxApplicableOn": applies}))
                    continue
                rate_name = item.get("TaxRateName")
                if not isinstance(rate_name, str) or not rate_name.strip():
                    raise faults.required_field("TaxRateDetails.TaxRateName")
                value = to_decimal(item.get("RateValue"), "TaxRateDetails.RateValue")
                if not 0 <= value <= 100:
                    raise faults.business_validation(
                        "A tax rate is a percentage from 0 to 100.", "TaxRateDetails.RateValue"
                    )
                agency_id = str(item.get("TaxAgencyId") or "")
                agency = self.get("TaxAgency", agency_id)
                if agency is None:
                    raise faults.invalid_reference(
                        "TaxRateDetails.TaxAgencyId", "TaxAgency", agency_id
                    )
                if any(
                    str(r.get("Name", "")).casefold() == rate_name.strip().casefold()
                    for r in self.all("TaxRate")
                ):
                    raise faults.duplicate_name(rate_name.strip())
                new_rate = {
                    "Name": rate_name.strip(),
                    "Description": rate_name.strip(),
                    "Active": True,
                    "RateValue": value,
                    "AgencyRef": {"value": agency["Id"], "name": agency.get("DisplayName", "")},
                    "SpecialTaxType": "NONE",
                    "DisplayType": "ReadOnly",
                    "EffectiveTaxRate": [{"RateValue": value, "EffectiveDate": "2014-01-01"}],
                }
                planned.append((None, dict(new_rate, TaxApplicableOn=applies)))
            now = self.sb.clock.now()
            answer: list[dict[str, Any]] = []
            sales: list[dict[str, Any]] = []
            purchase: list[dict[str, Any]] = []
            for rate, extra in planned:
                applies = extra.pop("TaxApplicableOn")
                if rate is None:
                    rate = self._store_new("TaxRate", extra, now)
                ref = {"value": rate["Id"], "name": rate["Name"]}
                target = sales if applies == "Sales" else purchase
                target.append(
                    {"TaxRateRef": ref, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
                )
                answer.append(
                    {
                        "TaxRateName": rate["Name"],
                        "TaxRateId": rate["Id"],
                        "RateValue": rate.get("RateValue", 0),
                        "TaxAgencyId": (rate.get("AgencyRef") or {}).get("value"),
                        "TaxApplicableOn": applies,
                    }
                )
            code = self._store_new(
                "TaxCode",
                {
                    "Name": name,
                    "Description": name,
                    "Active": True,
                    "Hidden": False,
                    "Taxable": True,
                    "TaxGroup": len(planned) > 1,
                    "SalesTaxRateList": {"TaxRateDetail": sales},
                    "PurchaseTaxRateList": {"TaxRateDetail": purchase},
                },
                now,
            )
        return {"TaxCode": name, "TaxCodeId": code["Id"], "TaxRateDetails": answer}

    def _store_new(self, entity: str, obj: dict[str, Any], at: datetime) -> dict[str, Any]:
        """Store an object the server itself creates (no client rules); emits "Create"."""
        obj["Id"] = self.new_id(entity)
        obj["SyncToken"] = "0"
        obj["MetaData"] = self._meta(at, at)
        obj = entities.finish(entities.ENTITIES[entity], obj)
        self._put(entity, obj, "Create", at)
        return obj

    def _unapplied_from(self, invoice_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Each payment applied to an invoice, with those applications taken off."""
        out: list[tuple[str, dict[str, Any]]] = []
        for pay in self.all("Payment"):
            lines = []
            changed = False
            for line in pay.get("Line", []):
                links = [
                    link
                    for link in line.get("LinkedTxn", [])
                    if not (
                        link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id
                    )
                ]
                if len(links) != len(line.get("LinkedTxn", [])):
                    changed = True
                    if not links:
                        continue  # the line only applied money to this invoice
                    line = dict(line, LinkedTxn=links)
                lines.append(line)
            if changed:
                applied = sum((Decimal(str(line["Amount"])) for line in lines), Decimal("0"))
                total = Decimal(str(pay.get("TotalAmt", 0)))
                out.append(("Payment", dict(pay, Line=lines, UnappliedAmt=total - applied)))
        return out

    def _apply_followups(self, followups: list[tuple[str, dict[str, Any]]], at: datetime) -> None:
        # Objects changed as a side effect (an invoice paid by a payment) get a new SyncToken,
        # LastUpdatedTime and an Update event, as QBO does.
        for entity, existing in followups:
            obj = dict(existing)
            self._bumped(existing, obj, at)
            self._put(entity, obj, "Update", at)

    def query(self, text: str) -> dict[str, Any]:
        """Run a SELECT and return the ``QueryResponse`` object (API.md §4.4, §4.5)."""
        from sandbox import query as qmod

        response = entities.run_query(self, qmod, text)
        if "Attachable" in response:
            response["Attachable"] = [self.with_temp_link(row) for row in response["Attachable"]]
        return response

    def cdc(self, entity_names: list[str], changed_since: datetime) -> list[dict[str, Any]]:
        """Return one ``{Entity: [...], startPosition, maxResults, totalCount}`` per entity.

        Objects changed at or after ``changed_since`` come back whole; deleted ones as stubs,
        oldest change first. The cap of ``cdc_max_objects`` is shared across entities (API.md
        §5), and a cut never hides changes: a response that was cut holds exactly the cap (the
        signal §5 documents), and every entity with changes says how many it has in
        ``totalCount`` even when fewer (or none) of them fitted (unconfirmed: QBO's count on a
        cut list is undocumented). Only an entity with no change at all answers ``{}``.
        """
        budget = self.sb.config.cdc_max_objects
        out: list[dict[str, Any]] = []
        view = computed.View(self)
        with self.lock:
            for name in entity_names:
                changed = sorted(
                    (at, int(id_) if id_.isdigit() else 0, id_)
                    for id_, at in self.changed_at[name].items()
                    if at >= changed_since
                )
                rows: list[dict[str, Any]] = []
                for _at, _num, id_ in changed[: max(budget, 0)]:
                    obj = self.store[name].get(id_)
                    if obj is not None:
                        rows.append(self.shown(name, obj, view))
                    elif id_ in self.deleted[name]:
                        rows.append(self.deleted[name][id_])
                budget -= len(rows)
                if not changed:
                    out.append({})
                    continue
                out.append(
                    {
                        entities.ENTITIES[name].json_key: rows,
                        "startPosition": 1,
                        "maxResults": len(rows),
                        "totalCount": len(changed),
                    }
                )
        return out

    def shown(
        self, entity: str, obj: dict[str, Any], view: computed.View | None = None
    ) -> dict[str, Any]:
        """A stored object as an answer shows it: computed-on-read fields, temp links.

        Reference names, FullyQualifiedName/Level and vendor/customer balances are computed
        when answering, as QBO does (``computed.py``); the store keeps what was written.
        """
        with self.lock:
            obj = (view or computed.View(self)).shown(entity, obj)
        return self.with_temp_link(obj) if entity == "Attachable" else obj

    def all_stored(self, entity: str) -> list[dict[str, Any]]:
        """Every stored object of ``entity`` as stored (read-time fields not computed)."""
        with self.lock:
            return list(self.store[entity].values())

    def shown_rows(self, entity: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (copies of stored objects) with their read-time fields computed."""
        with self.lock:
            view = computed.View(self)
            return [view.shown(entity, row) for row in rows]

    def all_shown(self, entity: str) -> list[dict[str, Any]]:
        """Every stored object of ``entity`` as answers show it (queries filter on these)."""
        with self.lock:
            view = computed.View(self)
            return [view.shown(entity, obj) for obj in self.store[entity].values()]

    # -- seeding fast path -------------------------------------------------------------------

    def insert(
        self,
        entity: str,
        obj: dict[str, Any],
        *,
        created: datetime | None = None,
        updated: datetime | None = None,
    ) -> dict[str, Any]:
        """Store ``obj`` without validation or webhooks (seed path); returns the stored object.

        Assigns Id (keeps a given one), SyncToken (keeps a given one, else "0"), MetaData,
        ``domain``/``sparse``, line Ids/LineNums, TotalAmt/Balance and FullyQualifiedName/Level.

        Args:
            entity: Canonical entity name.
            obj: The object in QBO JSON shape (copied, not kept).
            created: CreateTime; the clock's now when None.
            updated: LastUpdatedTime and change-log time; ``created`` when None.
        """
        spec = entities.ENTITIES[entity]
        created = created or self.sb.clock.now()
        updated = updated or created
        with self.lock:
            stored = entities.computed_for_insert(self, spec, _copied(obj))
            if stored.get("Id"):
                stored["Id"] = str(stored["Id"])
                self._reserve_id(entity, stored["Id"])
            else:
                stored["Id"] = self.new_id(entity)
            stored["SyncToken"] = str(stored.get("SyncToken", "0"))
            stored["MetaData"] = self._meta(created, updated)
            stored = entities.finish(spec, stored)
            self.store[entity][stored["Id"]] = stored
            self.changed_at[entity][stored["Id"]] = updated
        return stored

    # -- files ---------------------------------------------------------------------------------

    def attach_file(
        self,
        attachable: dict[str, Any],
        file_name: str,
        content_type: str,
        data: bytes,
        *,
        created: datetime | None = None,
    ) -> dict[str, Any]:
        """Store a file with its Attachable; returns the Attachable as the API shows it.

        Validates like ``create`` (and notifies listeners) from the API; while ``seeding`` it
        stores through ``insert`` instead.

        Args:
            attachable: The Attachable metadata (AttachableRef, Note, Category...).
            file_name: Used when the metadata names no ``FileName``.
            content_type: The file's MIME type.
            data: The file's bytes.
            created: CreateTime while seeding; refused otherwise (the API stamps now).

        Raises:
            ValueError: ``created`` given outside seeding.
        """
        if created is not None and not self.seeding:
            raise ValueError("attach_file(created=...) is for seeding only")
        meta = dict(attachable)
        meta["FileName"] = meta.get("FileName") or file_name
        meta["ContentType"] = content_type
        meta["Size"] = len(data)
        with self._writing():
            if self.seeding:
                obj = self.insert("Attachable", meta, created=created)
            else:
                obj = self.create("Attachable", meta)
            obj = {**obj, "FileAccessUri": f"/v3/company/{self.id}/download/{obj['Id']}"}
            self.store["Attachable"][obj["Id"]] = obj
            self.files[obj["Id"]] = (meta["FileName"], content_type, data)
        return self.with_temp_link(obj)

    def with_temp_link(self, attachable: dict[str, Any]) -> dict[str, Any]:
        """A copy of a stored Attachable with a fresh ``TempDownloadUri`` when it has a file.

        The link is minted on every read, as QBO does, and never stored, so the store stays
        free of per-read values.
        """
        if attachable.get("Id") not in self.files:
            return attachable
        return {**attachable, "TempDownloadUri": self.temp_download_uri(attachable["Id"])}

    def temp_download_uri(self, attachable_id: str) -> str:
        """Mint a short-lived, token-free URL serving the file's bytes."""
        expires = self.sb.clock.now() + timedelta(seconds=self.sb.config.temp_download_ttl)
        key = temp_links.mint(self._link_secret, attachable_id, expires)
        name = self.files.get(attachable_id, ("file", "", b""))[0]
        # One path segment, percent-encoded: a name may hold spaces, quotes, "/", CR or LF.
        return f"{self.sb.base_url}/_files/{self.id}/{key}/{quote(name, safe='')}"

    def temp_file(self, key: str) -> tuple[str, str, bytes] | None:
        """(file name, content type, bytes) behind a temp link key; None if invalid or expired."""
        attachable_id = temp_links.check(self._link_secret, key, self.sb.clock.now())
        if attachable_id is None:
            return None
        with self.lock:
            return self.files.get(attachable_id)

    # -- requestid idempotency (API.md §2.7) -------------------------------------------------

    def replay(self, request_id: str) -> tuple[int, dict[str, Any]] | None:
        """Return the stored (status, body) for a requestid seen before, else None."""
        with self.lock:
            return self._requests.get(request_id)

    def remember(self, request_id: str, status: int, body: dict[str, Any]) -> None:
        """Store the response of the first request carrying ``request_id``."""
        with self.lock:
            self._requests.setdefault(request_id, (status, body))
