"""Reading the kinds set J missed or paged, in other words than its rows: a relative who says
the patient talks as after a stroke (Spanish drops the "I"), teams that collapse or cannot
breathe in a half, a game that keeps knocking the player out, slang and heat ("got me dead",
"sin aire con este calor"), a mind gone blank all day at work, a pet told by a regional word,
a neighbour's stroke told through his wife, a show watched with no character named, weakness
that comes with a chore or a long hold, tired legs in the plural after a list of what is not
wrong, and a bare "I'm not sure" (which the learned reader, retrained with set J, paged: these
rows are its training too)."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # a relative reports what they hear in the patient's speech: the patient's red flag
    ("mi esposo dice que hablo como borracho desde la comida, yo me siento bien, 1", "es"),
    ("mi hija dice que estoy hablando chistoso desde hace rato, yo estoy mejor", "es"),
    ("my wife says I sound like I had a stroke since lunch, I feel fine, 1", "en"),
    # a real collapse or blank out is still the patient's
    ("I nearly passed out in the kitchen 10 minutes ago", "en"),
    ("me quedé sin aire de repente hace media hora", "es"),
    ("my legs just went dead an hour ago and I can't stand", "en"),
    ("his wife said my speech was slurred since breakfast", "en"),
    # watching a show names no one else: the watcher's own red flag (set A, after retraining)
    ("viendo la tele se le cayó la taza y de repente no pudo mover la mano", "es"),
    ("mirando las noticias se me durmió la cara de repente hace una hora", "es"),
]

NOT_EMERGENCIES = [
    # a team collapses, faints or cannot breathe in a half
    ("the Lakers collapsed in the fourth quarter, nearly fainted watching lol. same here", "en"),
    ("our lads died in the second half, couldn't breathe out on the pitch. me, no change", "en"),
    ("what a stroke of dumb luck that goal was, I'm about the same", "en"),
    ("el América se desplomó en el segundo tiempo, qué coraje. yo igual", "es"),
    ("los del Saprissa se desmayaron en la segunda mitad jaja, yo sigo igual", "es"),
    # a game that keeps knocking the player out
    ("my granddaughter has me on her video game and I keep getting killed lol, same", "en"),
    # slang and the weather
    ("that meme got me dead lol. legs the same", "en"),
    ("con este calorón me quedo sin aire jaja, las piernas igual", "es"),
    ("me quedé en blanco toda la mañana en la oficina, pero mejor, 1", "es"),
    # a character of the show is someone else
    ("viendo la serie, a la doctora se le torció la boca, qué drama. Yo igual", "es"),
    # a pet told by a regional word
    ("la chucha de mi vecina no puede mover las patas de atrás, yo igual", "es"),
    ("el lomito anda arrastrando la pata desde ayer, pobre. yo mejor", "es"),
    # a neighbour's stroke told through his wife and the ambulance that took him
    (
        "my neighbour had a stroke on sunday, her husband said she couldn't lift her arm. "
        "I'm the same",
        "en",
    ),
    (
        "el señor de enfrente se desmayó en la tienda, se lo llevó la ambulancia. yo igual, 2",
        "es",
    ),
]

WORSE = [
    # weakness that comes with a chore or a long hold is effort
    ("worse, my arms give out folding the laundry", "en"),
    ("a bit worse, can't hold my book up for long", "en"),
    ("peor, los brazos no me dan doblando la ropa", "es"),
    # a list of what is not wrong, then tired legs in the plural
    ("no me he desmayado ni nada, solo los brazos más cansados que ayer", "es"),
    ("no mareos, hablo bien, las piernas más cansadas", "es"),
]

UNSURE = [
    # not knowing what to answer is no talk about the body
    ("I'm not sure", "en"),
    ("im not really sure", "en"),
    ("I am not sure, sorry", "en"),
    ("not sure to be honest", "en"),
    ("no estoy segura", "es"),
    ("la verdad no estoy seguro", "es"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_the_patients_own_red_flag_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), NOT_EMERGENCIES)
def test_matches_slang_pets_and_neighbours_are_not_emergencies(text: str, language: str) -> None:
    assert classify_rules(text, language).category != "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), WORSE)
def test_a_chore_and_tired_limbs_are_worse(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "worse", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), UNSURE)
def test_not_being_sure_is_unclear(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "unclear", classify_rules(text, language)
