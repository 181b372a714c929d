"""`serve` on a database that already holds keys leads its user to the pages (the first start prints a one-time
set-up link instead: tests/web/test_browser.py follows it)."""

from tests.core.test_log_redaction import _served


def test_serve_names_the_pages_and_how_to_get_a_key(keys, tmp_path):
    log = tmp_path / "server.log"
    with _served(log) as base:
        pass
    text = log.read_text()
    assert f"The pages: {base}/ui/" in text, text
    assert "decision-log keys create --name NAME --scope read --person HANDLE" in text
    assert "/ui/setup?token=" not in text
