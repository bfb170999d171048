"""Reading the kinds set H missed, in other words than its rows: blackouts and lost time told
as a story, confusion told as behaviour, a red flag after a menu answer or written for someone
else, someone else's red flag (a neighbour, a show, a game, a player, a work system) in a
longer message, and worsening told by what the patient can no longer do."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # lost consciousness or lost time, told as a story
    ("came round on the kitchen floor, no clue how long I'd been lying there", "en"),
    ("found myself on the hallway rug and I don't know how long I was out", "en"),
    ("2 but I think I lost a chunk of time this afternoon, cant account for it", "en"),
    ("one minute he was folding towels and the next he was on the carpet", "en"),
    ("1 today. next thing i knew the puppy was licking my face", "en"),
    ("amanecí tirada en el suelo de la cocina y no sé cuánto tiempo estuve ahí", "es"),
    ("de repente estaba en el piso del baño, no sabe cuanto tiempo paso", "es"),
    # confusion told as behaviour
    ("grandpa phoned from the bus stop asking us where he lives", "en"),
    ("why is my bedroom so different? who moved everything", "en"),
    ("she keeps saying she wants to go home and we are home, started after lunch", "en"),
    ("mi papá metió las llaves en el refri y no sabe ni qué día es, empezó hoy", "es"),
    ("mi tía dice que quiere volver a la casa y ya estamos en la casa, desde la siesta", "es"),
    ("mi esposo me pregunta donde vive, hace una hora estaba bien", "es"),
    # a red flag after a menu answer, or written for someone else
    ("my wife would say 2 but when she tried to ask for tea it came out all jumbled", "en"),
    ("mum can't get herself out of the armchair at all, she was fine at lunch", "en"),
    ("grandma quit being able to hold her fork halfway through dinner", "en"),
    ("Bien, 1. Pero desde hace un rato se le escurre la baba por un lado", "es"),
    ("1 gracias, aunque ya no le pasa ni la saliva", "es"),
    # the writer's own red flag after someone else shouting at them
    ("my neighbour was yelling at me and I can't breathe", "en"),
    # a nearer relative at home is the subject, not the show that was on
    ("watching the news on tv mom suddenly could not lift her arm", "en"),
]

NOT_EMERGENCIES = [
    # someone else's red flag told in a longer message; the patient's own status elsewhere
    (
        "2. neighbour collapsed at the bus stop yesterday, I went with her wife. I am ok",
        "en",
        "same",
    ),
    ("this show where the bride passed out at the altar, I cried. 1 for me", "en", "better"),
    ("he got knocked out of the darts final and is grumpy, I'm the same", "en", "same"),
    ("grandson was yelling I can't breathe at his video game again, I'm the same, 2", "en", "same"),
    ("the striker went down and didn't move, I think he fainted, what a match!", "en", "unclear"),
    ("laughed so hard at the wedding video I couldn't breathe haha. 1", "en", "better"),
    ("we were all paralysed at work when the network went down. legs same", "en", "same"),
    ("se cayó la red en la oficina y quedamos todos paralizados, yo sigo igual", "es", "same"),
    ("en esta novela a don Ramiro le dio un derrame, yo igual 2", "es", "same"),
    ("esta telenovela es un drama, a doña Chela se le fue la voz. yo sigo igual", "es", "same"),
    ("el arquero quedó tendido, yo creo que se desmayó, qué golazo", "es", "unclear"),
    ("mi cuñado dice que la moto se quedó sin fuerza en la subida. yo sigo igualita", "es", "same"),
    # an old, resolved episode; a digit after the sentence that mentions it
    (
        "In May I blacked out and they kept me a week, all fine since. Best I've felt since. 1",
        "en",
        "better",
    ),
    # a question about a symptom, then a plain answer after it
    (
        "if I ever can't swallow should I go to the ER? asking for later. swallowing fine, 2",
        "en",
        "same",
    ),
    # a state said to ease is an improvement
    ("1, the new tablets help, legs less heavy", "en", "better"),
    # a word slip at a quiz is no speech loss
    (
        "lost my words at the pub quiz, couldn't name the president lol. 1 feeling strong",
        "en",
        "better",
    ),
    # what the doctor said is not the patient's speech
    (
        "remember my speech went odd in June and they said it was a TIA? gone the same day. "
        "3, legs wobblier this week",
        "en",
        "worse",
    ),
]

WORSE = [
    # worse, told by what the patient can no longer do, or by a comparison with the past
    ("needed my son to help me out of the shower tonight, I normally manage alone", "en"),
    ("he's using the cane everywhere now, even in the kitchen", "en"),
    ("couldn't get up the church steps today, had to stop on each one", "en"),
    ("his grip is weaker, can't twist the lid off the jam jar he could open last month", "en"),
    ("legs wobbly like they've been for months, but worse this week", "en"),
    ("mi nieta se desmayó en el desfile, ya está bien. yo más debilucha esta semana", "es"),
]

CALM = [
    # long-standing, not a change: the status word decides
    ("legs wobbly like they've been for months, so I'd say the same, a 2", "en", "same"),
    ("Estoy en las mismas", "es", "same"),
    ("ni fu ni fa, la verdad", "es", "same"),
    ("won", "en", "better"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_stories_and_behaviour_are_emergencies(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language", "expected"), NOT_EMERGENCIES)
def test_someone_elses_red_flag_is_not_an_emergency(
    text: str, language: str, expected: str
) -> None:
    assert classify_rules(text, language).category == expected, classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), WORSE)
def test_what_can_no_longer_be_done_is_worse(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "worse", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language", "expected"), CALM)
def test_long_standing_and_idioms_are_calm(text: str, language: str, expected: str) -> None:
    assert classify_rules(text, language).category == expected, classify_rules(text, language)
