"""Prefix KV caches: longest strict prefix, pinned entries, superseded and LRU eviction."""

from claritymentor.prefix_cache import PrefixCaches


def test_the_longest_stored_prefix_is_found_and_leaves_a_token_to_compute():
    caches = PrefixCaches()
    caches.store("v", [1, 2], "short")
    caches.store("other", [1, 2, 3, 4], "other variant")
    assert caches.longest("v", [1, 2, 3, 4, 5]) == (2, "short")
    caches.store("v", [1, 3], "diverges")
    assert caches.longest("v", [1, 2, 3, 4, 5]) == (2, "short") and caches.longest("v", [1, 3, 3]) == (2, "diverges")
    assert caches.longest("v", [1, 2]) == (0, None)  # the whole prompt: nothing left for the logits
    assert caches.longest("v", [1, 2], strict=False) == (2, "short")
    assert caches.longest("v", [7, 1, 2]) == (0, None)


def test_a_longer_entry_replaces_the_ones_it_extends_but_not_pinned_ones():
    caches = PrefixCaches()
    caches.store("v", [1], "persona", pinned=True)
    caches.store("v", [1, 2], "turn 1")
    caches.store("v", [1, 2, 3], "turn 2")
    assert len(caches) == 2
    assert caches.longest("v", [1, 2, 3, 4]) == (3, "turn 2")
    assert caches.longest("v", [1, 5]) == (1, "persona")


def test_least_recently_used_entries_go_first_and_pinned_ones_stay():
    caches = PrefixCaches(max_entries=2)
    caches.store("v", [0], "persona", pinned=True)
    caches.store("v", [1, 1], "a")
    caches.store("v", [2, 2], "b")
    caches.longest("v", [1, 1, 5])  # a is used again
    caches.store("v", [3, 3], "c")
    assert len(caches) == 3
    assert caches.longest("v", [2, 2, 5]) == (0, None)
    assert caches.longest("v", [1, 1, 5]) == (2, "a") and caches.longest("v", [0, 5]) == (1, "persona")


def test_a_copy_can_be_extended_without_touching_the_stored_cache():
    caches = PrefixCaches()
    caches.store("v", [1, 2], ["k"])
    n, cache = caches.copy_of_longest("v", [1, 2, 3])
    cache.append("more")
    assert n == 2 and caches.longest("v", [1, 2, 3]) == (2, ["k"])
