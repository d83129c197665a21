"""People, roles, acronyms and organisations on small invented articles (issue #11).

Each test writes its own seeds folder, so what is checked is the extractor's general rules,
not anything about the shipped articles.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from bot.engine.extract import Entity, quote_open_after
from bot.engine.index import KnowledgeIndex, build_index


def build(folder: Path, **articles: str) -> KnowledgeIndex:
    """Write each article as `<name>.txt` (names sort in the order given) and index them."""
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    options = {"semantic": "off"} if "semantic" in inspect.signature(build_index).parameters \
        else {}
    return build_index(folder, **options)


def person(ix: KnowledgeIndex, name: str) -> Entity:
    matches = [e for e in ix.people() if e.name == name]
    assert matches, f"{name} not among {ix.people_names()}"
    return matches[0]


def speaker(ix: KnowledgeIndex, text: str) -> str | None:
    """The person a sentence is attributed to (None when it is nobody's)."""
    idx = next(s.idx for s in ix.sentences if s.text == text)
    attribution = ix.extraction.attributions.get(idx)
    return attribution.person if attribution else None


def key_of(ix: KnowledgeIndex, name: str) -> str:
    return person(ix, name).key


# -- 1. a role belongs to the name it stands next to ---------------------------------------

def test_title_inside_another_names_apposition_stays_with_that_name(tmp_path: Path) -> None:
    said = "Senator Jane Roe, speaking next to Governor John Doe, said the bill would pass."
    ix = build(tmp_path, vote=f"# Senate vote\n\n{said}\n")
    assert person(ix, "Jane Roe").role == "Senator"
    assert person(ix, "John Doe").role == "Governor"
    assert speaker(ix, said) == key_of(ix, "Jane Roe")


def test_two_appositions_in_one_sentence(tmp_path: Path) -> None:
    ix = build(tmp_path, talks=(
        "# Water talks\n\n"
        "John Doe, the governor of Ohio, met Jane Roe, a senator from Iowa, on Tuesday.\n\n"
        "Mark Fox, who sat beside President Linda Hart at the dinner, said little was agreed.\n"
    ))
    assert person(ix, "John Doe").role == "the governor of Ohio"
    assert person(ix, "Jane Roe").role == "a senator from Iowa"
    assert person(ix, "Linda Hart").role == "President"
    assert person(ix, "Mark Fox").role is None


def test_possessive_name_inside_an_apposition_keeps_the_role(tmp_path: Path) -> None:
    said = "Jane Roe, Governor John Doe's chief of staff, said the budget was late."
    ix = build(tmp_path, budget=f"# Budget\n\n{said}\n")
    assert person(ix, "Jane Roe").role == "Governor John Doe's chief of staff"
    assert person(ix, "John Doe").role == "Governor"
    assert speaker(ix, said) == key_of(ix, "Jane Roe")


# -- 2. "the mayor of X" finds X's mayor -----------------------------------------------------

RIVERTON = (
    "# Riverton flood\n\n"
    "Karen Smith, the mayor of Riverton, said the river had crested. "
    "“The worst is behind us,” she said.\n\n"
    "The mayor said repairs would take a year.\n"
)


def test_title_and_place_pick_the_right_mayor(tmp_path: Path) -> None:
    ix = build(tmp_path, a_riverton=RIVERTON, b_springfield=(
        "# Springfield budget\n\n"
        "Maria Lopez, the mayor of Springfield, said the budget was balanced.\n"
    ))
    smith = person(ix, "Karen Smith")
    assert "mayor" not in smith.descriptions  # "the mayor" repeats her role, adds nothing
    assert ix.who("the mayor of Springfield").title == "Maria Lopez"
    assert ix.answer("who is the mayor of Springfield").title == "Maria Lopez"
    assert ix.answer("who is the mayor of Riverton").title == "Karen Smith"


def test_place_after_a_titled_name_joins_the_role(tmp_path: Path) -> None:
    ix = build(tmp_path, a_riverton=RIVERTON, b_springfield=(
        "# Springfield budget\n\n"
        "Mayor Tom Baker of Springfield said the budget was balanced.\n"
    ))
    assert person(ix, "Tom Baker").role == "Mayor of Springfield"
    assert ix.answer("who is the mayor of Springfield").title == "Tom Baker"


# -- 3. acronyms and their expansions are one entity ----------------------------------------

def test_defined_acronym_and_expansion_meet(tmp_path: Path) -> None:
    ix = build(tmp_path, trade=(
        "# Trade pact\n\n"
        "The European Union (EU) and Japan signed a trade pact on Monday. "
        "Officials from the EU said tariffs would fall.\n\n"
        "The Bureau of Maritime Inspection (BMI) will check the ports.\n"
    ))
    aliases = ix.extraction.alias_index
    assert aliases["eu"] == aliases["european union"]
    eu = ix.entities[aliases["eu"]]
    assert eu.kind == "org" and {"EU", "European Union"} <= eu.aliases
    assert len(eu.mentions) == 2
    assert aliases["bmi"] == aliases["bureau of maritime inspection"]
    assert not [e for e in ix.entities.values() if e.name == "EU" and e.key != eu.key]


def test_initials_of_a_known_name_are_that_name(tmp_path: Path) -> None:
    ix = build(tmp_path, loans=(
        "# Loans\n\n"
        "The International Monetary Fund said it would lend more. "
        "The IMF gave no figure.\n"
    ))
    aliases = ix.extraction.alias_index
    assert aliases["imf"] == aliases["international monetary fund"]
    assert ix.entities[aliases["imf"]].name == "International Monetary Fund"


# -- 4. a lone organisation word is not an organisation ---------------------------------------

def test_lone_organisation_words_are_not_entities(tmp_path: Path) -> None:
    ix = build(tmp_path, funding=(
        "# Funding\n\n"
        "The University said it would appeal. A spokesman for the Ministry declined to "
        "comment. The Institute has not responded.\n\n"
        "Researchers at the University of Vienna were surprised. The Ministry of Health said "
        "the rules were clear.\n\n"
        "The Kremlin said it had no view.\n"
    ))
    kinds = {e.name: e.kind for e in ix.entities.values()}
    assert not {"University", "Ministry", "Institute", "The University"} & set(kinds)
    assert kinds["University of Vienna"] == "org"
    assert kinds["Ministry of Health"] == "org"
    assert kinds["Vienna"] == "place"  # still a place named in that sentence
    assert kinds["Kremlin"] == "org"  # one word that does name one institution
    assert "Health" not in ix.people_names()


# -- 5. two people who share a surname stay two --------------------------------------------

def test_shared_surname_means_the_one_named_last(tmp_path: Path) -> None:
    proud = "Weber said he was proud of his sister."
    ix = build(tmp_path, prize=(
        "# Prize\n\n"
        "Anna Weber, a doctor at the local hospital, won the prize. "
        "Her brother Paul Weber, a lawyer, attended the ceremony.\n\n"
        f"{proud}\n"
    ))
    anna, paul = person(ix, "Anna Weber"), person(ix, "Paul Weber")
    assert anna.key != paul.key
    assert (anna.role, paul.role) == ("a doctor at the local hospital", "a lawyer")
    idx = next(s.idx for s in ix.sentences if s.text == proud)
    assert speaker(ix, proud) == paul.key
    assert idx not in anna.mentions and idx not in anna.quotes


def test_shared_surname_in_two_articles(tmp_path: Path) -> None:
    ix = build(tmp_path, a_chess=(
        "# Chess\n\n"
        "Anna Weber, a lawyer from Bonn, won the chess final.\n\n"
        "Weber said the last game was the hardest.\n"
    ), b_fire=(
        "# Fire\n\n"
        "Paul Weber, a firefighter, rescued two children.\n\n"
        "Weber said the smoke was thick.\n"
    ))
    anna, paul = person(ix, "Anna Weber"), person(ix, "Paul Weber")
    assert speaker(ix, "Weber said the last game was the hardest.") == anna.key
    assert speaker(ix, "Weber said the smoke was thick.") == paul.key
    assert not set(anna.quotes) & set(paul.quotes)


def test_similar_given_names_of_the_other_sex_stay_two(tmp_path: Path) -> None:
    ix = build(tmp_path, twins=(
        "# Twins\n\n"
        "Maria Rossi, a teacher, said the school would reopen. "
        "Mario Rossi, a doctor, said the clinic would not.\n"
    ))
    assert person(ix, "Maria Rossi").key != person(ix, "Mario Rossi").key
    assert person(ix, "Mario Rossi").role == "a doctor"


# -- 6. a place inside a role phrase is not a person ----------------------------------------

def test_place_in_a_role_phrase_is_not_a_person(tmp_path: Path) -> None:
    ix = build(tmp_path, a_riverton=RIVERTON, b_port=(
        "# Port\n\n"
        "Dan Ortiz, the harbour master of Port Ellison, said ships were waiting.\n"
    ))
    names = set(ix.people_names())
    assert not {"Riverton", "Port Ellison"} & names
    smith = person(ix, "Karen Smith").key
    assert speaker(ix, "Karen Smith, the mayor of Riverton, said the river had crested.") == smith
    assert speaker(ix, "“The worst is behind us,” she said.") == smith
    assert ix.extraction.alias_index.get("riverton", "").startswith("person:") is False


def test_a_title_with_initials_stays_a_title_before_the_speaker(tmp_path: Path) -> None:
    ix = build(tmp_path, a="Court\n\nThe jury deliberated for an hour. \"Justice was served "
               "today,\" said U.S. Attorney Dana Pell.\n")
    assert "U.S" not in ix.people_names()
    assert person(ix, "Dana Pell").role == "U.S. Attorney"
    assert speaker(ix, "\"Justice was served today,\" said U.S. Attorney Dana Pell.") \
        == key_of(ix, "Dana Pell")


def test_a_quotation_of_several_sentences_is_its_closing_speakers(tmp_path: Path) -> None:
    ix = build(tmp_path, a="Budget\n\nThe council met on Monday. \u201cThe budget is tight. "
               "We will cut the parks fund first. Nobody wants that,\u201d said mayor Ann "
               "Olsen. The vote is next week.\n\nA later paragraph. \u201cIt opens here. "
               "And closes here.\u201d Then the reporter goes on.\n")
    olsen = key_of(ix, "Ann Olsen")
    for text in ("\u201cThe budget is tight.", "We will cut the parks fund first.",
                 "Nobody wants that,\u201d said mayor Ann Olsen."):
        assert speaker(ix, text) == olsen, text
        idx = next(s.idx for s in ix.sentences if s.text == text)
        assert ix.extraction.attributions[idx].direct
    assert speaker(ix, "The council met on Monday.") is None
    assert speaker(ix, "The vote is next week.") is None
    assert speaker(ix, "And closes here.\u201d") is None  # nobody is named: nobody's


def test_a_role_stated_outright_or_ending_an_apposition_is_the_role(tmp_path: Path) -> None:
    ix = build(tmp_path, a="Ads\n\nThe campaign drew mockery, but Mia Holt was worried. Holt is "
               "the CEO of Brightline, the Spokane agency behind another campaign. Somebody "
               "from the general public might laugh, said Tom Reyes, Oregon State Department "
               "of Health information officer, on Monday.\n")
    assert person(ix, "Mia Holt").role == "the CEO of Brightline"
    assert person(ix, "Tom Reyes").role == "Oregon State Department of Health information officer"


def test_a_role_word_modifying_another_noun_describes_nobody(tmp_path: Path) -> None:
    ix = build(tmp_path, a="Ads\n\nAnn Olsen designed the posters. The general public did "
               "not like them. The chief executive said the posters stay.\n")
    olsen = person(ix, "Ann Olsen")
    assert olsen.role != "general" and "general" not in olsen.descriptions
    assert "chief executive" in olsen.descriptions or olsen.role == "chief executive"


@pytest.mark.parametrize(("text", "was_open", "still_open"), [
    ("No quotation here.", False, False), ("No quotation here.", True, True),
    ("\u201cThe budget is tight.", False, True), ("Nobody wants it,\u201d she said.", True, False),
    ("\u201cIt works,\u201d he said.", False, False), ('"It opens.', False, True),
    ('It closes." Then more.', True, False), ('"Both," he said.', False, False),
    ('\u201cCurly\u201d and then "straight', False, True), ("Still \u201copen", True, True),
])
def test_a_quotation_is_open_after_a_sentence_when_its_last_mark_opens_it(
        text: str, was_open: bool, still_open: bool) -> None:
    assert quote_open_after(text, was_open) is still_open


def test_a_given_name_before_an_acronym_is_a_model_not_a_person(tmp_path: Path) -> None:
    ix = build(tmp_path, a="Cars\n\nThe show opened on Monday. Visitors liked the new Lexus LC "
               "500 most, and Jo Lee of Birch Motors liked it too. Struan WA Wilkie wrote the "
               "review.\n")
    names = ix.people_names()
    assert "Lexus LC" not in names
    assert "Struan WA Wilkie" in names


def test_a_name_a_police_force_is_named_after_is_a_place(tmp_path: Path) -> None:
    """gender-guesser knows "Forest" as a given name; "Forest Hill police" says it is a town."""
    ix = build(tmp_path, a="Rescue\n\nA tip led Forest Hill police officers to the motel. He "
               "drove to Forest Hill's only motel. Ann Olsen, the mayor, thanked the officers. "
               "Dana Hill said the town was relieved.\n")
    names = ix.people_names()
    assert "Forest Hill" not in names
    assert {"Ann Olsen", "Dana Hill"} <= set(names)
