"""Reading the kinds set N missed or paged, in other words than its rows: a faint told in
telegraph style ("se me fue. un rato."), a leg one cannot feel told apart ("no la siento"), an
aide's "doña" who is the patient, and on the other side the work of nurses, aides, medics and
dispatchers (drills, stroke alerts, 911 calls, a partner on the ambulance), servers and
compressors, fantasy and video-game players, a clip about a stranger, "it was her husband
who", "mi abuelo es el que", "el que está mal es", a show's character who "salió", and an old
episode "hace como 10 años"."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # a faint in telegraph style
    ("Se me fue. Un rato. En la cocina. Ya regresé.", "es"),
    ("se nos fue un ratito en el sillón, ya abrió los ojos", "es"),
    # a leg one cannot feel, told apart
    ("Igual. Pero hoy. La pierna. No la siento.", "es"),
    # an aide's "doña" is the patient
    ("Doña Rosa ya no puede levantar la mano derecha desde el almuerzo", "es"),
]

NOT_EMERGENCIES = [
    # the work of nurses, aides, medics and dispatchers
    ("Same. two stroke alerts on my shift last night, I'm wiped. legs same as last week", "en"),
    ("2. took four 911 calls in a row tonight, I work dispatch. same weakness", "en"),
    ("Client stable. The assigned aide had a fainting spell at her other client's home", "en"),
    ("same here. my partner on the rig said his hand went numb but he'd slept on it lol", "en"),
    ("Paciente estable. Tuvimos simulacro de paciente inconsciente en la capacitación", "es"),
    # servers, compressors
    ("Same. the whole network fainted at midnight, I was up rebooting lol", "en"),
    ("Mejor. En el taller el compresor se quedó sin aire otra vez jaja", "es"),
    # fantasy and video-game players
    ("better! my fantasy WR went down and couldn't get up, season over lol", "en"),
    ("mom's the same. my brother keeps yelling that his character passed out in the game", "en"),
    # a clip about a stranger, a show's character
    ("better. saw a tiktok about a man whose arm went dead out of nowhere, scary. I'm fine", "en"),
    ("Mi papá mejor. En la novela salió una que no podía hablar, qué drama", "es"),
    # clefts that name someone else
    ("Mrs Lee is better. It was her husband who had the stroke, not her", "en"),
    (
        "Mi abuela está mejor. Mi tío es el que anda confundido, pero no es paciente de ustedes",
        "es",
    ),
    # old episodes
    ("Better. Back in 92 I passed out on a hike, in case you need it for my history", "en"),
    ("Mejor. Lo de que no me salían las palabras fue hace como 8 años, nada que ver", "es"),
    # not knowing the day, said of the kids' chaos
    ("Ay estos niños me traen loca, no sé ni en qué día vivo jaja. Mi mamá igual", "es"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_the_patients_own_red_flag_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), NOT_EMERGENCIES)
def test_work_servers_players_clips_and_clefts_are_no_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category != "emergency", classify_rules(text, language)
