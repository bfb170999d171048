"""Reading the kinds sets L and M missed or paged, in other words than their rows: an emphatic
"none" that is no negation, breathing harder "than last week" (a change, not an old episode),
teams, players and game characters, trucks and machines, animals told bare, a relative or
co-worker other than the patient whose status is given, a cleft before the finding ("my
husband's the one who fainted"), old episodes told as "not new", what a podcast or the TV
said, and "idk who this is"."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # an emphatic "none" is no negation
    ("legs wouldn't carry me none this morning, never had that before", "en"),
    ("his arm won't work none since lunch", "en"),
    # harder than last week, and now at rest
    ("it's harder to breathe than yesterday and now I'm winded just sitting", "en"),
    ("me falta más el aire que ayer, ya hasta acostada me cuesta respirar", "es"),
    # the patient's own red flag next to someone else's status
    ("my wife is the same but I'm the one who passed out this morning", "en"),
    ("mi esposo está igual. Yo me desmayé hace rato en la cocina", "es"),
]

NOT_EMERGENCIES = [
    # teams, players and game characters
    ("the Yankees bullpen had a stroke in the ninth lol, me the same", "en"),
    ("the quarterback got knocked out cold on tv tonight. I'm better", "en"),
    ("my guy got paralyzed in the game for three turns lol. grandpa same as always", "en"),
    ("got knocked out in minecraft four times haha, grandma says 2", "en"),
    ("lost two strokes on the back nine but my legs held up, better", "en"),
    ("el Cruz Azul se quedó muerto en el segundo tiempo jaja, yo igual", "es"),
    # trucks and machines
    ("la troca se quedó sin aire en las llantas a medio camino jaja. yo mejor", "es"),
    ("the truck lost all its air on the hill, brakes locked up. me, better", "en"),
    # dying of laughter or hunger, dead asleep
    ("casi me ahogo de la risa con mi nieta jaja, sigo igual", "es"),
    ("mi hija está que se desmaya de hambre jaja, yo mejor", "es"),
    ("grandpa is dead asleep lol, knocked out on the couch after church. same as usual", "en"),
    # animals told without "my"
    ("dog went down in the yard, back legs gave out on him, vet coming. me same", "en"),
    ("my old hound can't get up this morning, just lies there. me, better", "en"),
    ("se me cayó un caballo en el potrero y no se puede parar. yo igual", "es"),
    # a co-worker, another patient, a relative who is not the one whose status is given
    ("another patient on my route had a stroke today, hence the late reply. yours is stable", "en"),
    ("el que se desmayó en la obra fue otro compañero, por el calor. yo igual", "es"),
    ("mi papá está igual. A mi tía sí se le torció la boca, está en el hospital", "es"),
    ("my aunt is the same. my neighbor's grandma had her face droop and they airlifted her", "en"),
    ("my husband's the one who fainted at the party, not me lol. I'm the same", "en"),
    # old episodes told as not new
    ("the numbness in my feet I've had for years from diabetes, not new. legs better", "en"),
    ("hace años tuve un derrame y desde entonces hablo arrastrado, no es nuevo. igual", "es"),
    ("had a stroke years ago and my mouth has been crooked since, old news. same today, 2", "en"),
    # what a podcast or the TV said
    ("a podcast said weakness plus confusion means go to the ER. not confused, a bit worse", "en"),
    ("en la radio dijeron que si no puedes sonreír de un lado es un ictus. yo nada, igual", "es"),
    # who is texting
    ("ngl idk who this is", "en"),
    ("no sé quién es este número", "es"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_the_patients_own_red_flag_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), NOT_EMERGENCIES)
def test_games_machines_animals_others_and_old_news_are_no_emergency(
    text: str, language: str
) -> None:
    assert classify_rules(text, language).category != "emergency", classify_rules(text, language)
