import copy
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

import kratomwatch
from kratomwatch.domain import substances as sub
from kratomwatch.domain.substances import (
    InvalidQueryError,
    KnowledgeBaseError,
    Match,
    NotRecognized,
    build_knowledge,
    load_knowledge,
    normalize_name,
    recognize,
    substances_in_class,
)

CLASS_VOCABULARY = {
    "opioid_agonist", "opioid_partial_agonist", "opioid_antagonist", "benzodiazepine",
    "z_drug", "gabapentinoid", "alcohol", "barbiturate", "muscle_relaxant",
    "sedating_antihistamine", "antipsychotic", "antidepressant", "serotonergic", "maoi",
    "stimulant", "qt_prolonging", "seizure_threshold_lowering", "cyp3a_strong_inhibitor",
    "cyp3a_moderate_inhibitor", "cyp3a_strong_inducer", "cyp3a_moderate_inducer",
    "cyp3a_substrate_nti", "cyp2d6_substrate_nti", "cyp2d6_substrate_prodrug", "hepatotoxic",
    "cns_depressant_other", "anticoagulant", "nsaid", "paracetamol", "cannabinoid",
}  # fmt: skip

KNOWLEDGE_DIR = resources.files("kratomwatch") / "data" / "knowledge"


def _raw():
    main = yaml.safe_load((KNOWLEDGE_DIR / "substances.yaml").read_text(encoding="utf-8"))
    parts = {
        name: yaml.safe_load(KNOWLEDGE_DIR.joinpath(*name.split("/")).read_text(encoding="utf-8"))
        for name in main["parts"]
    }
    return main, parts


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def ids(result):
    assert isinstance(result, Match), result
    return set(result.ids)


# ------------------------------------------------------------------------------ data


def test_main_file_and_parts_validate_against_schema():
    schema = yaml.safe_load(
        (resources.files("kratomwatch") / "data" / "schemas" / "substances.schema.json").read_text(
            encoding="utf-8"
        )
    )
    main, parts = _raw()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(main, schema)
    part_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/part"}
    for content in parts.values():
        jsonschema.validate(content, part_schema)


def test_part_files_stay_reasonably_small():
    main, _ = _raw()
    for name in main["parts"]:
        lines = KNOWLEDGE_DIR.joinpath(*name.split("/")).read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 1500, name


