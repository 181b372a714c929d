"""Every page, in both languages: it answers, speaks the language, and labels every field it shows."""

from __future__ import annotations

import re

import pytest

from tests.analytics.conftest import dataset  # noqa: F401  (the fixed data set, as a fixture)

FIELD = re.compile(r'<(input|select|textarea)\b([^>]*)>')
ID = re.compile(r'\bid="([^"]+)"')


def unlabelled(html: str) -> list[str]:
    labels = set(re.findall(r'<label for="([^"]+)"', html))
    missing = []
    for _, attributes in FIELD.findall(html):
        if 'type="hidden"' in attributes or 'type="radio"' in attributes:
            continue  # radio buttons are wrapped in their label
        found = ID.search(attributes)
        if found is None or found.group(1) not in labels:
            missing.append(attributes.strip()[:80])
    return missing


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_every_page_answers_in_the_language_and_labels_its_fields(writer, client, dataset, language):  # noqa: F811
    decision = (await client.get("/v1/decisions", params={"limit": 1})).json()["items"][0]["id"]
    pages = [
        "/ui/",
        "/ui/?from=2026-01-01&to=2026-09-30",
        "/ui/decisions",
        f"/ui/decisions/{decision}",
        f"/ui/decisions/{decision}/edit",
        "/ui/decisions/new",
        "/ui/strategies",
        "/ui/strategies/growth-2026",
        "/ui/kpis",
        "/ui/kpis/cpa?at=2026-12-01",
        "/ui/people",
        "/ui/people/anna.petrova",
    ]
    for path in pages:
        page = await writer.get(path, headers={"Accept-Language": language})
        assert page.status_code == 200, (path, page.text[:300])
        assert f'<html lang="{language}">' in page.text, path
        assert unlabelled(page.text) == [], path
        if language == "ru":
            assert "Журнал маркетинговых решений" in page.text, path
