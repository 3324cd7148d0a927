"""The sense check on mentor replies: on topic, nothing invented, no red flag."""

import pytest

from claritymentor.sense import check_reply, invented, key_words, red_flags, reply_problems

FLATMATE = "My flatmate keeps eating my food and I'm furious."


def test_a_reply_about_the_persons_own_situation_passes():
    reply = ("Coming home to find your food gone again would wear anyone down. Tonight, tell your flatmate "
             "plainly that the food is yours. How have they reacted before?")
    verdict = check_reply(reply, FLATMATE, FLATMATE)
    assert verdict.passed and {"flatmate", "food"} <= set(verdict.shared)


def test_the_reply_from_the_issue_invents_a_manager_and_a_number():
    """Regression: the adapter told a person angry at their flatmate to call their manager three times."""
    reply = ("That's really frustrating. Write down what happened, then call your manager at least three "
             "times during the week. Is there anything else you'd like to discuss with him?")
    verdict = check_reply(reply, FLATMATE, FLATMATE)
    assert not verdict.passed and {"manager", "three"} <= set(verdict.invented)


@pytest.mark.parametrize("reply, conversation, expected", [
    ("Ask your tutor for an extension.", "My lecturer set the essay for Friday.", []),  # same group: teaching staff
    ("Tell your mum how you feel.", "My parents will be so disappointed if I fail.", []),  # parents cover mum
    ("Talk to your sister about it.", "my parents keep arguing", ["sister"]),
    ("Maybe Sam can help you with it.", "My friend Sam moved away.", []),
    ("Maybe Priya can help you with it.", "My friend Sam moved away.", ["Priya"]),
    ("Put it aside for 4 days.", "I have three exams next week.", ["4"]),
    ("Start with the three exams one by one.", "I have 3 exams next week.", []),
    ("Check www.studenthelp.com tonight.", "I'm behind on reading.", ["www.studenthelp.com"]),
    ("Post about it on Instagram.", "I passed my driving test!", ["instagram"]),
    ("The student union can advise you.", "My landlord kept my deposit.", ["student union", "union"]),
    ("When I was your age I failed too.", "I failed my resit.", ["when i was your age"]),
    ("Plan it for Monday morning.", "The deadline is on friday.", ["monday"]),
])
def test_invented_people_numbers_places_and_anecdotes(reply, conversation, expected):
    assert invented(reply, conversation) == expected


@pytest.mark.parametrize("reply, flag", [
    ("Maybe it's time to give up on this course.", "giving up"),
    ("It makes sense to say goodbye sooner than later.", "goodbye"),
    ("Honestly, it's your own fault for leaving it late.", "blame"),
    ("Just calm down and get over it.", "dismissive"),
    ("Have a drink to take the edge off, maybe alcohol helps.", "unsafe"),
])
def test_red_flags(reply, flag):
    assert flag in red_flags(reply)


def test_no_red_flag_in_a_kind_reply():
    assert red_flags("Losing touch with school friends can feel lonely. Send Jess a message this week.") == []


def test_off_topic_reply_without_shared_words_needs_the_similarity():
    user = "I have three exams next week and I haven't started revising."
    reply = "Cooking a proper dinner at home can save a lot. What do you like to eat?"
    assert not check_reply(reply, user, user).on_topic
    assert not check_reply(reply, user, user, similarity=0.05, threshold=0.3).on_topic
    assert check_reply(reply, user, user, similarity=0.4, threshold=0.3).on_topic


def test_key_words_leave_out_stop_and_generic_words():
    assert key_words("I feel really bad today about my exams") == {"exam"}


def test_reply_problems_label_each_finding():
    assert reply_problems("Call your manager and say goodbye.", "my exams") == ["invented: manager",
                                                                                "red flag: goodbye"]


def test_after_a_crisis_turn_only_red_flags_count():
    assert reply_problems("Please call a helpline tonight.", "I feel awful", red_flags_only=True) == []
    assert reply_problems("Say goodbye to it.", "I feel awful", red_flags_only=True) == ["red flag: goodbye"]
