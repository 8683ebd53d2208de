"""Accessibility checks with axe-core (bundled by axe-playwright-python), run on a page the browser tests opened.

A serious or critical violation fails the test; moderate and minor ones are printed with the test's output.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

#: WCAG 2.0, 2.1 and 2.2 at levels A and AA: the standard the README says the pages meet.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING = frozenset({"serious", "critical"})

_axe = Axe()


def violations(page, context: str | None = None) -> list[dict]:
    """axe-core's violations of WCAG 2.2 AA (and its best-practice rules) on the page as it is now."""
    options = {"resultTypes": ["violations"], "runOnly": {"type": "tag", "values": [*WCAG_AA, "best-practice"]}}
    return _axe.run(page, context=context, options=options).response["violations"]


def describe(found: list[dict]) -> str:
    lines = []
    for violation in found:
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        lines.append(f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}")
    return "\n".join(lines)


def assert_accessible(page, label: str, context: str | None = None) -> None:
    """Fail on any serious or critical violation on the page; print the rest under the label."""
    found = violations(page, context)
    failing = [v for v in found if v["impact"] in FAILING]
    others = [v for v in found if v["impact"] not in FAILING]
    if others:
        print(f"\naxe on {label} ({page.viewport_size['width']} px), not failing:\n{describe(others)}")
    assert not failing, f"axe on {label} ({page.viewport_size['width']} px):\n{describe(failing)}"
