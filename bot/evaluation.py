"""`briefbot eval`: score a question file with the shared scoring rule, by kind.

The rule is loaded from `score_rules.py` beside the question file when there is one (the
shared eval folder keeps it), so the score here is the score the judges compute.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.context import AppContext
from bot.errors import UserFacingError
from bot.models import Answer
from handlers import CommandRequest, dispatch

Rule = Callable[[dict[str, Any], str, bool], bool]


def _builtin_rule(q: dict[str, Any], text: str, abstained: bool) -> bool:
    from bot.engine.text import fold

    if q["kind"] == "abstain":
        return abstained
    if abstained or len(text) > 1000:
        return False
    t = fold(text)
    return all(any(fold(alt) in t for alt in group) for group in q["must_include_any"])


def load_rule(question_file: Path) -> Rule:
    rules = question_file.parent / "score_rules.py"
    if rules.exists():
        spec = importlib.util.spec_from_file_location("briefbot_score_rules", rules)
        if spec and spec.loader:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.is_correct  # type: ignore[no-any-return]
    return _builtin_rule


@dataclass
class EvalReport:
    by_kind: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    failures: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def all_passed(self) -> bool:
        return not self.failures

    def render(self) -> str:
        lines = [*self.details]
        total = sum(len(v) for v in self.by_kind.values())
        passed = sum(sum(v) for v in self.by_kind.values())
        for kind in sorted(self.by_kind):
            results = self.by_kind[kind]
            lines.append(f"{kind:<10} {sum(results)}/{len(results)}")
        lines += [f"failed: {f}" for f in self.failures]
        lines.append(f"total      {passed}/{total} ({100 * passed / max(1, total):.0f}%)")
        return "\n".join(lines)


def run_eval(path: Path, ctx: AppContext, verbose: bool = False) -> EvalReport:
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UserFacingError(f"Cannot read the question file {path}: {exc}") from None
    rule = load_rule(path)
    report = EvalReport()

    async def ask_all() -> None:
        for q in questions:
            result = await dispatch(CommandRequest(command="ask", text=q["question"]), ctx)
            text = result.text if isinstance(result, Answer) else ""
            abstained = result.abstained if isinstance(result, Answer) else True
            ok = bool(rule(q, text, abstained))
            report.by_kind[q.get("kind", "?")].append(ok)
            if not ok:
                report.failures.append(f"{q.get('id', q['question'])}: {q['question']}")
            if verbose:
                report.details.append(f"{'PASS' if ok else 'FAIL'} {q['question']}\n  "
                                      + text.replace("\n", "\n  "))

    asyncio.run(ask_all())
    return report
