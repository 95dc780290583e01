"""Browser journeys: Playwright's sync API driving Debian's Chromium against pytest-django's live_server.

Playwright's sync API keeps an asyncio event loop running in the test's thread, so Django's
async-safety check would refuse every ORM call made by the test itself (fixtures, DB assertions).
The live server answers in its own thread; the test only reads and writes between page actions, never
concurrently with them, which is what the check is there to prevent. So DJANGO_ALLOW_ASYNC_UNSAFE is
set while Playwright runs, and only then: the browser is started and stopped once for this package,
and the variable is removed afterwards (`manage.py check --deploy`, run by tests/portal, warns about it).
"""
import hashlib
import re
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; `playwright install` cannot download here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
VIEWPORT = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

# axe-core, copied from its npm package (tests/browser/vendor/axe-core/README.md says how to update it):
# served from this disk, never a CDN. The digest is the package's own (its sri-history.json), so a file
# changed by hand or by a botched update is noticed before it judges any page.
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb"  # axe-core 4.10.3
# Issue #24: a page may have no serious or critical violation; minor and moderate ones are reported by
# axe too, but they do not fail a journey.
AXE_BLOCKING = ("serious", "critical")
# The rules of WCAG 2.1 A and AA, and axe's best practices (landmarks, one <h1>, heading order…).
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}


@cache
def axe_source():
    source = AXE.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    if digest != AXE_SHA256:
        pytest.fail(f"{AXE} is not axe-core 4.10.3 as vendored (sha256 {digest}): restore it or update AXE_SHA256 "
                    "with the digest of the new release's axe.min.js.", pytrace=False)
    return source.decode()


def axe_violations(page):
    """axe-core's serious and critical violations on the page as it is now: one line per element, with
    the rule, the element's selector, what axe says is wrong and the rule's help page.

    The script goes in through the DevTools protocol (page.evaluate), not a <script> tag: the portal's
    Content-Security-Policy forbids inline scripts, and the test must not weaken it to look."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in AXE_BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(" > ".join(part) if isinstance(part, list) else part for part in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " ")
            lines.append(f"[{violation['impact']}] {violation['id']} at {target}: {summary} ({violation['helpUrl']})")
    return lines


@pytest.fixture(scope="package")
def browser():
    # A missing browser is a failure, never a skip: `make test` installs it.
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium).", pytrace=False)
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            try:
                chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                      args=CHROMIUM_ARGS)
            except PlaywrightError as error:
                pytest.fail(f"Chromium at {CHROMIUM} does not start: {error}", pytrace=False)
            yield chromium
            chromium.close()


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Journey:
    """One person's browser context: its pages, full-page screenshots, and every HTTP answer seen."""

    def __init__(self, context, base_url, artifacts_dir, prefix):
        self.context = context
        self.base_url = base_url
        self.artifacts = artifacts_dir
        self.prefix = prefix
        self.failed_responses = []
        self.page_errors = []
        # Every console message the browser printed about the Content-Security-Policy (a blocked inline
        # script, style or handler, a resource from elsewhere): a journey must end with none.
        self.csp_violations = []
        context.on("response", self._on_response)
        self.page = self.watch(context.new_page())

    def _on_response(self, response):
        # The browser's own favicon probe is not part of the journey.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failed_responses.append(f"{response.status} {response.request.method} {response.url}")

    def watch(self, page):
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", self._on_console)
        return page

    def _on_console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_violations.append(f"{message.type}: {message.text}")

    def second_step(self, device, screenshot_name=None):
        """The sign-in's second step, as a person types the code from the app (field `otp_token`)."""
        from tests.helpers import totp_code

        page = self.page
        page.wait_for_url("**/accounts/login/code/")
        page.fill("input[name=otp_token]", totp_code(device))
        if screenshot_name:
            self.screenshot(screenshot_name)
        with page.expect_navigation() as navigation:
            page.click("button[type=submit].primary")
        return navigation.value

    def url(self, path):
        return f"{self.base_url}{path}"

    def screenshot(self, name, page=None):
        path = self.artifacts / f"{self.prefix}-{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000, f"empty screenshot {path}"
        return path

    def accessibility_problems(self, name, page=None):
        """The serious and critical axe-core violations of the page now, each line prefixed by `name`."""
        return [f"{name} ({(page or self.page).url}): {line}" for line in axe_violations(page or self.page)]

    def assert_accessible(self, name, page=None):
        problems = self.accessibility_problems(name, page)
        if problems:
            self.screenshot(f"a11y-{name}", page)
        assert not problems, "axe-core found serious or critical violations:\n" + "\n".join(problems)

    def assert_clean(self, allowed=()):
        """No server error, missing page or stylesheet and no script error along the way."""
        unexpected = [line for line in self.failed_responses if not any(re.search(a, line) for a in allowed)]
        assert not unexpected, f"failed HTTP answers during the journey: {unexpected}"
        assert not self.page_errors, f"script errors during the journey: {self.page_errors}"
        assert not self.csp_violations, f"Content-Security-Policy violations: {self.csp_violations}"


@pytest.fixture
def journey(browser, live_server, artifacts):
    """A factory of fresh browser contexts (own cookies) on the live server; closed after the test.

    The contexts send Accept-Language vi-VN, as an officer's browser set to Vietnamese does."""
    contexts = []

    def start(prefix):
        context = browser.new_context(locale="vi-VN", viewport=VIEWPORT, timezone_id="Asia/Ho_Chi_Minh")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Journey(context, live_server.url, artifacts, prefix)

    yield start
    for context in contexts:
        context.close()
