"""Cut a streamed reply into speakable pieces as soon as a sentence or clause ends,
so the first piece can be synthesised while the LLM is still writing the rest.

Rules: a sentence ends at . ! ? followed by a space, except after a known abbreviation
("Dr.", "e.g."), an initial ("U.S.") or a list number at the start of a line; a decimal
point ("3.5") is never an end, because no space follows it. A line break ends a piece
(list items, headings). A clause (, ; : or a dash) ends a piece only when the piece
already has enough words: few for the first piece (the sooner the first audio, the
better), more afterwards (fewer, more natural pieces). Text without punctuation is cut
at a word boundary once it reaches ``max_words``. The first piece is also cut when its
sentence runs past ``first_max_words`` without a clause break: before a joining word
("that", "and", "to" ...) if one comes after the third word, else after
``first_max_words`` words, so a long first sentence does not hold back the first audio.
A word counts only once the space after it has arrived, so the pieces do not depend
on how the text is streamed.
"""

from __future__ import annotations

import re

ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "approx",
                           "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
                           "a.m", "p.m", "mt", "jr", "sr"})
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?=\s)")
BREAK_WORDS = frozenset({"and", "but", "or", "so", "because", "that", "which", "who", "when", "while", "if",
                         "to", "for", "with", "like", "about", "before", "after", "until", "since", "than",
                         "as", "at", "in", "on", "of", "by", "from", "into"})
_CLAUSE_END = re.compile(r"(?:[,;:]|\s[-–—])(?=\s)")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` closes an abbreviation, an initial or a list number
    at the start of a line ("2. Then rest"), not a sentence."""
    if text[dot] != ".":
        return False
    line = text[text.rfind("\n", 0, dot) + 1:dot]
    if line.strip().isdigit():
        return True
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[:dot])
    if not word:
        return False
    w = word.group(1).lower()
    return w in ABBREVIATIONS or "." in w or len(w) == 1  # dotted ("U.S", "e.g") or an initial ("J")


class SpeechChunker:
    """Feed text as it streams; take pieces as they complete; ``flush`` at the end."""

    def __init__(self, first_min_words: int = 2, min_words: int = 6, max_words: int = 25,
                 first_max_words: int | None = 6):
        self.first_min_words = first_min_words
        self.first_max_words = first_max_words
        self.min_words = min_words
        self.max_words = max_words
        self._buf = ""
        self._emitted = 0

    def _min(self) -> int:
        return self.first_min_words if self._emitted == 0 else self.min_words

    def _cut(self, end: int) -> str:
        piece, self._buf = self._buf[:end].strip(), self._buf[end:].lstrip()
        self._emitted += 1
        return piece

    def _next_piece(self) -> str | None:
        # The earliest boundary that qualifies wins. Each decision depends only on the text
        # before the boundary (and the space after it), so the pieces are the same however
        # the text arrives.
        bounds = [(m.end(), "sentence") for m in _SENTENCE_END.finditer(self._buf)
                  if not _is_abbreviation(self._buf, m.start())]
        bounds += [(m.end(), "clause") for m in _CLAUSE_END.finditer(self._buf)]
        bounds += [(m.end(), "line") for m in re.finditer(r"\S[^\S\n]*\n", self._buf)]  # a line break
        first_limit = self.first_max_words + 1 if self._emitted == 0 and self.first_max_words else None
        for end, kind in sorted(bounds):
            n_words = len(self._buf[:end].split())
            if first_limit and n_words > first_limit:
                break  # the first piece is cut by its length first (below)
            if kind != "clause" or n_words >= self._min():
                return self._cut(end)
        if self._emitted == 0 and self.first_max_words:
            n = self.first_max_words
            head = re.match(r"\s*(?:\S+\s+){%d}" % (n + 1), self._buf)  # n + 1 complete words
            if head:
                words = head.group(0).split()
                size = next((k for k in range(n, 2, -1) if words[k].lower() in BREAK_WORDS), n)
                return self._cut(len(re.match(r"\s*(?:\S+\s+){%d}" % size, self._buf).group(0)))
        words = self._buf.split()
        if len(words) > self.max_words:  # no usable punctuation: cut at a word boundary
            end = len(re.match(r"\s*(?:\S+\s+){%d}" % self.max_words, self._buf).group(0))
            return self._cut(end)
        return None

    def feed(self, text: str) -> list[str]:
        """Add streamed ``text``; return the pieces it completed, in order."""
        self._buf += text
        pieces = []
        while (piece := self._next_piece()) is not None:
            if piece:
                pieces.append(piece)
        return pieces

    def flush(self) -> list[str]:
        """The rest of the text, once the stream has ended."""
        rest = self._buf.strip()
        self._buf = ""
        if rest:
            self._emitted += 1
            return [rest]
        return []


def ends_sentence(piece: str) -> bool:
    """Whether a reply piece ends a sentence (its last character closes one)."""
    return bool(piece) and piece[-1] in ".!?\"')"


def chunk_text(text: str, **kw) -> list[str]:
    """All pieces of a finished text (what streaming would have produced)."""
    c = SpeechChunker(**kw)
    return c.feed(text) + c.flush()
