"""Render handler results as plain text for the terminal."""

from __future__ import annotations

from bot.models import Answer, Briefing, Citation, Notice, Result, UserError


def cite(c: Citation) -> str:
    return f"{c.document}, ¶{c.paragraph}"


def render_text(result: Result) -> str:
    if isinstance(result, Answer):
        lines = [f"# {result.title}"] if result.title else []
        lines.append(result.text)
        if result.citations:
            lines.append("")
            lines.append("Sources:")
            lines += [f"  [{i}] {cite(c)}" for i, c in enumerate(result.citations, 1)]
        return "\n".join(lines)
    if isinstance(result, Briefing):
        lines = [result.title, ""]
        for section in result.sections:
            lines.append(f"## {section.heading}")
            lines += [f"- {line}" for line in section.lines]
            lines.append("")
        if result.citations:
            lines.append("Sources:")
            lines += [f"  [{i}] {cite(c)}" for i, c in enumerate(result.citations, 1)]
        return "\n".join(lines).rstrip()
    if isinstance(result, Notice):
        head = [result.title] if result.title else []
        return "\n".join([*head, result.text, *[f"  {line}" for line in result.lines]])
    if isinstance(result, UserError):
        return result.message + (f"\n{result.hint}" if result.hint else "")
    raise TypeError(f"cannot render {type(result).__name__}")


def render_turn(asked: str, result: Result, width: int) -> str:
    """One turn of a terminal conversation after its question: how a follow-up was
    understood (when it was rewritten, "what did he say?" → "what did Fyodor Tertitskiy
    say?"), the reply, and a rule before the next question."""
    lines = []
    if isinstance(result, Answer) and asked and result.question != asked:
        lines.append(f"(read as: {result.question})")
    lines += [render_text(result), "─" * max(width, 10)]
    return "\n".join(lines)