def test_version_is_recorded_in_changelog(kb):
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", kb.version)
    changelog = (KNOWLEDGE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", changelog, flags=re.MULTILINE)
    assert headings and headings[0] == kb.version


def test_at_least_300_ingredients(kb):
    assert len(kb.substances) >= 300


def test_class_vocabulary_is_exactly_the_agreed_one(kb):
    assert set(kb.classes) == CLASS_VOCABULARY


def test_every_class_is_defined_sourced_and_used(kb):
    used = {c for s in kb.substances.values() for c in s.classes}
    assert used <= set(kb.classes)
    for cls in kb.classes.values():
        assert cls.label and cls.description
        for source in (cls.source, *cls.additional_sources):
            assert source.url.startswith("https://") and source.title
        assert kb.substances_in_class(cls.id), f"class {cls.id} has no members"


def test_no_name_stands_for_two_different_things():
    """Across generics, brands, synonyms and misspellings, after normalisation."""
    main, parts = _raw()
    owners = {}
    for content in parts.values():
        for s in content["substances"]:
            names = [s["id"].replace("_", " "), s["name"], *s["brands"], *s["synonyms"]]
            for name in [*names, *s["misspellings"]]:
                owners.setdefault(normalize_name(name), set()).add((s["id"],))
    for combo in main["combinations"]:
        target = tuple(combo["ingredients"])
        for name in [combo["name"], *combo.get("aliases", []), *combo.get("misspellings", [])]:
            owners.setdefault(normalize_name(name), set()).add(target)
    clashes = {name: targets for name, targets in owners.items() if len(targets) > 1}
    assert clashes == {}


def test_substance_ids_are_unique_snake_case():
    _, parts = _raw()
    all_ids = [s["id"] for content in parts.values() for s in content["substances"]]
    assert len(all_ids) == len(set(all_ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in all_ids)


def test_combinations_reference_known_ingredients(kb):
    assert len(kb.combinations) >= 30
    for combo in kb.combinations:
        assert len(combo.ingredients) >= 2
        assert all(i in kb.substances for i in combo.ingredients)


def test_kratom_itself_is_not_in_this_list(kb):
    for name in ("kratom", "mitragynine", "7-hydroxymitragynine", "7-OH", "Mitragyna speciosa"):
        assert isinstance(kb.recognize(name), NotRecognized), name
    assert not any("mitragyn" in s.id for s in kb.substances.values())


@pytest.mark.parametrize(
    ("substance_id", "expected"),
    [
        ("ketoconazole", {"cyp3a_strong_inhibitor", "hepatotoxic"}),
        ("itraconazole", {"cyp3a_strong_inhibitor"}),
        ("posaconazole", {"cyp3a_strong_inhibitor"}),
        ("voriconazole", {"cyp3a_strong_inhibitor"}),
        ("fluconazole", {"cyp3a_moderate_inhibitor"}),
        ("clarithromycin", {"cyp3a_strong_inhibitor"}),
        ("erythromycin", {"cyp3a_moderate_inhibitor"}),
        ("ritonavir", {"cyp3a_strong_inhibitor"}),
        ("cobicistat", {"cyp3a_strong_inhibitor"}),
        ("diltiazem", {"cyp3a_moderate_inhibitor"}),
        ("verapamil", {"cyp3a_moderate_inhibitor"}),
        ("grapefruit_juice", {"cyp3a_moderate_inhibitor"}),
        ("rifampicin", {"cyp3a_strong_inducer"}),
        ("carbamazepine", {"cyp3a_strong_inducer"}),
        ("phenytoin", {"cyp3a_strong_inducer"}),
        ("phenobarbital", {"cyp3a_strong_inducer", "barbiturate"}),
        ("modafinil", {"cyp3a_moderate_inducer"}),
        ("efavirenz", {"cyp3a_moderate_inducer"}),
        ("st_johns_wort", {"cyp3a_moderate_inducer", "serotonergic"}),
        ("tacrolimus", {"cyp3a_substrate_nti"}),
        ("ciclosporin", {"cyp3a_substrate_nti"}),
        ("sirolimus", {"cyp3a_substrate_nti"}),
        ("simvastatin", {"cyp3a_substrate_nti"}),
        ("atorvastatin", {"cyp3a_substrate_nti"}),
        ("codeine", {"opioid_agonist", "cyp2d6_substrate_prodrug"}),
        ("tramadol", {"opioid_agonist", "cyp2d6_substrate_prodrug", "serotonergic"}),
        ("tamoxifen", {"cyp2d6_substrate_prodrug"}),
        ("methadone", {"opioid_agonist", "qt_prolonging"}),
        ("citalopram", {"qt_prolonging", "antidepressant", "serotonergic"}),
        ("escitalopram", {"qt_prolonging"}),
        ("haloperidol", {"qt_prolonging", "antipsychotic"}),
        ("ondansetron", {"qt_prolonging"}),
        ("amiodarone", {"qt_prolonging", "hepatotoxic"}),
        ("sotalol", {"qt_prolonging"}),
        ("dofetilide", {"qt_prolonging"}),
        ("flecainide", {"qt_prolonging"}),
        ("valproic_acid", {"hepatotoxic"}),
        ("isoniazid", {"hepatotoxic"}),
        ("methotrexate", {"hepatotoxic"}),
        ("paracetamol", {"paracetamol"}),  # hepatotoxic only in overdose (LiverTox)
        ("naltrexone", {"opioid_antagonist"}),
        ("naloxone", {"opioid_antagonist"}),
        ("nalmefene", {"opioid_antagonist"}),
        ("buprenorphine", {"opioid_partial_agonist"}),
        ("gabapentin", {"gabapentinoid"}),
        ("pregabalin", {"gabapentinoid"}),
        ("zolpidem", {"z_drug"}),
        ("alprazolam", {"benzodiazepine"}),
        ("cyclobenzaprine", {"muscle_relaxant"}),
        ("carisoprodol", {"muscle_relaxant"}),
        ("diphenhydramine", {"sedating_antihistamine"}),
        ("phenelzine", {"maoi"}),
        ("methylphenidate", {"stimulant"}),
        ("warfarin", {"anticoagulant"}),
        ("apixaban", {"anticoagulant"}),
        ("rivaroxaban", {"anticoagulant"}),
        ("ibuprofen", {"nsaid"}),
        ("ethanol", {"alcohol"}),
        ("cannabis", {"cannabinoid"}),
        ("xylazine", {"cns_depressant_other"}),
        ("kava", {"cns_depressant_other", "hepatotoxic"}),
        ("phenibut", {"cns_depressant_other"}),
        ("diamorphine", {"opioid_agonist"}),
        ("fentanyl", {"opioid_agonist"}),
        ("loperamide", set()),  # its own rules read the daily amount (no class)
        ("tianeptine", {"opioid_agonist"}),
    ],
)
def test_required_coverage_and_key_classes(kb, substance_id, expected):
    assert expected <= kb.substances[substance_id].classes


def test_inhibitor_and_inducer_strengths_are_exclusive(kb):
    for s in kb.substances.values():
        assert not {"cyp3a_strong_inhibitor", "cyp3a_moderate_inhibitor"} <= s.classes, s.id
        assert not {"cyp3a_strong_inducer", "cyp3a_moderate_inducer"} <= s.classes, s.id


def test_substances_in_class(kb):
    strong = {s.id for s in substances_in_class("cyp3a_strong_inhibitor")}
    assert {"ketoconazole", "clarithromycin", "ritonavir"} <= strong
    assert "fluconazole" not in strong
    members = kb.substances_in_class("z_drug")
    assert [s.id for s in members] == sorted(s.id for s in members)
    with pytest.raises(KeyError, match="no_such_class"):
        substances_in_class("no_such_class")


def test_load_is_cached():
    assert load_knowledge() is load_knowledge()


# ------------------------------------------------------------------------ recognition


@pytest.mark.parametrize(
    ("query", "expected", "kind"),
    [
        ("oxycodone", {"oxycodone"}, "generic"),
        ("Gabapentin", {"gabapentin"}, "generic"),
        ("MEPERIDINE", {"pethidine"}, "synonym"),
        ("acetaminophen", {"paracetamol"}, "synonym"),
        ("APAP", {"paracetamol"}, "synonym"),
        ("rifampin", {"rifampicin"}, "synonym"),
        ("cyclosporine", {"ciclosporin"}, "synonym"),
        ("heroin", {"diamorphine"}, "synonym"),
        ("vodka", {"ethanol"}, "synonym"),
        ("OxyContin", {"oxycodone"}, "brand"),
        ("xanax", {"alprazolam"}, "brand"),
        ("Lyrica", {"pregabalin"}, "brand"),
        ("Zydol", {"tramadol"}, "brand"),
        ("Narcan", {"naloxone"}, "brand"),
        ("trazadone", {"trazodone"}, "misspelling"),
        ("buproprion", {"bupropion"}, "misspelling"),
        ("xanex", {"alprazolam"}, "misspelling"),
        ("hydromorphine", {"hydromorphone"}, "misspelling"),
        ("Percocet", {"oxycodone", "paracetamol"}, "combination"),
        ("Suboxone", {"buprenorphine", "naloxone"}, "combination"),
        ("Norco", {"hydrocodone", "paracetamol"}, "combination"),
        ("Vicodin", {"hydrocodone", "paracetamol"}, "combination"),
        ("Tylenol #3", {"paracetamol", "codeine"}, "combination"),
        ("Tylenol with Codeine No. 4", {"paracetamol", "codeine"}, "combination"),
        ("Co-codamol 30/500", {"paracetamol", "codeine"}, "combination"),
        ("Tylenol PM", {"paracetamol", "diphenhydramine"}, "combination"),
        ("percoset", {"oxycodone", "paracetamol"}, "misspelling"),
    ],
)
def test_recognizes_names(query, expected, kind):
    result = recognize(query)
    assert ids(result) == expected
    assert result.matched_as == kind
    assert result.query == query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Oxycodone 10 mg tablets", "oxycodone"),
        ("oxycodone HCl ER 20mg", "oxycodone"),
        ("Xanax XR 1 mg", "alprazolam"),
        ("gabapentin 300mg TID", "gabapentin"),
        ("gabapentin 600 mg three times a day", "gabapentin"),
        ("metoprolol succinate ER 25 mg daily", "metoprolol"),
        ("Divalproex sodium DR 500mg", "valproic_acid"),
        ("amlodipine besylate 5mg once a day", "amlodipine"),
        ("Butrans 10 mcg/hr patch", "buprenorphine"),
        ("fentanyl 25 mcg/hr transdermal patch q72h", "fentanyl"),
        ("Methadone 10mg/ml oral concentrate", "methadone"),
        ("take 1 tablet of metformin twice daily", "metformin"),
        ("ibuprofen 400mg prn for pain", "ibuprofen"),
        ("Tylenol Extra Strength 500 mg", "paracetamol"),
        ("Seroquel XR 300 mg at bedtime", "quetiapine"),
        ("Warfarin 5mg Mon/Wed/Fri", "warfarin"),
        ("Klonopin .5mg", "clonazepam"),
        ("Lexapro 10mg (escitalopram)", "escitalopram"),
        ("  tramadol   50MG  q6h PRN ", "tramadol"),
        ("Paracétamol", "paracetamol"),
        ("St. John's Wort", "st_johns_wort"),
        ("ST JOHNS WORT 300MG", "st_johns_wort"),
        ("Cartia XT 120mg", "diltiazem"),
        ("THC gummies", "cannabis"),
    ],
)
def test_strips_strengths_salts_forms_and_directions(query, expected):
    assert ids(recognize(query)) == {expected}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("oxycodone/acetaminophen 5/325", {"oxycodone", "paracetamol"}),
        ("hydrocodone-acetaminophen 10-325", {"hydrocodone", "paracetamol"}),
        ("oxycodone 5 mg and paracetamol 325 mg", {"oxycodone", "paracetamol"}),
        ("buprenorphine and naloxone sublingual film 8 mg/2 mg", {"buprenorphine", "naloxone"}),
        (
            "Hydrocodone Bitartrate and Acetaminophen Tablets USP 10 mg/325 mg",
            {"hydrocodone", "paracetamol"},
        ),
        ("Percocet (oxycodone/APAP) 10/325", {"oxycodone", "paracetamol"}),
        ("Adderall XR 20mg", {"amfetamine", "dexamfetamine"}),
    ],
)
def test_combination_text(query, expected):
    result = recognize(query)
    assert ids(result) == expected
    assert result.matched_as == "combination"
    assert len(result.substances) == len(expected)


