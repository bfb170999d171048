"""Reading the kinds set K missed or paged, in other words than its rows: a relative's faint
told by a writer who then gives their own status ("Me? better"), a cleft that names who it
happened to ("the one who passed out was my dad"), a co-worker without "my", the ambulance
that took someone else, dying of heat or of laughter, "nothing numb" in a list of what is
fine, Spanish "he ido" (I have gone) read as "ido" (spaced out), getting up with the arms'
help, an animal in a simile on the chest, and breaths that get shallower one after another."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # the patient's own red flag still counts beside a relative's calm news
    ("my wife is fine, but I passed out in the shower an hour ago. me? worse", "en"),
    ("my son came by, I fainted on the porch this morning, 3", "en"),
    ("mi esposo se desmayó hace rato en la cocina, yo estoy muy asustada", "es"),
    ("my husband passed out at lunch and I can't wake him, I'm scared", "en"),
    ("dad collapsed in the yard, I am calling you, he's not answering me", "en"),
    # a relative's red flag that is not over is an emergency, whoever gives a status
    ("I'm about the same. My husband passed out and won't wake up", "en"),
    ("yo sigo igual, 2. Mi esposo se desmayó y no responde", "es"),
    # an animal in a simile: the weight is on the patient's chest
    ("like a horse is sitting on my chest, each breath is smaller than the one before", "en"),
    ("como si tuviera una vaca encima del pecho, cada respiro más cortito", "es"),
    # breathing that gets shallower breath by breath
    ("every breath is shallower than the last one", "en"),
    ("each breath comes shorter than the one before", "en"),
    # "ido" as spaced out is still read when it is not "he ido"
    ("mi papá está como ido desde la siesta, no contesta bien", "es"),
]

NOT_EMERGENCIES = [
    # a relative's faint, told by the patient who then gives their own status
    ("my wife fainted at the dentist this morning lol she's ok. Me? same, 2", "en"),
    ("my son passed out giving blood haha he's fine. As for me, better", "en"),
    ("mi hijo se desmayó en la vacuna jaja ya está bien. Yo sigo igual, 2", "es"),
    ("a mi esposa le dio un desmayo en el banco pero ya está bien. Yo? mejor", "es"),
    # a cleft names who it happened to
    ("she's doing better, eats alone now. The one who fainted was my dad, from the heat", "en"),
    ("mi abuela está mejor. La que se desmayó fue mi tía, por el sol, ya está bien", "es"),
    # a co-worker or a classmate without "my"
    ("coworker fainted at the warehouse today, scary. me, a bit worse, 3", "en"),
    ("classmate passed out in the gym lol. i'm the same", "en"),
    # the ambulance took someone else
    ("a la señora de al lado se la llevaron en ambulancia anoche, yo igual, 2", "es"),
    ("al vecino se lo llevó la ambulancia, qué susto. Yo mejor", "es"),
    (
        "la señora del 3B se cayó en el pasillo del edificio esta mañana y se la llevaron en "
        "ambulancia, yo igual",
        "es",
    ),
    # dying of heat, of laughter
    ("me estoy muriendo del calor en Phoenix jaja, la debilidad igual, 2", "es"),
    ("jajaja me muero, perdón, era para mi hermana", "es"),
    ("me muero de risa con mi nieto, yo mejor, 1", "es"),
    ("dying of this heat lol, weakness the same", "en"),
    # "nothing numb" in a list of what is fine
    ("speech fine, face fine, nothing numb. arms weaker than last week", "en"),
    ("nothing numb, nothing droopy, just tired legs, same", "en"),
    # "he ido" is "I have gone"
    ("mejor, hoy he ido caminando a la tienda", "es"),
    ("igual, ya he ido dos veces al parque esta semana", "es"),
    # getting up with the arms' help is effort, not a sudden loss
    ("worse, can't get up from the sofa without pushing off with my arms", "en"),
    ("peor, no me puedo parar de la silla sin apoyarme en los brazos", "es"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_the_patients_own_red_flag_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), NOT_EMERGENCIES)
def test_others_idioms_and_aided_effort_are_not_emergencies(text: str, language: str) -> None:
    assert classify_rules(text, language).category != "emergency", classify_rules(text, language)
