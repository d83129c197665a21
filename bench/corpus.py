"""Generate a synthetic news corpus for benchmarks: deterministic, varied names and words."""

from __future__ import annotations

import random
from pathlib import Path

FIRST = ["Anna", "Boris", "Carla", "David", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
         "Kira", "Luis", "Mona", "Nikolai", "Olga", "Pavel", "Rosa", "Sven", "Tariq", "Ulla"]
LAST = ["Adler", "Brandt", "Costa", "Dvorak", "Eriksen", "Fischer", "Gruber", "Haas", "Ivanov",
        "Jansen", "Kowalski", "Lindgren", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi",
        "Schmidt", "Tanaka", "Ueda", "Vogel", "Weber", "Young", "Zimmer"]
ROLES = ["an economist at the University of {p}", "the minister of {w}", "a historian at the {p} "
         "Institute", "the head of the {w} agency", "a researcher at {p} University"]
PLACES = ["Berlin", "Vienna", "Madrid", "Oslo", "Warsaw", "Lisbon", "Prague", "Athens", "Dublin",
          "Helsinki", "Riga", "Sofia", "Zagreb", "Tallinn", "Vilnius"]
SYLL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "dra", "pel", "tor", "qua", "bri"]


def vocabulary(rng: random.Random, n: int = 6000) -> list[str]:
    return ["".join(rng.choice(SYLL) for _ in range(rng.randint(2, 4))) for _ in range(n)]


def article(rng: random.Random, vocab: list[str], i: int) -> str:
    def words(k: int) -> str:
        return " ".join(rng.choice(vocab) for _ in range(k))

    people = [(rng.choice(FIRST), f"{rng.choice(LAST)}{i % 97}") for _ in range(3)]
    place = rng.choice(PLACES)
    paras = [f"From: {rng.choice(FIRST)} {rng.choice(LAST)}",
             f"The {words(2)} talks in {place} could stall over {words(3)}"]
    for first, last in people:
        role = rng.choice(ROLES).format(p=rng.choice(PLACES), w=rng.choice(vocab))
        paras.append(
            f"{first} {last}, {role}, said the {words(3)} plan was {words(4)}. "
            f"“The {words(2)} will not {words(3)} before {rng.choice(['May', 'June', 'autumn'])},” "
            f"{last} told reporters. The {words(5)} could face problems with {words(3)}.")
        paras.append(f"According to {last}, the {words(6)} in {place} is {words(5)}. "
                     f"Officials expect {rng.randint(2, 900)} {words(2)} by {2020 + i % 9}.")
    paras.append(f"Why the {words(2)} matters")
    paras.append(f"Critics in {place} doubt that the {words(4)} can be {words(3)}. "
                 f"It remains unclear whether {words(5)}.")
    return "\n\n".join(paras) + "\n"


def generate(folder: Path, n: int, seed: int = 7) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.txt"))) == n:
        return folder
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    for i in range(n):
        (folder / f"article-{i:05d}.txt").write_text(article(rng, vocab, i), encoding="utf-8")
    return folder
