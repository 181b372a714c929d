"""The pages in a real browser (Debian's Chromium through Playwright) against a real server process, from a fresh
database with the demo data and no key: the one-time link, the overview's figures against the API's, Russian,
the phone's width and the keyboard, signing out and in again.

With ``DECISION_LOG_SCREENSHOTS=DIR`` the test also saves its screenshots there (``make screenshots`` writes those
shown in the README, under docs/)."""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from app.analytics.schemas import SummaryRow
from tests.faults.service import COMMAND, Service
from tests.web.helpers import fresh_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_PRESENT = CHROMIUM.exists()
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = os.environ.get("DECISION_LOG_SCREENSHOTS")


@pytest.fixture(scope="module")
async def demo_service(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Service]:
    """``decision-log serve`` on a fresh database holding the demo data set and no key."""
    async with fresh_database(tmp_path_factory.mktemp("browser")) as url:
        await _load_demo(url)
        service = Service(url, env={"DECISION_LOG_LOG_FORMAT": "console"})
        try:
            await service.start()
            yield service
        finally:
            service.stop()
            service.remove_log()


async def _load_demo(url: str) -> None:
    env = {**os.environ, "DECISION_LOG_DATABASE_URL": url}
    demo = await asyncio.create_subprocess_exec(
        str(COMMAND), "demo", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(demo.communicate(), timeout=300)
    assert demo.returncode == 0, err.decode()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM_PRESENT, "the browser tests need Debian's chromium package (apt-get install chromium)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        await launched.close()


async def shot(page: Page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in_link(service: Service) -> str:
    found = re.search(r"(http://\S+/ui/setup\?token=\S+)", service.log_path.read_text())
    assert found, service.log_tail()
    return found.group(1)


async def test_from_the_first_link_to_the_overview_in_two_languages_and_out(demo_service, browser):
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    problems: list[str] = []
    # Script errors and anything the Content-Security-Policy refuses; not the statuses of refused forms (409, 422).
    page.on(
        "console",
        lambda message: problems.append(message.text)
        if message.type == "error" and "the server responded with a status of" not in message.text
        else None,
    )

    # The one-time link printed by `serve`: who I am, then my key, and I am signed in.
    await page.goto(sign_in_link(demo_service))
    await page.get_by_label("Handle").fill("olga.owner")
    await page.get_by_label("Name").fill("Olga Owner")
    await page.get_by_label("Team").fill("marketing")
    await page.get_by_role("button", name="Create my key and sign in").click()
    key = await page.get_by_label("Your API key").input_value()
    assert key.startswith("dlk_")
    await page.get_by_role("link", name="Go to the overview").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("How marketing is managed")

    # Every headline figure is the API's, for the range the page shows.
    start = await page.locator("[data-from]").get_attribute("data-from")
    end = await page.locator("[data-to]").get_attribute("data-to")
    async with httpx.AsyncClient(base_url=demo_service.base_url, headers={"Authorization": f"Bearer {key}"}) as api:
        summary = (await api.get("/v1/analytics/summary", params={"from": start, "to": end})).json()["rows"][0]
    shown = {
        name: json.loads(value)
        for name, value in await page.eval_on_selector_all(
            "[data-metric]", "els => els.map(e => [e.dataset.metric, e.dataset.value])"
        )
    }
    assert set(shown) == set(SummaryRow.model_fields)
    assert shown == summary
    assert summary["decisions"] > 0  # the demo data fill the last 90 days
    await expect(page.locator('[data-chart="basis-by-month"] svg')).to_be_visible()
    await expect(page.locator('[data-chart="strategy-timeline"] svg')).to_be_visible()
    await shot(page, "overview")

    # The keyboard: the first Tab reaches the skip link, which leads to the content.
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    # Russian, chosen once and kept.
    await page.get_by_role("link", name="Русский").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Как управляется маркетинг")
    await page.goto(demo_service.base_url + "/ui/")
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await page.get_by_role("link", name="English").click()

    # The decisions behind a figure, and one of them.
    await page.locator('[data-metric="overdue_reviews"]').click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Decisions")
    await expect(page.get_by_label("Review", exact=True)).to_have_value("overdue")
    await shot(page, "decisions")
    await page.locator("table.decisions tbody th a").first.click()
    await expect(page.get_by_role("heading", name="Rationale")).to_be_visible()

    # On a phone's width nothing runs off the side of the page.
    phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    await phone.add_cookies(await context.cookies())
    small = await phone.new_page()
    await small.goto(demo_service.base_url + "/ui/")
    assert await small.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(small, "overview-phone")
    await phone.close()

    # Record a decision through the form; the API finds it, attributed to me.
    await page.goto(demo_service.base_url + "/ui/decisions")
    await page.get_by_role("link", name="Record a decision").click()
    await page.get_by_label("Title").fill("Test the new landing page on paid search")
    await page.get_by_label("Rationale").fill("The landing page test converted 4.1% against 3.2%.")
    await page.get_by_label("Basis").select_option("experiment")
    await page.locator('select[name="evidence.0.source"]').select_option(index=1)
    await page.locator('input[name="evidence.0.reference"]').fill("https://analytics.example.com/experiments/42")
    await page.get_by_label("Budget", exact=True).fill("4 000")
    await page.get_by_label("Currency").fill("EUR")
    await shot(page, "decision-form")
    await page.get_by_role("button", name="Record the decision").click()
    await expect(page.get_by_role("status")).to_have_text("The decision is recorded.")
    decision_id = page.url.split("/ui/decisions/", 1)[1].split("?", 1)[0]
    async with httpx.AsyncClient(base_url=demo_service.base_url, headers={"Authorization": f"Bearer {key}"}) as api:
        stored = (await api.get(f"/v1/decisions/{decision_id}")).json()
        assert (stored["title"], stored["basis_class"], stored["recorded_by"]) == (
            "Test the new landing page on paid search",
            "data",
            "olga.owner",
        )
        assert (stored["budget_amount"], stored["budget_currency"]) == (4000, "EUR")

        # A refused form: the reason beside the field, and nothing written.
        await page.goto(demo_service.base_url + "/ui/decisions/new")
        await page.get_by_label("Title").fill("A decision without a rationale")
        await page.get_by_role("button", name="Record the decision").click()
        await expect(page.locator("#rationale-error")).to_contain_text("Required.")
        await expect(page.get_by_label("Rationale")).to_have_attribute("aria-invalid", "true")
        found = (await api.get("/v1/decisions", params={"q": "without a rationale"})).json()["items"]
        assert found == []

        # Two people correct it at once: the second sees the conflict instead of overwriting the first.
        await page.goto(f"{demo_service.base_url}/ui/decisions/{decision_id}/edit")
        changed = await api.patch(
            f"/v1/decisions/{decision_id}", json={"title": "Landing page test", "edit_reason": "Shorter title."}
        )
        assert changed.status_code == 200
        await page.get_by_label("Title").fill("Test the new landing page")
        await page.get_by_label("Why it is corrected").fill("Clearer title.")
        await page.get_by_role("button", name="Save the correction").click()
        await expect(page.locator("#conflict")).to_contain_text("Someone else changed this decision")
        assert (await api.get(f"/v1/decisions/{decision_id}")).json()["title"] == "Landing page test"

        # Its outcome, reviewed by me (the key's person).
        await page.goto(f"{demo_service.base_url}/ui/decisions/{decision_id}")
        await page.get_by_label("success", exact=True).check()
        await page.get_by_role("button", name="Record the outcome").click()
        await expect(page.get_by_text("reviewed by olga.owner")).to_be_visible()
        outcome = (await api.get(f"/v1/decisions/{decision_id}")).json()["outcome"]
        assert (outcome["result"], outcome["reviewed_by"]) == ("success", "olga.owner")
    await shot(page, "decision")
    assert problems == [], problems
    # Signing out ends the session; signing in with the key through the form leads back where I was going.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/ui/sign-in$"))
    await page.goto(demo_service.base_url + "/ui/?from=2026-01-01&to=2026-03-31")
    await expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    await page.get_by_label("API key").fill("dlk_000000000000_wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("The API key is not valid.")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/ui/\?from=2026-01-01&to=2026-03-31$"))
    await context.close()
