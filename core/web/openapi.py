"""The OpenAPI 3.1 document of the read API, served at `/api/v1/openapi.json`.

Written by hand beside the views (`core.web.api`), from the same field lists; the tests validate
it with `openapi-spec-validator` and check real responses against its schemas, so a field added
to a response without its schema fails there.
"""

from __future__ import annotations

from typing import Any

from core.listing import DEFAULT_LIMIT
from core.listing import EXCLUDED_CHOICES
from core.listing import MAX_LIMIT

__all__ = ["document"]

VERSION = "1.0.0"

MONEY = {
    "type": "string",
    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
    "description": "An amount in the company's home currency: a decimal string with exactly two "
    "decimals (never a JSON number, so no cent is lost), negative for credits.",
    "examples": ["1250.10", "-50.00"],
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema["type"]
    return {**schema, "type": [kind, "null"]}


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
REF_MONEY = {"$ref": "#/components/schemas/Money"}


def _schemas() -> dict[str, Any]:
    return {
        "Money": MONEY,
        "Error": _object(
            {
                "error": _object(
                    {
                        "status": {**INTEGER, "description": "The HTTP status, repeated."},
                        "code": {
                            **STRING,
                            "description": "What went wrong, for programs: unauthorized, "
                            "invalid_token, invalid_request, insufficient_scope, not_found, "
                            "bad_parameter, not_acceptable, method_not_allowed.",
                        },
                        "message": {**STRING, "description": "What went wrong, in words."},
                        "fix": {**STRING, "description": "What to do about it (may be empty)."},
                    },
                    "The refusal.",
                )
            },
            "Every error answers so.",
        ),
        "Project": _object(
            {
                "id": INTEGER,
                "name": STRING,
                "number": _nullable(STRING),
                "company_id": INTEGER,
                "company_name": STRING,
                "currency": {**STRING, "description": "The company's home currency (ISO 4217)."},
                "linked": {
                    "type": "boolean",
                    "description": "Whether the project is linked to a QuickBooks customer "
                    "(only a linked project receives actuals).",
                },
                "qbo_customer_id": _nullable(STRING),
                "qbo_customer_name": _nullable(STRING),
            },
            "A project the token's user may read.",
        ),
        "ProjectList": _object(
            {
                "projects": {"type": "array", "items": {"$ref": "#/components/schemas/Project"}},
                "next_cursor": {
                    **_nullable(STRING),
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
            "One page of projects, by id.",
        ),
        "BudgetLine": _object(
            {
                "cost_code_id": {
                    **_nullable(INTEGER),
                    "description": "null for the Uncoded row (lines with no cost code).",
                },
                "code": {**STRING, "description": "The cost code, or UNCODED."},
                "name": STRING,
                "budgeted": REF_MONEY,
                "actual": REF_MONEY,
                "variance": {**REF_MONEY, "description": "Budgeted minus actual."},
            },
            "One cost code of the budget.",
        ),
        "Budget": _object(
            {
                "project_id": INTEGER,
                "project_name": STRING,
                "lines": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/BudgetLine"},
                    "description": "By code; the Uncoded row always last.",
                },
                "totals_by_type": {
                    "type": "object",
                    "additionalProperties": REF_MONEY,
                    "description": "Counting actuals per actual type (bill, expense, time, ...).",
                },
                "total_actual": REF_MONEY,
                "total_budget": REF_MONEY,
                "total_variance": REF_MONEY,
            },
            "The budget against actuals, exactly as the console and `costbridge budget --format "
            "json` show it.",
        ),
        "ActualLine": _object(
            {
                "id": INTEGER,
                "txn_date": DATE,
                "actual_type": STRING,
                "cost_code_id": _nullable(INTEGER),
                "cost_code": {
                    **_nullable(STRING),
                    "description": "The cost code as the budget shows it; UNCODED for none.",
                },
                "cost_code_name": _nullable(STRING),
                "amount": REF_MONEY,
                "hours": {
                    "type": ["string", "null"],
                    "pattern": r"^-?[0-9]+\.[0-9]{2}$",
                    "description": "Hours of a time line, as a decimal string.",
                },
                "payee": _nullable(STRING),
                "doc_number": _nullable(STRING),
                "description": _nullable(STRING),
                "billable_status": _nullable(STRING),
                "counted": {
                    "type": "boolean",
                    "description": "Whether the line counts against the budget.",
                },
                "excluded_reason": {
                    **_nullable(STRING),
                    "description": "Why the project's settings leave the line out.",
                },
                "qbo_entity": STRING,
                "qbo_id": STRING,
                "qbo_line_id": STRING,
                "item_name": _nullable(STRING),
                "account_name": _nullable(STRING),
                "class_name": _nullable(STRING),
                "location_name": _nullable(STRING),
                "currency": {
                    **_nullable(STRING),
                    "description": "The transaction's currency when not the home currency.",
                },
                "original_amount": {
                    "anyOf": [REF_MONEY, {"type": "null"}],
                    "description": "The amount in the transaction's currency, when foreign.",
                },
                "qbo_updated_at": _nullable(DATETIME),
                "pulled_at": DATETIME,
            },
            "One cost line pulled from QuickBooks.",
        ),
        "ActualList": _object(
            {
                "project_id": INTEGER,
                "filters": _object(
                    {
                        "cost_code": {"type": "array", "items": STRING},
                        "type": {"type": "array", "items": STRING},
                        "from": _nullable(DATE),
                        "to": _nullable(DATE),
                        "excluded": {"type": "string", "enum": list(EXCLUDED_CHOICES)},
                    },
                    "The filters applied.",
                ),
                "count": {**INTEGER, "description": "Lines matching the filters, on all pages."},
                "total_amount": {
                    **REF_MONEY,
                    "description": "The sum of the matching lines' amounts, on all pages.",
                },
                "lines": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/ActualLine"},
                    "description": "Newest first (transaction date, then id).",
                },
                "next_cursor": {
                    **_nullable(STRING),
                    "description": "Pass as `cursor` for the next page; null on the last.",
                },
            },
            "One page of a project's actual lines.",
        ),
    }


def _parameters() -> dict[str, Any]:
    return {
        "ProjectId": {
            "name": "project_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
            "description": "The project's id (from /projects).",
        },
        "Cursor": {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string", "maxLength": 200},
            "description": "Opaque: `next_cursor` of the previous page, passed unchanged with the "
            "same filters. Paging is by keyset, so rows added meanwhile never repeat or skip "
            "the rest.",
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
            "description": f"Rows a page, at most {MAX_LIMIT}; more is refused (400).",
        },
        "Format": {
            "name": "format",
            "in": "query",
            "schema": {"type": "string", "enum": ["json", "csv"]},
            "description": "json or csv; wins over the Accept header (text/csv or "
            "application/json).",
        },
        "CostCode": {
            "name": "cost_code",
            "in": "query",
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": True,
            "description": "Only lines of these cost codes (as the budget's `code` shows them; "
            "UNCODED: lines with no cost code). Repeat for several.",
        },
        "Type": {
            "name": "type",
            "in": "query",
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": True,
            "description": "Only lines of these actual types (bill, expense, check, "
            "credit_card, credit_card_credit, bank_transaction, time, vendor_credit, or one a "
            "plugin declares). Repeat for several.",
        },
        "From": {
            "name": "from",
            "in": "query",
            "schema": {"type": "string", "format": "date"},
            "description": "Only lines dated on or after this day (YYYY-MM-DD).",
        },
        "To": {
            "name": "to",
            "in": "query",
            "schema": {"type": "string", "format": "date"},
            "description": "Only lines dated on or before this day (YYYY-MM-DD).",
        },
        "Excluded": {
            "name": "excluded",
            "in": "query",
            "schema": {"type": "string", "enum": list(EXCLUDED_CHOICES), "default": "false"},
            "description": "false: the lines that count against the budget; true: the lines "
            "the project's settings leave out; all: both.",
        },
    }


def _error(description: str, *, challenge: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if challenge:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'Bearer realm="costbridge", with error="invalid_token" when a '
                "token was sent but is malformed, unknown or revoked, or its user disabled.",
                "schema": {"type": "string"},
            }
        }
    return response