def test_combination_with_an_unknown_part_is_not_matched():
    """Never drop an ingredient silently: the whole entry is reported as not recognised."""
    assert isinstance(recognize("oxycodone/unknownium"), NotRecognized)
    assert isinstance(recognize("Tylenol Cold and Flu Severe"), NotRecognized)


def test_match_exposes_classes_and_substances():
    result = recognize("Percocet")
    assert isinstance(result, Match)
    assert {"opioid_agonist", "paracetamol"} <= result.classes
    assert result.matched_name == "Percocet"
    assert [s.name for s in result.substances] == ["Oxycodone", "Paracetamol (acetaminophen)"]


@pytest.mark.parametrize("query", ["", "   ", "\t\n"])
def test_empty_input_is_a_clear_error(query):
    with pytest.raises(InvalidQueryError, match="empty"):
        recognize(query)


def test_overlong_input_is_rejected():
    with pytest.raises(InvalidQueryError, match="too long"):
        recognize("oxycodone " * 100)


def test_non_string_input_is_rejected():
    with pytest.raises(TypeError):
        recognize(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("oxycodne", "Oxycodone"),
        ("lisinoprl", "Lisinopril"),
        ("gabapentinn 300 mg", "Gabapentin"),
        ("Seroqel", "Seroquel"),
    ],
)
def test_unknown_names_get_suggestions_but_no_match(query, suggestion):
    result = recognize(query)
    assert isinstance(result, NotRecognized)
    assert result.query == query
    assert suggestion in result.suggestions
    assert 1 <= len(result.suggestions) <= 3


