"""Reading the kinds sets F and G missed, in other words than theirs: animals and players as
subjects, episodes told as over, double negatives, questions followed by a report, a sibling
cared for, and reporting words ("says", "wakes", "dice") that say nothing about the body."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # a question, then a report of worsening in a sentence of its own
    ("is this normal, panting just sitting on the couch? its been getting worse since lunch", "en"),
    ("Should I worry that my hand feels dead? It started twenty minutes ago.", "en"),
    # double negatives that admit a loss
    ("It'd be a lie to say my leg isn't dead since noon", "en"),
    ("I cannot truthfully deny my speech has gone mushy since 4", "en"),
    ("no way he is not confused, since his nap he does not know who we are", "en"),
    # onset told as an errand, or as being fine before
    ("after the dog walk my knee went wobbly and now I can't put any weight on that leg", "en"),
    (
        "his right leg buckled a couple of times going to the bathroom, "
        "he was moving fine at breakfast",
        "en",
    ),
    # not remembering admits the blackout
    ("me estaba bañando y no me acuerdo de nada, abrí los ojos en el suelo del baño", "es"),
    ("I don't remember a thing, I woke up on the kitchen floor", "en"),
    # a brother or sister cared for by the writer
    ("my sister can't get her words out right since lunch, she keeps using the wrong names", "en"),
    ("mi hermana no puede levantar el brazo desde hace rato", "es"),
    # "se me" is the writer's own, even after someone else is named
    (
        "mejor gracias, aunque hace un rato hablando con mi vecina se me trabó la lengua "
        "y no me salían las palabras",
        "es",
    ),
    # confusion: off to a job left long ago
    (
        "mi papá se alista pa ir a la fabrica a trabajar y hace 15 años que no trabaja, "
        "nunca habia hecho eso",
        "es",
    ),
    # an animal in the sentence is no excuse when a person is its subject
    ("mom was feeding the chickens and collapsed", "en"),
    ("was out feeding the cows and my left leg quit on me", "en"),
    ("the dog pulled on the leash and i went down, cant get up", "en"),
    # a symptom that has not gone away is not over
    ("my face went numb at lunch and it has not gone away", "en"),
    ("se me durmió el brazo hace una hora y no se me quita", "es"),
    ("ya no puedo respirar bien, cada vez peor, ya paso una hora asi", "es"),
    # a report with its own onset after an "if" clause, and stage words while it goes on
    ("I'll call 911 if it gets worse, my face is drooping since lunch", "en"),
    ("brain freeze and now my words come out wrong since lunch", "en"),
    ("que paralisis tengo en el brazo desde la mañana", "es"),
]

CALM = [
    # animals named first stay the subject of their sentence, or named after ("the one ... was")
    (
        "our mare went down in the paddock and couldn't get back up, vet's coming. I'm the same",
        "en",
        "same",
    ),
    ("one of our goats collapsed this morning, she is not moving much. 2 for me", "en", "same"),
    ("la que no podía caminar era la perrita, yo estoy igual", "es", "same"),
    ("grandma's dog had a seizure last night, poor thing", "en", "unclear"),
    ("the vet thinks it's a tumour in the dog's leg", "en", "unclear"),
    # players and games
    ("the striker went down and didn't get up for a while, ugh. me: same", "en", "same"),
    ("our team was dead on their feet in the last quarter", "en", "unclear"),
    ("knocked out in the second round of the pool tournament, 2", "en", "same"),
    ("el arquero se quedó tieso en el gol jaja, yo mejor", "es", "better"),
    ("los del equipo se quedaron sin aire al final del partido, yo igual", "es", "same"),
    # an episode told as over
    ("the numbness in my leg from the summer has gone completely now, 1", "en", "better"),
    ("that blackout back in the spring has not come back since, about the same", "en", "same"),
    ("se me durmió la pierna el otro día pero ya se me quitó, sigo igual", "es", "same"),
    # asking what to do is not calling
    ("If she slurs again what do we do? Ring you or 911?", "en", "unclear"),
    # idioms and stage fright
    ("my jaw dropped at the price of eggs", "en", "unclear"),
    ("couldn't get a word in at the family dinner lol, feeling stronger", "en", "better"),
    ("se me cae la cara de pena con la vecina jaja, pero igual de lo mio", "es", "same"),
    (
        "froze up giving a speech at church and my words wouldn't come out, stage fright. 2",
        "en",
        "same",
    ),
    # reporting words alone say nothing about the body
    ("I'll text you back when he wakes up from his nap", "en", "unclear"),
    ("the pharmacist says the refill is ready tomorrow", "en", "unclear"),
    ("mi hija dice que le manden la cita por correo", "es", "unclear"),
    # worsenings, not alarms
    ("he coughs on his rice and chicken at dinner now", "en", "worse"),
    ("can't unscrew the lid on the peanut butter anymore", "en", "worse"),
    ("3, legs give out by lunchtime now", "en", "worse"),
    ("ahorita más débil de los brazos que el otro mes", "es", "worse"),
    ("ando más debilita que la semana pasada", "es", "worse"),
    # a number word or a digit set apart is the menu answer; a date after "still" is no status
    ("Two. Nothing new here", "en", "same"),
    ("dos, sigo igualito", "es", "same"),
    ("long day at the clinic yesterday. 1, feeling stronger", "en", "better"),
    ("is my appointment still friday?", "en", "unclear"),
    # a brother or sister told in jest, or an in-law, is someone else
    ("my brother in law can't feel his feet since his back surgery", "en", "unclear"),
    ("my brother was slurring at the bbq since noon lol, too many beers", "en", "unclear"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_told_in_other_words_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency"


@pytest.mark.parametrize(("text", "language", "expected"), CALM)
def test_context_keeps_it_calm(text: str, language: str, expected: str) -> None:
    assert classify_rules(text, language).category == expected
