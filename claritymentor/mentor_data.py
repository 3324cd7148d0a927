"""The mentor dialogue dataset in ``data/mentor/dialogues_<emotion>.txt``.

Format: each example starts with ``## <emotion> | <topic>`` (``| multi`` may follow),
then alternating ``U:`` (the person) and ``A:`` (the mentor) lines, starting with U
and ending with A. The held-out split is fixed by a hash of the first user line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from claritymentor.config import EMOTIONS, ROOT

DATA_DIR = ROOT / "data" / "mentor"
HELD_OUT_EVERY = 5


@dataclass(frozen=True)
class Dialogue:
    emotion: str
    topic: str
    turns: tuple[tuple[str, str], ...]  # (role, text), role "user" or "assistant"
    source: str

    @property
    def person_lines(self) -> tuple[str, ...]:
        """What the person says, in order: the opening, then the follow-ups."""
        return tuple(text for role, text in self.turns if role == "user")

    @property
    def exchanges(self) -> tuple[tuple[str, str], ...]:
        """(person, mentor) pairs in order, as a conversation's history holds them (turns
        alternate user / assistant: ``parse`` checks)."""
        t = self.turns
        return tuple((t[j][1], t[j + 1][1]) for j in range(0, len(t) - 1, 2))

    @property
    def held_out(self) -> bool:
        first = self.turns[0][1].strip().lower().encode("utf-8")
        return int(hashlib.sha1(first).hexdigest(), 16) % HELD_OUT_EVERY == 0


def parse(text: str, source: str) -> list[Dialogue]:
    out: list[Dialogue] = []
    header: tuple[str, str] | None = None
    turns: list[tuple[str, str]] = []
    where = ""

    def close() -> None:
        if header is None:
            return
        roles = [r for r, _ in turns]
        if not turns or roles[0] != "user" or roles[-1] != "assistant" or any(
                a == b for a, b in zip(roles, roles[1:])):
            raise ValueError(f"{where}: turns must alternate U/A, starting with U and ending with A")
        out.append(Dialogue(header[0], header[1], tuple(turns), where))

    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("## "):
            close()
            parts = [p.strip() for p in line[3:].split("|")]
            where = f"{source}:{n}"
            if parts[0] not in EMOTIONS:
                raise ValueError(f"{where}: unknown emotion {parts[0]!r}; use one of {list(EMOTIONS)}")
            header, turns = (parts[0], parts[1] if len(parts) > 1 else ""), []
        elif line[:2] in ("U:", "A:") and header is not None:
            turns.append(("user" if line[0] == "U" else "assistant", line[2:].strip()))
        else:
            raise ValueError(f"{source}:{n}: expected '## emotion | topic', 'U:' or 'A:', got {line[:40]!r}")
    close()
    return out


def load_dialogues(data_dir: Path = DATA_DIR) -> list[Dialogue]:
    dialogues: list[Dialogue] = []
    for path in sorted(data_dir.glob("dialogues_*.txt")):
        dialogues.extend(parse(path.read_text(encoding="utf-8"), path.name))
    seen: dict[str, str] = {}
    for d in dialogues:
        key = d.turns[0][1].lower()
        if key in seen:
            raise ValueError(f"duplicate opening line in {d.source} and {seen[key]}")
        seen[key] = d.source
    return dialogues


def split(dialogues: list[Dialogue]) -> tuple[list[Dialogue], list[Dialogue]]:
    return [d for d in dialogues if not d.held_out], [d for d in dialogues if d.held_out]