def test_gibberish_has_no_suggestions():
    result = recognize("zzqxwv")
    assert isinstance(result, NotRecognized)
    assert result.suggestions == ()


def test_fuzzy_similarity_never_matches(kb):
    """One-letter typos that are not listed misspellings are only ever suggestions."""
    checked = 0
    for s in list(kb.substances.values())[::7]:
        typo = s.id[:-1]
        if len(typo) < 5 or normalize_name(typo) in kb._index:
            continue
        assert isinstance(kb.recognize(typo), NotRecognized), typo
        checked += 1
    assert checked > 20


def test_every_listed_name_is_recognized(kb):
    for s in kb.substances.values():
        for name in (s.name, *s.brands, *s.synonyms, *s.misspellings):
            assert ids(kb.recognize(name)) == {s.id}, name
    for combo in kb.combinations:
        for name in (combo.name, *combo.aliases, *combo.misspellings):
            assert ids(kb.recognize(name)) == set(combo.ingredients), name


# ------------------------------------------------------------------- loader checks


def _broken(mutate):
    main, parts = _raw()
    main, parts = copy.deepcopy(main), copy.deepcopy(parts)
    mutate(main, parts)
    return main, parts


def test_build_rejects_undefined_class():
    def mutate(main, parts):
        next(iter(parts.values()))["substances"][0]["classes"].append("no_such_class")

    with pytest.raises(KnowledgeBaseError, match="undefined class 'no_such_class'"):
        build_knowledge(*_broken(mutate))


