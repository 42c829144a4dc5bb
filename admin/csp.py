"""Flask-Admin's own templates, made to run under a strict Content-Security-Policy.

The policy (`core.web.hardening.CSP`) runs no inline script, no `on...=` handler and no
`javascript:` URL. Flask-Admin's Bootstrap 4 templates use a few: `href="javascript:void(0)"`
on tabs, menus and the pager, `onclick` on the delete buttons, the "With selected" actions and
"Add" of inline forms, and a one-line `<script>` in its modal forms. Rather than keep copies of
its templates, `CspLoader` rewrites those spots as Flask-Admin's sources are loaded (once per
template, then cached by Jinja) into inert links and `data-cb-*` attributes, which
`admin/static/csp.js` turns back into the same behaviour. A spot not rewritten stays as it was,
and the browser tests, which fail on any policy violation, say so.

Not rewritten: the map widgets' inline settings (`FLASK_ADMIN_MAPS`, which the console leaves
off) and the Redis console (not mounted).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

import flask_admin
from jinja2 import BaseLoader
from jinja2 import Environment

__all__ = ["CspLoader", "rewrite", "use_csp_templates"]

FLASK_ADMIN_DIR = os.path.dirname(os.path.abspath(flask_admin.__file__))

#: (pattern, replacement), applied in order to every Flask-Admin template's source.
REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    # A dead link the scripts handle: never navigated (csp.js stops the click).
    (re.compile(r'href="javascript:void\(0\)"'), 'href="#" data-cb-inert=""'),
    (re.compile(r'\s+onclick="return false;"'), ""),
    # Confirmations before a delete.
    (
        re.compile(
            r"""onclick="return (?:faHelpers\.safeConfirm|confirm)\('\{\{(.+?)\}\}'\);?\""""
        ),
        r'data-cb-confirm="{{\1}}"',
    ),
    # "With selected" -> an action.
    (
        re.compile(r"""onclick="return modelActions\.execute\('\{\{ (.+?) \}\}'\);\""""),
        r'data-cb-action="{{ \1 }}"',
    ),
    # "Add" another inline form.
    (
        re.compile(r"""onclick="faForm\.addInlineField\(this, '\{\{ (.+?) \}\}'\);\""""),
        r'data-cb-add-inline="{{ \1 }}"',
    ),
    # The modal forms' styling call: csp.js makes it when a modal's content arrives.
    (
        re.compile(
            r"<script \{\{ admin_csp_nonce_attribute \}\}>\s*window\.faForm\.applyGlobalStyles\("
            r"document\.getElementsByClassName\('modal-content'\)\);\s*</script>"
        ),
        "",
    ),
)


def rewrite(source: str) -> str:
    """Flask-Admin template source with its inline handlers and `javascript:` links replaced."""
    for pattern, replacement in REWRITES:
        source = pattern.sub(replacement, source)
    return source


class CspLoader(BaseLoader):
    """Delegates to the app's loader; rewrites what comes from Flask-Admin's package."""

    def __init__(self, inner: BaseLoader) -> None:
        """Wrap `inner` (the app's dispatching loader)."""
        self.inner = inner

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """The template's source, rewritten when the file is one of Flask-Admin's."""
        source, filename, uptodate = self.inner.get_source(environment, template)
        if filename and os.path.abspath(filename).startswith(FLASK_ADMIN_DIR + os.sep):
            source = rewrite(source)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        """What the wrapped loader lists."""
        return self.inner.list_templates()


def use_csp_templates(env: Environment) -> None:
    """Install `CspLoader` in front of `env`'s loader (once)."""
    if env.loader is not None and not isinstance(env.loader, CspLoader):
        env.loader = CspLoader(env.loader)