def _ok(schema: str, description: str, *, csv: str, paged: bool) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if paged:
        headers = {
            "Link": {
                "description": 'In CSV: `<URL>; rel="next"` while there is a next page.',
                "schema": {"type": "string"},
            },
            "X-Next-Cursor": {
                "description": "In CSV: the next page's cursor while there is one.",
                "schema": {"type": "string"},
            },
        }
    return {
        "description": description,
        **({"headers": headers} if headers else {}),
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
            "text/csv": {"schema": {"type": "string", "description": csv}},
        },
    }


def _refusals(*, project: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "406": {"$ref": "#/components/responses/NotAcceptable"},
        "400": {"$ref": "#/components/responses/BadRequest"},
    }
    if project:
        out["404"] = {"$ref": "#/components/responses/NotFound"}
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of `/api/v1`, as a JSON-ready dict."""
    page = [{"$ref": "#/components/parameters/Cursor"}, {"$ref": "#/components/parameters/Limit"}]
    fmt = {"$ref": "#/components/parameters/Format"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "costbridge read API",
            "version": VERSION,
            "description": (
                "Read projects, their budgets against QuickBooks actuals, and the actual lines, "
                "with the same figures as the console and `costbridge budget --format json`.\n\n"
                "**Tokens**: each user makes their own on the console's API tokens page, or an "
                "operator runs `costbridge api-tokens create EMAIL`. Send it as "
                "`Authorization: Bearer TOKEN`. A token reads what its user may read, and only "
                "reads: there is no endpoint that changes anything. Revoked tokens and tokens "
                "of disabled users stop working at once. Cookies are neither read nor set.\n\n"
                "**Money** is always a string with exactly two decimals (`1250.10`, `-50.00`), "
                "in the company's home currency.\n\n"
                "**Paging**: lists answer at most `limit` rows (default "
                f"{DEFAULT_LIMIT}, at most {MAX_LIMIT}) and a `next_cursor`; pass it as `cursor`, "
                "with the same filters, until it is null.\n\n"
                "**Formats**: JSON, or CSV with `?format=csv` or `Accept: text/csv`.\n\n"
                "**Limits**: there is no rate limit; the API serves only the host names the "
                "console serves, never COSTBRIDGE_PUBLIC_HOSTS."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/projects": {
                "get": {
                    "operationId": "listProjects",
                    "summary": "The projects the token's user may read",
                    "parameters": [*page, fmt],
                    "responses": {
                        "200": _ok(
                            "ProjectList",
                            "One page of projects.",
                            csv="A header row, then one row per project.",
                            paged=True,
                        ),
                        **_refusals(project=False),
                    },
                }
            },
            "/projects/{project_id}/budget": {
                "get": {
                    "operationId": "getBudget",
                    "summary": "A project's budget against its actuals, per cost code",
                    "parameters": [{"$ref": "#/components/parameters/ProjectId"}, fmt],
                    "responses": {
                        "200": _ok(
                            "Budget",
                            "The budget.",
                            csv="code,name,budgeted,actual,variance; one row per cost code, "
                            "then a TOTAL row (as `costbridge budget --format csv`).",
                            paged=False,
                        ),
                        **_refusals(project=True),
                    },
                }
            },
            "/projects/{project_id}/actuals": {
                "get": {
                    "operationId": "listActuals",
                    "summary": "A project's actual lines, filtered and paged",
                    "parameters": [
                        {"$ref": "#/components/parameters/ProjectId"},
                        {"$ref": "#/components/parameters/CostCode"},
                        {"$ref": "#/components/parameters/Type"},
                        {"$ref": "#/components/parameters/From"},
                        {"$ref": "#/components/parameters/To"},
                        {"$ref": "#/components/parameters/Excluded"},
                        *page,
                        fmt,
                    ],
                    "responses": {
                        "200": _ok(
                            "ActualList",
                            "One page of actual lines.",
                            csv="A header row with the fields of ActualLine, then one row per "
                            "line; the count and total of all pages in X-Total-Count and "
                            "X-Total-Amount.",
                            paged=True,
                        ),
                        **_refusals(project=True),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document (no token needed)",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "cbt_ followed by 43 URL-safe characters",
                    "description": "A per-user, read-only API token.",
                }
            },
            "schemas": _schemas(),
            "parameters": _parameters(),
            "responses": {
                "Unauthorized": _error(
                    "No token, a malformed, unknown or revoked one, or its user is disabled.",
                    challenge=True,
                ),
                "Forbidden": _error("The token's scope is not read."),
                "NotFound": _error("No such project, or not one the token's user may read."),
                "BadRequest": _error(
                    "A filter, page size, format or cursor that cannot be read; the message "
                    "says which and why."
                ),
                "NotAcceptable": _error("The Accept header wants neither JSON nor CSV."),
            },
        },
    }
