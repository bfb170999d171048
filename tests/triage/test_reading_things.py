"""Reading the kinds set I missed or paged, in other words than its rows: a limb that would not
work told through a place left or a voice-to-text slip ("wooden" for wouldn't), teams, games,
machines and phones that collapse, die or black out, a show being watched, another relative
than the patient the writer names, an episode joined by "and" to a past one, effort told by a
chore, mixed days, a menu answer relayed ("grandad says 1"), and moving an appointment."""

from __future__ import annotations

import pytest

# These rows pin the rules' reading; the learned second reader, which may only add an
# emergency on top of it, is tested in test_learned.py.
from service.core.triage import classify_rules

EMERGENCIES = [
    # a place the patient gets in or out of is not the subject of the limb that failed
    ("stepped off the bus and my knees wooden hold me up, a man had to catch me", "en"),
    ("climbing out of the taxi my arm wooden lift, was ok an hour ago", "en"),
    ("in the car on the way home her face went droopy on one side, 20 min ago", "en"),
    ("al bajar del carro las piernas no me respondían, hace una hora estaba bien", "es"),
    ("las piernas no me respondieron, en la mañana estaba bien", "es"),
    # the named patient's own red flag
    ("writing for my mom. she passed out an hour ago", "en"),
    ("my husband is the patient. he passed out an hour ago", "en"),
    ("escribo por mi mamá, de repente no puede mover el brazo", "es"),
]

NOT_EMERGENCIES = [
    # teams, games and machines collapse, die and black out too
    ("our darts team collapsed in the final lol. me, 1", "en", "better"),
    ("my character in the game died and my grandson laughed. 2", "en", "same"),
    (
        "we all got knocked out during the match, silly game night, about the same here",
        "en",
        "same",
    ),
    ("the whole building blacked out during the storm, still the same here", "en", "same"),
    ("the city blacked out last night, better though", "en", "better"),
    ("se quedó sin pila el teléfono y se me apagó todo, estoy mejor", "es", "better"),
    # the writer names the patient: another relative's red flag is that relative's
    ("texting for my husband. my mom fainted at church this morning, he is better", "en", "better"),
    ("my wife is the patient, she is the same. her dad had a stroke yesterday", "en", "same"),
    (
        "escribo por mi mamá, ella es la paciente. mi papá se desmayó ayer y no podía hablar. "
        "Mi mamá sigue igual",
        "es",
        "same",
    ),
    # a show being watched
    (
        "estábamos viendo la telenovela y al galán se le torció la boca, qué risa. Sigo igual",
        "es",
        "same",
    ),
    ("mirando las noticias, a un señor se le paralizó la cara, yo estoy igual", "es", "same"),
    # an episode joined by "and" to a past one is past too
    (
        "in 2018 she fainted and couldn't get up for an hour, all good since. weaker this week",
        "en",
        "worse",
    ),
    (
        "en 2020 se desmayó y no podía hablar, desde entonces nada. esta semana más débil",
        "es",
        "worse",
    ),
    ("hace dos años el brazo no me respondía, ya pasó, hoy igual", "es", "same"),
    # a pet's emergency, however worried the writer
    (
        "my cat fell off the sofa and can't use her back legs since this morning, vet says spine",
        "en",
        "unclear",
    ),
    (
        "el perro se desmayó en el parque y desde ayer no mueve las patas de atrás, dice el vete",
        "es",
        "unclear",
    ),
]

WORSE = [
    # a limb that gives out during a chore is effort, not an onset
    ("my arms gave out putting up the laundry, weaker this week", "en"),
    ("los brazos no me dieron para tender la ropa, más débil esta semana", "es"),
]

CALM = [
    # mixed days are the same; moving an appointment is no talk about the body
    ("some good days some bad days", "en", "same"),
    ("good days and bad days, about the same", "en", "same"),
    ("días buenos y días malos, más o menos igual", "es", "same"),
    # a carer relays the menu answer; "the doctor says 2 weeks" is no answer
    ("my husband said 3, he is tired", "en", "worse"),
    ("grandpa says 1, walked to the shop", "en", "better"),
    ("mi abuela dice 1, ya camina mejor", "es", "better"),
    ("doctor says 2 weeks more of rest", "en", "unclear"),
    ("el doctor dice 2 semanas más", "es", "unclear"),
    ("can we move my appt to next week", "en", "unclear"),
    ("could I reschedule the visit to monday", "en", "unclear"),
    ("¿puedo cambiar la visita para el lunes?", "es", "unclear"),
]


@pytest.mark.parametrize(("text", "language"), EMERGENCIES)
def test_a_limb_that_would_not_work_is_an_emergency(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "emergency", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language", "expected"), NOT_EMERGENCIES)
def test_things_shows_and_past_episodes_are_not_emergencies(
    text: str, language: str, expected: str
) -> None:
    assert classify_rules(text, language).category == expected, classify_rules(text, language)


@pytest.mark.parametrize(("text", "language"), WORSE)
def test_a_chore_is_effort(text: str, language: str) -> None:
    assert classify_rules(text, language).category == "worse", classify_rules(text, language)


@pytest.mark.parametrize(("text", "language", "expected"), CALM)
def test_mixed_days_relayed_answers_and_appointments(
    text: str, language: str, expected: str
) -> None:
    assert classify_rules(text, language).category == expected, classify_rules(text, language)
