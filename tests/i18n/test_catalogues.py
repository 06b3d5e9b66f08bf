"""The German catalogue (locale/de/LC_MESSAGES): complete, compiled, and covering the event catalogue."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

from events.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
msgfmt = shutil.which("msgfmt")
needs_msgfmt = pytest.mark.skipif(msgfmt is None, reason="msgfmt is missing (apt-get install -y gettext)")

# Words that are the same in German.
SAME_IN_GERMAN = {"Test", "Standard", "System"}


@needs_msgfmt
def test_every_message_is_translated_and_none_is_fuzzy():
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True, check=True
    )
    stats = result.stderr.strip()
    assert "untranslated" not in stats and "fuzzy" not in stats, stats


@needs_msgfmt
def test_the_committed_mo_file_is_compiled_from_the_po_file(tmp_path):
    """`manage.py compilemessages` after every change of the .po file (README: Languages)."""
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(PO)], check=True)
    assert MO.read_bytes() == fresh.read_bytes()


@pytest.mark.parametrize("entry", CATALOGUE, ids=[entry["key"] for entry in CATALOGUE])
def test_every_catalogue_name_category_and_description_has_german(entry):
    with translation.override("de"):
        for text in (entry["name"], entry["category"], entry["description"]):
            assert text in SAME_IN_GERMAN or translation.gettext(text) != text, text


def test_seed_001s_german_wording_is_used():
    expected = {
        "customer.created": "Kunde angelegt",
        "customer.deleted": "Kunde gelöscht",
        "contract.terminated": "Vertrag gekündigt",
        "contract.ended": "Vertrag beendet (Vertragsende erreicht)",
        "invoice.payment_received": "Rechnung: Zahlungseingang erhalten",
        "dunning.created": "Mahnung verschickt",
        "order.received": "Bestellung erhalten",
        "test": "Test-Aufruf",
    }
    names = {entry["key"]: entry["name"] for entry in CATALOGUE}
    with translation.override("de"):
        assert {key: translation.gettext(names[key]) for key in expected} == expected