def test_build_rejects_name_clash():
    def mutate(main, parts):
        next(iter(parts.values()))["substances"][0]["brands"].append("Xanax")

    with pytest.raises(KnowledgeBaseError, match="'Xanax' stands for"):
        build_knowledge(*_broken(mutate))


def test_build_rejects_unknown_combination_ingredient():
    def mutate(main, parts):
        main["combinations"][0]["ingredients"].append("unobtainium")

    with pytest.raises(KnowledgeBaseError, match="unknown ingredient 'unobtainium'"):
        build_knowledge(*_broken(mutate))


def test_build_rejects_schema_violations():
    def mutate(main, parts):
        main["classes"]["nsaid"]["source"]["url"] = "http://insecure.example"

    with pytest.raises(KnowledgeBaseError, match="main file at classes/nsaid/source/url"):
        build_knowledge(*_broken(mutate))

    def mutate_part(main, parts):
        del next(iter(parts.values()))["substances"][0]["brands"]

    with pytest.raises(KnowledgeBaseError, match="'brands' is a required property"):
        build_knowledge(*_broken(mutate_part))


def test_build_rejects_missing_part():
    def mutate(main, parts):
        parts.pop(main["parts"][0])

    with pytest.raises(KnowledgeBaseError, match="is missing"):
        build_knowledge(*_broken(mutate))


def test_build_of_shipped_data_matches_loader(kb):
    rebuilt = build_knowledge(*_raw())
    assert rebuilt.version == kb.version
    assert set(rebuilt.substances) == set(kb.substances)


# -------------------------------------------------------------------------- purity


def test_module_imports_without_django():
    src = str(Path(kratomwatch.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "import sys\n"
        "from kratomwatch.domain import substances\n"
        "assert substances.recognize('Percocet').ids == ('oxycodone', 'paracetamol')\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert sub.__name__ == "kratomwatch.domain.substances"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # RxNorm clinical drug names, as EHRs send them in a MedicationRequest.
        ("fentanyl 25 MCG/HR Transdermal System", {"fentanyl"}),
        ("72 HR fentanyl 0.025 MG/HR Transdermal System", {"fentanyl"}),
        ("7 DAY buprenorphine 0.01 MG/HR Transdermal System", {"buprenorphine"}),
        ("naloxone hydrochloride 4 MG/ACTUAT Nasal Spray", {"naloxone"}),
        ("{Suboxone 8 MG / 2 MG Sublingual Film} Pack", {"buprenorphine", "naloxone"}),
        ("12 HR oxycodone hydrochloride 10 MG Extended Release Oral Tablet", {"oxycodone"}),
        ("methadone hydrochloride 10 MG/ML Oral Solution", {"methadone"}),
        (
            "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet",
            {"oxycodone", "paracetamol"},
        ),
    ],
)
def test_reads_rxnorm_clinical_drug_names(query, expected):
    assert ids(recognize(query)) == expected


def test_rxnorm_words_do_not_make_an_unknown_name_known():
    assert isinstance(recognize("72 HR zzqvorexant 10 MG/HR Transdermal System"), NotRecognized)
