"""Reading the kinds set C missed, in other words than set C's: household family, confusion
told as behaviour, breathing by its signs, coming round on the floor, events as onsets."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    ("grandpa keeps walking into the closet looking for the front door", "en"),
    ("she called me by my dead sisters name and didnt know what room she was in", "en"),
    ("my husband is sending me texts that are just letters jumbled up, not like him", "en"),
    ("i came to on the kitchen tiles, dont know how long i was down", "en"),
    ("his belly is sucking in with every breath and he looks dusky around the mouth", "en"),
    ("dad's lips are grey and he's breathing with his neck muscles", "en"),
    ("got out of the tub and my legs just folded, couldnt get up", "en"),
    (
        "my wife is staring at the tv remote like she's never seen one and can't say what it is",
        "en",
    ),
    ("1 but an hour ago i blacked out in the yard", "en"),
    ("my mother in law cant move her left arm since lunch", "en"),
    ("se me nubló todo y cuando reaccioné estaba en el suelo", "es"),
    ("mi esposo respira con los hombros y tiene la boca gris", "es"),
    ("no es que no pueda respirar, pero me cuesta mucho y cada vez más", "es"),
    ("mi abuela anda perdida en la casa, no encuentra su cuarto", "es"),
    ("al pararme despues de bañarme se me doblaron las rodillas", "es"),
    ("siento que no me llena el aire, el pecho no me jala", "es"),
    ("3. y ahorita me desmayé en el baño", "es"),
    ("a mi suegro se le cayó la cara de un lado hace rato", "es"),
    ("dad is out of it, staring at the wall and not answering", "en"),
    ("i went down in the hallway and next i knew my dog was licking my face", "en"),
    ("grandma is talking to my late grandpa like hes in the room", "en"),
    ("mi mamá confunde a mi hijo con mi hermano que murió", "es"),
    ("se le pusieron moradas las uñas a mi abuelo y respira como pescadito", "es"),
]

CALM = [
    ("my neighbor's wife fell and hit her head, they called 911", "en"),
    ("my coworker's dad had a stroke, praying for them", "en"),
    ("my cat keeps collapsing, taking her to the vet", "en"),
    ("la vecina se desmayó en la misa, ya está bien", "es"),
    ("mi suegra dice que a su hermana se le durmió el brazo", "es"),
    ("my wife and i watched a movie where a guy passes out", "en"),
    ("grandma's friend fainted at bingo, they called an ambulance", "en"),
    ("I'm fine, my sister fainted at work though", "en"),
    ("mi mamá se preocupa de que me vaya a desmayar, pero estoy bien", "es"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_told_in_other_words_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency"


@pytest.mark.parametrize(("text", "language"), CALM)
def test_someone_outside_the_household_is_no_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category != "emergency"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mom is using her shoulders to breathe", "en"),
        ("a mi suegra se le fue el mundo y quedó tirada en la cocina", "es"),
    ],
)
def test_a_relatives_red_flag_is_the_patients_and_reviewed(text: str, language: str) -> None:
    result = classify_rules(text, language)
    assert (result.category, result.needs_review) == ("emergency", True)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("she needs more help with dressing than last week", "en", "worse"),
        ("moving slower than usual this week", "en", "worse"),
        ("cada vez camino menos, me canso", "es", "worse"),
        ("va pa'tras mi mama, cada dia come menos", "es", "worse"),
        ("takes him longer every day to get dressed", "en", "worse"),
        ("each day i can walk a little less", "en", "worse"),
        ("he's been needing the walker more than before", "en", "worse"),
        ("cada vez le cuesta más levantarse de la cama", "es", "worse"),
        ("ando más debilucha que la semana pasada", "es", "worse"),
        ("ya no aguanto caminar ni a la esquina", "es", "worse"),
        ("necesita más ayuda que antes para bañarse", "es", "worse"),
        ("mi papá va de mal en peor", "es", "worse"),
        ("sigo igualito gracias a dios", "es", "same"),
        ("aqui seguimos igual", "es", "same"),
        ("todo igual gracias a Dios", "es", "same"),
        ("igual gracias", "es", "unclear"),
        ("my dogs back legs gave out today, vet tomorrow", "en", "unclear"),
        ("my coworker collapsed yesterday, still thinking about it", "en", "unclear"),
    ],
)
def test_status_words(text: str, language: str, expected: str) -> None:
    assert classify_rules(text, language).category == expected
