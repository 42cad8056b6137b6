"""Official names from the FDA's UNII Names list: which are taken, which are left out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from kratomwatch.cli import main
from kratomwatch.domain.substances import load_knowledge
from kratomwatch.domain.unii_names import official_names, read_unii_names

HEADER = "Name\tTYPE\tUNII\tDisplay Name\n"
ROWS = [
    # An international name and a brand of the ingredient.
    ("PETHIDINE", "of", "U1", "MEPERIDINE"),
    ("MEPERIDOL", "cn", "U1", "MEPERIDINE"),
    # A name listed under the salt's UNII: still the ingredient's.
    ("LOPERAMIDUM", "of", "U2", "LOPERAMIDE HYDROCHLORIDE"),
    # Brand names are not taken (combination brands are filed under one ingredient), nor
    # common names that are not a form of the ingredient's name, nor short single words.
    ("LOPERIUM", "bn", "U2", "LOPERAMIDE HYDROCHLORIDE"),
    ("BLUEBERRY", "cn", "U3", "OXYCODONE"),
    ("CHALK", "of", "U3", "OXYCODONE"),
    # Chemical names, codes, laboratory standards and schedule suffixes are not medicine names.
    ("4-PIPERIDINECARBOXYLIC ACID, 1-METHYL-4-PHENYL-, ETHYL ESTER", "sys", "U1", "MEPERIDINE"),
    ("MEPERIDINE USP REFERENCE STANDARD", "cn", "U1", "MEPERIDINE"),
    ("OXYCODONE CII", "cn", "U3", "OXYCODONE"),
    ("R-18553", "cd", "U2", "LOPERAMIDE HYDROCHLORIDE"),
    # A name that is also a combination product's is never given to one ingredient.
    ("PAINAWAY", "cn", "U4", "CAFFEINE"),
    ("PAINAWAY-DC COMPONENT DIHYDROCODEINE", "cn", "U5", "DIHYDROCODEINE"),
    # A name listed for two of the knowledge base's substances is left out.
    ("DUOSAME", "cn", "U3", "OXYCODONE"),
    ("DUOSAME", "cn", "U2", "LOPERAMIDE HYDROCHLORIDE"),
    # A name the reader would cut short (a form word) is left out.
    ("OXY TABLETS", "cn", "U3", "OXYCODONE"),
    # Ingredients the knowledge base does not know are not added.
    ("FOOBARINE", "cn", "U9", "FOOBARINE"),
]


def unii_text() -> str:
    return HEADER + "".join("\t".join(row) + "\n" for row in ROWS)


def test_names_taken_and_left_out() -> None:
    names = official_names(read_unii_names(io.StringIO(unii_text())), load_knowledge())
    assert "Meperidol" in names["pethidine"]
    assert "Pethidine" not in names.get("pethidine", [])  # already a name of ours
    assert names["loperamide"] == ["Loperamidum"]
    assert "oxycodone" not in names  # CII suffix, a form word, two owners, a street name…
    assert "caffeine" not in names  # "Painaway" is also a combination product
    assert all("Foobarine" not in found for found in names.values())


def test_a_file_that_is_not_a_unii_list_is_refused() -> None:
    with pytest.raises(ValueError, match="not a UNII Names file"):
        list(read_unii_names(io.StringIO("a,b,c\n1,2,3\n")))


def test_the_command_writes_a_file_the_loader_reads(tmp_path: Path) -> None:
    source = tmp_path / "UNII_Names.txt"
    source.write_text(unii_text(), encoding="utf-8")
    out = tmp_path / "unii_names.yaml"
    assert main(["knowledge", "import-unii", str(source), "--out", str(out)]) == 0
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["names"]["loperamide"] == ["Loperamidum"]
    from kratomwatch.domain.substances import build_knowledge

    base = Path(__file__).resolve().parents[2] / "src/kratomwatch/data/knowledge"
    document = yaml.safe_load((base / "substances.yaml").read_text(encoding="utf-8"))
    parts = {
        name: yaml.safe_load((base / name).read_text(encoding="utf-8"))
        for name in document["parts"]
    }
    kb = build_knowledge(document, parts, data)
    assert kb.recognize("Loperamidum 2 mg qid").ids == ("loperamide",)  # type: ignore[union-attr]


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["knowledge", "import-unii", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_shipped_official_names_read_as_their_substance() -> None:
    kb = load_knowledge()
    assert sum(len(s.official_names) for s in kb.substances.values()) > 200
    assert kb.recognize("Caffeinum").ids == ("caffeine",)  # type: ignore[union-attr]
    assert kb.recognize("Meperidol 50 mg").ids == ("pethidine",)  # type: ignore[union-attr]
    assert kb.recognize("Amoxicilline 500 mg tds").ids == ("amoxicillin",)  # type: ignore[union-attr]
    # Combination brands filed under one ingredient by the list stay not recognized.
    for brand in ("Koletra", "Aluviran", "Tedral", "Primatene", "Robitussin"):
        assert not hasattr(kb.recognize(brand), "ids"), brand
