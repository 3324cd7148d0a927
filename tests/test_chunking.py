"""Sentence/clause chunking of a streamed reply."""

import pytest

from claritymentor.chunking import SpeechChunker, chunk_text


def stream(text, step=3, **kw):
    """Feed ``text`` a few characters at a time, as an LLM stream would."""
    c = SpeechChunker(**kw)
    out = []
    for i in range(0, len(text), step):
        out += c.feed(text[i:i + step])
    return out + c.flush()


def test_sentences_come_out_in_order_and_whole():
    text = "That sounds hard. Try one small step tonight! What would help most?"
    assert stream(text) == ["That sounds hard.", "Try one small step tonight!", "What would help most?"]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Ask Dr. Patel, e.g. after class. The U.S. office opens at 9 a.m. tomorrow. Then rest."
    assert stream(text, min_words=20, first_min_words=20) == [
        "Ask Dr. Patel, e.g. after class.", "The U.S. office opens at 9 a.m. tomorrow.", "Then rest."]


def test_decimals_are_not_sentence_ends():
    assert stream("Your grade went from 2.5 to 3.75 this term. Well done.", first_max_words=None) == [
        "Your grade went from 2.5 to 3.75 this term.", "Well done."]


def test_first_piece_is_cut_early_at_a_clause():
    pieces = stream("I hear you, and it makes sense that you feel stretched right now. Rest tonight.")
    assert pieces[0] == "I hear you,"
    assert " ".join(pieces) == "I hear you, and it makes sense that you feel stretched right now. Rest tonight."


@pytest.mark.parametrize("step", [1, 4, 100])
def test_a_long_first_sentence_is_cut_before_a_joining_word(step):
    text = "Write down three things that make you happy at work this week, like a kind word. Then rest."
    assert stream(text, step) == ["Write down three things", "that make you happy at work this week,",
                                  "like a kind word.", "Then rest."]
    # no joining word within the first six: cut after six words; a clause break inside them wins
    assert stream("Please breathe slowly now, counting four beats each time.", step)[0] == "Please breathe slowly now,"
    assert stream("Please breathe slowly now counting four beats each time.", step)[0] == \
        "Please breathe slowly now counting four"
    assert stream("Your grade went from 2.5 to 3.75 this term.", step)[0] == "Your grade went from 2.5"


def test_later_clauses_need_more_words():
    pieces = stream("Okay. First, breathe, then list the tasks, and pick the smallest one to start with today.")
    assert pieces[0] == "Okay."
    assert "First," not in pieces  # too short to stand alone after the first piece


def test_no_punctuation_is_cut_at_word_boundaries():
    words = [f"w{i}" for i in range(60)]
    pieces = stream(" ".join(words), max_words=25, first_max_words=None)
    assert [len(p.split()) for p in pieces] == [25, 25, 10]
    assert " ".join(pieces).split() == words


def test_one_very_long_sentence_is_split_without_losing_words():
    text = ("I know that this has been a very long and difficult term for you with exams and work and family "
            "all pulling in different directions at the same time and no break in sight.")
    pieces = stream(text, max_words=20)
    assert all(len(p.split()) <= 21 for p in pieces) and len(pieces) >= 2
    assert " ".join(pieces) == text


@pytest.mark.parametrize("step", [1, 2, 5, 50])
def test_result_does_not_depend_on_how_the_text_is_streamed(step):
    text = "Well done, really. You earned it! Now, plan the next week: two goals, no more. Ready?"
    assert stream(text, step=step) == chunk_text(text)


def test_empty_and_whitespace():
    assert chunk_text("") == [] and chunk_text("   ") == []


def test_ordinary_words_before_a_full_stop_still_end_sentences():
    assert chunk_text("It's fine to say no. Then rest for a bit.") == ["It's fine to say no.", "Then rest for a bit."]
