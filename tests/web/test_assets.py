"""The pages' static files: vendored assets match their recorded checksums, the catalogue is complete, caching."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.web import i18n
from app.web.rendering import STATIC, static_url

ROOT = Path(__file__).resolve().parents[2]


def test_vendored_assets_match_their_recorded_version_licence_and_checksum():
    manifest = json.loads((STATIC / "vendor" / "VERSIONS.json").read_text())
    assert manifest, "no vendored asset recorded"
    for name, entry in manifest.items():
        assert entry["version"] and entry["licence"] and entry["integrity"].startswith("sha512-"), name
        assert any(Path(target).name.startswith("LICENSE") for target in entry["files"]), f"{name}: no licence file"
        for target, spec in entry["files"].items():
            data = (STATIC / "vendor" / target).read_bytes()
            assert hashlib.sha256(data).hexdigest() == spec["sha256"], f"{target} is not {name}@{entry['version']}'s"


def test_every_message_of_the_pages_is_translated_into_russian():
    method_map = [("app/web/**.py", "python"), ("app/web/templates/**.html", "jinja2")]
    options = {"app/web/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true"}}
    messages = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options, keywords={"_": None, "N_": None})
    }
    assert len(messages) > 100
    with (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source, locale="ru")
    untranslated = sorted(m for m in messages if not (catalogue.get(m) and catalogue.get(m).string))
    assert untranslated == [], "run `make messages` and translate these"
    assert i18n.translations("ru").gettext("Sign in") == "Войти"


async def test_static_files_are_cached_by_their_content_hash(anon):
    versioned = await anon.get(static_url("app.css"))
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["content-type"].startswith("text/css")
    plain = await anon.get("/ui/static/app.css")
    assert plain.headers["cache-control"] == "no-cache"
    script = await anon.get(static_url("vendor/htmx/htmx.min.js"))
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
