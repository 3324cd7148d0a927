"""KV caches of prompt prefixes, kept between turns so the LLM only prefills what is new.

Each entry is the KV cache of one token sequence for one model variant (the adapter on or
off). A prompt reuses the longest entry that is a strict prefix of its tokens: the KV of a
position depends only on the tokens up to it, so that reuse is exact. Entries marked
``pinned`` (the persona prompt, built at start-up) are never evicted; the others are kept
in least-recently-used order, and an entry that a longer one extends is dropped (the
conversation moved on). Not thread-safe: the LLM calls it under its own lock.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Hashable, Sequence

Key = tuple[Hashable, tuple[int, ...]]


class PrefixCaches:
    def __init__(self, max_entries: int = 8):
        self.max_entries = max_entries  # unpinned entries; each is ~23 kB per token for SmolLM2-135M in bf16
        self._entries: OrderedDict[Key, object] = OrderedDict()
        self._pinned: set[Key] = set()

    def __len__(self) -> int:
        return len(self._entries)

    def longest(self, variant: Hashable, ids: Sequence[int], strict: bool = True) -> tuple[int, object | None]:
        """(length, cache) of the longest entry for ``variant`` whose tokens begin ``ids``;
        ``strict`` leaves at least one token of ``ids`` to compute (generation needs its
        logits). The cache is the stored object: copy it before extending it."""
        best: Key | None = None
        limit = len(ids) - 1 if strict else len(ids)
        for key in self._entries:
            v, toks = key
            n = len(toks)
            if v == variant and n <= limit and (best is None or n > len(best[1])) and tuple(ids[:n]) == toks:
                best = key
        if best is None:
            return 0, None
        self._entries.move_to_end(best)
        return len(best[1]), self._entries[best]

    def copy_of_longest(self, variant: Hashable, ids: Sequence[int]) -> tuple[int, object | None]:
        """Like ``longest`` (strict), but a deep copy that the caller may extend."""
        n, cache = self.longest(variant, ids)
        return n, (copy.deepcopy(cache) if cache is not None else None)

    def store(self, variant: Hashable, ids: Sequence[int], cache, pinned: bool = False) -> None:
        key = (variant, tuple(ids))
        self._entries[key] = cache
        self._entries.move_to_end(key)
        if pinned:
            self._pinned.add(key)
        for old in list(self._entries):  # shorter entries this one extends are no longer needed
            if (old != key and old not in self._pinned and old[0] == variant and len(old[1]) < len(key[1])
                    and key[1][:len(old[1])] == old[1]):
                del self._entries[old]
        unpinned = [k for k in self._entries if k not in self._pinned]
        for old in unpinned[:max(0, len(unpinned) - self.max_entries)]:
            del self._entries[old]
