"""A throwaway plugin for the ops tests: pushes a local "vendor" as a QBO Vendor.

Loaded into worker subprocesses through an entry point written to a temporary `*.dist-info`
folder, and registered directly for in-process tests.
"""

from __future__ import annotations

from core import hookimpl
from core.contracts import PluginInfo
from core.contracts import PushResult

NAME = "ops_push"


@hookimpl
def plugin_info():
    return PluginInfo(name=NAME, label="Ops test vendors", owns=("Vendor",))


@hookimpl
def push_record(ctx, request):
    vendor = ctx.client.create(
        "Vendor",
        {"DisplayName": f"Ops Supply {request.local_id}"},
        request_id=request.idempotency_key,
    )
    return PushResult(qbo_id=str(vendor["Id"]), sync_token=str(vendor.get("SyncToken", "0")))
