"""The development helpers' pure parts."""

from claritymentor.devtools.browser import segments_from_levels


def test_level_readings_become_utterances_and_a_hole_inside_one_is_joined():
    quiet, loud = 0.0, 0.2
    levels = ([(t, loud) for t in range(0, 1000, 10)] + [(1000, quiet)]
              + [(t, loud) for t in range(1700, 2500, 10)]  # a 700 ms hole: a busy page, not a new question
              + [(t, loud) for t in range(6000, 7000, 10)])
    assert len(segments_from_levels(levels)) == 3
    assert segments_from_levels(levels, count=2) == [(0, 2490), (6000, 6990)]
