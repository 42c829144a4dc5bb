"""The Files tab: every attachment of a project; files pulled from QuickBooks are read-only."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import abort
from flask import request
from flask_admin import expose
from sqlalchemy import select

from admin.auth import LocalBaseView
from admin.pages.common import db
from admin.pages.common import runtime
from admin.pages.common import visible_row
from admin.scope import may_see
from admin.scope import of_visible
from core.files import store_for
from core.models import Attachment
from core.models import Project
from core.web.ids import optional_id

# Shown in the browser; anything else (and every unknown type) downloads instead, so a file
# from QuickBooks cannot run script in the console's origin.
INLINE = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"})


class FilesView(LocalBaseView):
    """Attachments by project, with download."""

    @expose("/")
    def index(self) -> Any:
        """Every attachment of one project (or of every project)."""
        session = db()
        project_id = optional_id(request.args.get("project_id"))
        project = session.get(Project, project_id) if project_id else None
        if project_id and (project is None or not may_see(project.company_id)):
            abort(404)  # the same for a project of no company the user sees as for none at all
        query = of_visible(
            select(Attachment).order_by(Attachment.created_at.desc()).limit(1000), Attachment
        )
        if project is not None:
            query = query.where(Attachment.project_id == project.id)
        files = session.scalars(query).all()
        return self.render("costbridge/files.html", project=project, files=files)

    @expose("/download")
    def download(self) -> Any:
        """The bytes of one attachment."""
        att = visible_row(Attachment, request.args.get("id"))
        try:
            content = store_for(runtime().settings.instance_path).get(att.storage_key)
        except (OSError, ValueError):
            abort(404, "The file is not in this instance's file store.")
        inline = att.content_type in INLINE
        disposition = "inline" if inline else "attachment"
        resp = Response(
            content, mimetype=att.content_type if inline else "application/octet-stream"
        )
        resp.headers["Content-Disposition"] = f'{disposition}; filename="{att.file_name}"'
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return resp
