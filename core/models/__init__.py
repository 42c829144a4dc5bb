"""Every costbridge model, importable from one place (Alembic reads `Base.metadata`)."""

from __future__ import annotations

from core.db import Base
from core.models.api_tokens import ApiToken
from core.models.budget import Actual
from core.models.budget import BudgetChange
from core.models.budget import BudgetLine
from core.models.catalog import CostCode
from core.models.catalog import Employee
from core.models.catalog import TrackingCategory
from core.models.catalog import Vendor
from core.models.company import Company
from core.models.company import ConnectionStatus
from core.models.company import RealmLink
from core.models.documents import Attachment
from core.models.documents import AttachmentOrigin
from core.models.documents import Bill
from core.models.documents import BillLine
from core.models.documents import Invoice
from core.models.documents import InvoiceLine
from core.models.documents import InvoiceStatus
from core.models.documents import TimeEntry
from core.models.hardening import DeliveryState
from core.models.hardening import OAuthState
from core.models.hardening import PendingRevocation
from core.models.hardening import WebhookDelivery
from core.models.project import Project
from core.models.project import SettingChange
from core.models.sync import Install
from core.models.sync import OutboxEntry
from core.models.sync import OutboxState
from core.models.sync import RemoteMapping
from core.models.sync import RunState
from core.models.sync import SyncCursor
from core.models.sync import SyncRun
from core.models.users import Role
from core.models.users import User
from core.models.users import UserCompany

__all__ = [
    "Actual",
    "ApiToken",
    "Attachment",
    "AttachmentOrigin",
    "Base",
    "Bill",
    "BillLine",
    "BudgetChange",
    "BudgetLine",
    "Company",
    "ConnectionStatus",
    "CostCode",
    "DeliveryState",
    "Employee",
    "Install",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "OAuthState",
    "OutboxEntry",
    "OutboxState",
    "PendingRevocation",
    "Project",
    "RealmLink",
    "RemoteMapping",
    "Role",
    "RunState",
    "SettingChange",
    "SyncCursor",
    "SyncRun",
    "TimeEntry",
    "TrackingCategory",
    "User",
    "UserCompany",
    "Vendor",
    "WebhookDelivery",
]
