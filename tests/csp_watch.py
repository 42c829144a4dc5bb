"""Fail a browser test on any Content-Security-Policy violation.

Two independent sources, so a violation is caught even when one of them misses it: the page's
`securitypolicyviolation` events, reported to Python through a binding an init script installs
in every document (init scripts are not subject to the page's policy), and Chromium's console
messages ("Refused to execute inline script ... Content Security Policy ...").
"""

from __future__ import annotations

from typing import Any

LISTEN = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cbCspViolation([e.violatedDirective, e.blockedURI || "inline", e.documentURI,
    e.sourceFile || "", String(e.lineNumber || 0), e.sample || ""].join(" | "));
});
"""


class CspWatch:
    """Collects the policy violations of every page of a browser context."""

    def __init__(self) -> None:
        """Nothing seen yet."""
        self.violations: list[str] = []

    def attach(self, context: Any) -> Any:
        """Listen on `context` (a Playwright BrowserContext) and every page it opens."""
        context.expose_binding(
            "__cbCspViolation", lambda _source, text: self.violations.append(text)
        )
        context.add_init_script(LISTEN)
        context.on("page", self._console)
        return context

    def _console(self, page: Any) -> None:
        def seen(message: Any) -> None:
            text = message.text
            if "Content Security Policy" in text or "Content-Security-Policy" in text:
                self.violations.append(f"console: {text} ({page.url})")

        page.on("console", seen)

    def assert_none(self) -> None:
        """Fail with every violation seen, if any."""
        assert not self.violations, "Content-Security-Policy violations:\n" + "\n".join(
            self.violations
        )


class WatchedBrowser:
    """A Playwright Browser whose `new_page` pages are watched by one `CspWatch`."""

    def __init__(self, browser: Any, watch: CspWatch) -> None:
        """Wrap `browser`."""
        self.browser = browser
        self.watch = watch

    def new_page(self, **options: Any) -> Any:
        """A page in a new watched context (closed with the page's browser)."""
        context = self.watch.attach(self.browser.new_context(**options))
        return context.new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.browser, name)
