"""Write the irregular verb forms the stemmer cannot join to their verb (a one-off, reproducible
step).

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/build_irregular_verbs.py [--out bot/engine/model/irregular_verbs.json]

The Snowball stemmer joins "leaves" and "leaving" to "leav", but not "left"; "took" stays apart
from "take", "sold" from "sell", "paid" from "pay". So `when did X leave the company` shares no
word with "X left the company in October". This script reads the English lemma table that
ships in the `lemminflect` package (MIT) and keeps each lower-case word whose verb lemma the
stemmer does not reach: neither stem is a prefix of the other ("left" → "leave" is kept,
"programming" → "programme" is not), and the word is no verb of its own ("found" may be
"to found", so it stays). Answering reads the JSON; lemminflect is not needed at run time.

Deterministic: same package version, same file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import Stemmer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bot" / "engine" / "model" / "irregular_verbs.json"


def irregular_forms() -> dict[str, str]:
    from lemminflect.core.Lemmatizer import Lemmatizer

    stemmer = Stemmer.Stemmer("english")
    table = Lemmatizer()._getLemmaDict()  # word -> {upos: lemmas}
    verbs = {lemma for entry in table.values() for lemma in entry.get("VERB", ())}
    out: dict[str, str] = {}
    for word, entry in table.items():
        lemmas = entry.get("VERB")
        if not (word.isalpha() and word.islower() and lemmas and lemmas[0].isalpha()):
            continue
        lemma = lemmas[0]
        a, b = stemmer.stemWord(word), stemmer.stemWord(lemma)
        if word in verbs or a.startswith(b) or b.startswith(a):
            continue
        out[word] = lemma
    return dict(sorted(out.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    import lemminflect

    forms = irregular_forms()
    data = {"source": f"lemminflect {lemminflect.__version__}", "forms": forms}
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(forms)} irregular forms -> {args.out}")


if __name__ == "__main__":
    main()
