"""Reading by meaning, round 3: the kinds set D missed, in other words than set D's.

None of these rows is taken from a blind set: they are paraphrases of the classes its misses
showed (a status word beside a red flag, breathing metaphors, speech as a listener hears it,
collapse and confusion told as a story, an event onset, and the traps the other way).
"""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

E, S = "en", "es"

EMERGENCIES: list[tuple[str, str]] = [
    # a status word ("still") beside a red flag
    ("my leg went to sleep an hour ago and it still won't wake up", E),
    ("his hand fell asleep at dinner and he still cant feel anything in it", E),
    ("arm went numb round 3 and its still like that", E),
    # breathing by metaphor: doubt about breathing leans to emergency
    ("it's like sucking air through a pinhole", E),
    ("breathing like I just ran a marathon and I've been sitting all day", E),
    ("feels like someone is sitting on my chest", E),
    ("can only take little tiny breaths", E),
    ("respiro como si tuviera una almohada en la cara", S),
    ("siento que me falta el aire cada vez más", S),
    # speech as a listener hears it
    ("my dad sounds like he's drunk but he doesn't drink", E),
    ("my husband's words don't come out right, my daughter is typing this", E),
    ("he opens his mouth and nothing comes out", E),
    ("ella habla como si estuviera borracha y no toma", S),
    # loss of consciousness told as a story
    ("everything went dark and next thing I know I'm on the couch", E),
    ("se me fue la luz y amanecí en el piso del baño", S),
    ("de repente se me oscureció todo y me caí", S),
    # confusion shown by behaviour
    ("mom thinks she has to go pick up the kids from school, her kids are 50", E),
    ("grandpa keeps asking where his wife is, she died 10 years ago, started today", E),
    ("mi papá quiere ir a trabajar y está jubilado hace años", S),
    # a loss after an event is an emergency, not a worsening
    ("dropped my coffee and now my left hand won't do anything", E),
    ("se me cayó el plato y ahora no siento la mano", S),
    # more of the same kinds
    ("can't get a good lungful", E),
    ("feels like I'm breathing through a wet sock", E),
    ("el aire no me llega", S),
    ("she's saying words but they don't mean anything", E),
    ("no se le entiende nada lo que dice", S),
    ("he just went down like a sack of potatoes and didn't respond", E),
    ("woke up on the kitchen floor, no idea how I got there", E),
    ("me confunde con su hermano que murió", S),
    ("can't keep my coffee in my mouth, it dribbles out one side", E),
    ("better, though half my body feels switched off now", E),
    ("igual, pero ahora no me responde la pierna", S),
    ("my arm still won't move, it stopped working after lunch", E),
    ("anda buscando a su mamá que murió hace 30 años", S),
    ("la mano se me quedó sin fuerza de un jalón", S),
    ("he didn't know how to use the tv remote he's used for years, this started today", E),
    ("no le alcanza el aire ni para hablar", S),
    ("se fue de lado en la silla y no contestaba", S),
]

NOT_EMERGENCIES: list[tuple[str, str, str]] = [
    ("my neighbor's wife fainted at church", E, "unclear"),
    ("my buddy's dad had a stroke, sad news", E, "unclear"),
    ("the show had me gasping for air from laughing", E, "unclear"),
    ("crashed out after work and slept like a rock", E, "unclear"),
    ("the calf is down and can't stand", E, "unclear"),
    ("el caballo se cayó y no se levanta", S, "unclear"),
    ("la amiga de mi mamá no puede hablar", S, "unclear"),
    ("my cousin's husband can't talk after his surgery", E, "unclear"),
    ("weaker, but not suddenly, just slowly over the week", E, "worse"),
    ("a little worse, breathing is ok, talking ok", E, "worse"),
    ("peor, pero respiro bien", S, "worse"),
    ("walking is killing me", E, "worse"),
    ("going downhill", E, "worse"),
    ("walked to the mailbox by myself today", E, "better"),
    ("about the same as yesterday, breathing fine", E, "same"),
    ("my breath stinks lol", E, "unclear"),
    ("I'd pass out if I saw the bill lol", E, "unclear"),
    ("the game was so tense i forgot to breathe", E, "unclear"),
    ("mi comadre se desmayó en misa", S, "unclear"),
    ("estoy igual, ni mejor ni peor", S, "same"),
    ("breathing feels different with the new inhaler but ok", E, "worse"),
    ("my grandson says my texts are gibberish lol", E, "unclear"),
    ("is it normal if my hand goes numb when I sleep on it?", E, "unclear"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_emergencies_in_other_words(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language", "expected"), NOT_EMERGENCIES)
def test_traps_in_other_words(text: str, language: str, expected: str) -> None:
    assert classify_rules(text, language).category == expected, classify_rules(text, language)
