"""The accessibility audit: axe-core (pinned in frontend-lock.json, fetched by `make test`)
run in a Playwright page, its serious and critical violations in words."""

from __future__ import annotations

import os

import pytest

from tests.support.process import ROOT

AXE = ROOT / "tests" / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")


def skip_without_axe() -> None:
    """Skip, saying why, when axe-core was not fetched (CI fetches it through make test: there it must run)."""
    if not AXE.is_file() and not os.environ.get("CI"):
        pytest.skip(f"no {AXE.relative_to(ROOT)}: run make test, or python -m beerpi.cli.vendor --tests",
                    allow_module_level=True)


def violations(page, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """Each violation of the given impacts on the page as it is now, one line per element."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated rather than added as a <script>: the page's Content-Security-Policy refuses
        # inline scripts, and the audit must see the page as served.
        page.evaluate(AXE.read_text() + "\n;0")
    found = page.evaluate("""async (impacts) => {
        const result = await axe.run(document, { resultTypes: ["violations"] });
        return result.violations.filter((v) => impacts.includes(v.impact)).flatMap((v) =>
            v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}): ${n.target.join(" ")}: ${n.failureSummary}`));
    }""", list(impacts))
    return found
