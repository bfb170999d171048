"""Table-driven tests of classify(): one row per behaviour the triage must have."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.core.triage import Look, classifier, classify_rules
from service.triage import Triage, classify

E, S = "en", "es"

# (text, stored language, expected category)
CASES: list[tuple[str, str, str]] = [
    # menu
    ("1", E, "better"),
    ("2", E, "same"),
    ("3", E, "worse"),
    ("1.", E, "better"),
    ("2 👍", E, "same"),
    ("3 - weaker", E, "worse"),
    ("  2  ", E, "same"),
    ("#3", E, "worse"),
    ("option 1", E, "better"),
    ("I'd say 2", E, "same"),
    ("two", E, "same"),
    ("4", E, "unclear"),
    ("10", E, "unclear"),
    ("0", E, "unclear"),
    ("2024", E, "unclear"),
    ("555-201-3344", E, "unclear"),
    ("1 2 3", E, "unclear"),
    ("2 or 3", E, "unclear"),
    ("see you at 3", E, "unclear"),
    ("I take 2 pills a day", E, "unclear"),
    ("1 mejor", S, "better"),
    ("2 igual", S, "same"),
    ("3 peor", S, "worse"),
    ("dos", S, "same"),
    ("tengo cita a las 3", S, "unclear"),
    ("2 o 3", S, "unclear"),
    # emergency numbers and words
    ("911", E, "emergency"),
    ("9-1-1", E, "emergency"),
    ("call 911", E, "emergency"),
    ("emergency", E, "emergency"),
    ("call an ambulance", E, "emergency"),
    ("send help", E, "emergency"),
    ("llamen una ambulancia", S, "emergency"),
    ("es una emergencia", S, "emergency"),
    # red flags, English
    ("sudden weakness in my arm", E, "emergency"),
    ("all of a sudden I'm very weak", E, "emergency"),
    ("I can't move my left arm", E, "emergency"),
    ("my leg won't move", E, "emergency"),
    ("I can't stand up", E, "emergency"),
    ("I can't walk", E, "emergency"),
    ("can't sit up", E, "emergency"),
    ("my arm is numb", E, "emergency"),
    ("I lost feeling in my hand", E, "emergency"),
    ("my face is drooping", E, "emergency"),
    ("I can't smile", E, "emergency"),
    ("my speech is slurred", E, "emergency"),
    ("trouble speaking", E, "emergency"),
    ("I'm confused", E, "emergency"),
    ("I can't breathe", E, "emergency"),
    ("short of breath", E, "emergency"),
    ("my chest feels weak and it's hard to breathe", E, "emergency"),
    ("I fainted", E, "emergency"),
    ("passed out", E, "emergency"),
    ("I blacked out", E, "emergency"),
    ("I collapsed", E, "emergency"),
    ("I think it's a stroke", E, "emergency"),
    ("sudden loss of balance", E, "emergency"),
    ("I suddenly can't see out of one eye", E, "emergency"),
    ("double vision", E, "emergency"),
    # red flags, Spanish (with and without accents)
    ("debilidad repentina", S, "emergency"),
    ("no puedo mover el brazo", S, "emergency"),
    ("no me puedo levantar", S, "emergency"),
    ("no puedo caminar", S, "emergency"),
    ("tengo la pierna entumecida", S, "emergency"),
    ("se me durmió la cara", S, "emergency"),
    ("se me durmio la cara", S, "emergency"),
    ("se le torció la boca", S, "emergency"),
    ("arrastra las palabras", S, "emergency"),
    ("estoy confundida", S, "emergency"),
    ("no puedo respirar", S, "emergency"),
    ("me falta el aire", S, "emergency"),
    ("me desmayé", S, "emergency"),
    ("me desmaye", S, "emergency"),
    ("creo que es un derrame", S, "emergency"),
    ("veo doble", S, "emergency"),
    # typos, shorthand, caps, emoji
    ("cant breath", E, "emergency"),
    ("numbnes in my leg", E, "emergency"),
    ("slured speech", E, "emergency"),
    ("cnt breathe rn", E, "emergency"),
    ("SOB", E, "emergency"),
    ("I CANT MOVE MY ARM", E, "emergency"),
    ("numbbbb", E, "emergency"),
    ("cant breathe 😰", E, "emergency"),
    ("🚑", E, "emergency"),
    ("no puedo resirar", S, "emergency"),
    ("NO PUEDO RESPIRAR", S, "emergency"),
    ("se desmallo", S, "emergency"),
    # caregivers
    ("my mom's face is drooping", E, "emergency"),
    ("my husband is slurring his words", E, "emergency"),
    ("she can't lift her arm", E, "emergency"),
    ("dad passed out", E, "emergency"),
    ("mi mamá tiene la boca torcida", S, "emergency"),
    ("mi esposo no puede hablar", S, "emergency"),
    # red flag after a reassuring start
    ("1 but I just fainted", E, "emergency"),
    ("better but my arm went numb", E, "emergency"),
    ("2. also my speech is slurred", E, "emergency"),
    ("mejor pero no puedo mover la pierna", S, "emergency"),
    ("1 pero me desmayé", S, "emergency"),
    # negation
    ("no numbness, just the usual weakness", E, "same"),
    ("denies chest pain", E, "unclear"),
    ("no numbness", E, "unclear"),
    ("I haven't fainted", E, "unclear"),
    ("my face is not drooping", E, "unclear"),
    ("no numbness but I suddenly can't move my leg", E, "emergency"),
    ("not sure but my speech is slurred", E, "emergency"),
    ("I can't not notice my face drooping", E, "emergency"),
    ("no pain, my face is drooping", E, "emergency"),
    ("no, I can't breathe", E, "emergency"),
    ("no me falta el aire", S, "unclear"),
    ("no tengo entumecimiento, sigo igual", S, "same"),
    ("no tengo dolor pero no puedo mover la pierna", S, "emergency"),
    ("no sé si importa pero tengo la boca torcida", S, "emergency"),
    ("Sí, no puedo respirar", S, "emergency"),
    # history, conditionals, idioms
    ("had a stroke in 2018, legs the same", E, "same"),
    ("since my stroke my arm is weak, no change", E, "same"),
    ("I had a stroke yesterday", E, "emergency"),
    ("I'll call 911 if it gets bad", E, "unclear"),
    ("if I can't breathe I will call 911", E, "unclear"),
    ("si empeora llamo al 911", S, "unclear"),
    ("tuve un derrame hace 3 años, sigo igual", S, "same"),
    ("stroke of luck, feeling better", E, "better"),
    ("breathtaking view, legs stronger", E, "better"),
    ("the view took my breath away", E, "unclear"),
    ("can't stand this weather, same", E, "same"),
    ("can't talk now, at work. 2", E, "same"),
    ("my phone died", E, "unclear"),
    ("a lo mejor voy mañana, sigo igual", S, "same"),
    ("no puedo hablar ahorita, estoy en el trabajo", S, "unclear"),
    ("tengo un derrame en el ojo", S, "unclear"),
    ("I can't walk as far as last week", E, "worse"),
    # better / same / worse wording
    ("better", E, "better"),
    ("improving", E, "better"),
    ("no longer weak", E, "better"),
    ("not worse, actually improving", E, "better"),
    ("not any better", E, "same"),
    ("neither better nor worse", E, "same"),
    ("the same", E, "same"),
    ("no change", E, "same"),
    ("not worse", E, "same"),
    ("weaker", E, "worse"),
    ("getting worse", E, "worse"),
    ("not better, worse", E, "worse"),
    ("was worse yesterday but better today", E, "better"),
    ("better in the morning but worse at night", E, "worse"),
    ("mejor", S, "better"),
    ("me siento mejor", S, "better"),
    ("igual", S, "same"),
    ("sin cambios", S, "same"),
    ("ni mejor ni peor", S, "same"),
    ("no estoy mejor", S, "same"),
    ("peor", S, "worse"),
    ("más débil", S, "worse"),
    ("mas debil", S, "worse"),
    # the patient answers in the other language
    ("much better", S, "better"),
    ("I can't breathe", S, "emergency"),
    ("peor", E, "worse"),
    ("no puedo respirar", E, "emergency"),
    # odd input
    ("", E, "unclear"),
    ("   ", E, "unclear"),
    ("😀", E, "unclear"),
    ("👍👍👍", E, "unclear"),
    ("\x00\x01\x1b[31m", E, "unclear"),
    ("None", E, "unclear"),
    ("null", S, "unclear"),
    ("a" * 5000, E, "unclear"),
    ("ok", E, "unclear"),
    ("\u202e\u200b", E, "unclear"),
]


@pytest.mark.parametrize(("text", "language", "expected"), CASES)
def test_classify(text: str, language: str, expected: str) -> None:
    result = classify(text, language)
    assert isinstance(result, Triage)
    assert result.category == expected, result
    if expected != "unclear":
        assert result.reasons, result


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize(
    ("text", "language", "mention"),
    [
        ("no numbness", E, "negated red flag: numbness"),
        ("denies chest pain", E, "negated red flag: chest pain"),
        ("no numbness, just the usual weakness", E, "negated red flag: numbness"),
        ("my face is not drooping", E, "negated red flag"),
        ("numbness gone", E, "negated red flag: numbness"),
        ("no me falta el aire", S, "negated red flag: me falta el aire"),
        ("sin dolor en el pecho", S, "negated red flag"),
        ("if I get short of breath I'll call 911", E, "conditional red flag: short of breath"),
        ("I pass out every day", E, "chronic red flag"),
    ],
)
def test_suppressed_red_flags_need_review(text: str, language: str, mention: str) -> None:
    # The rules' reading: the learned reader may add an emergency on top (test_learned.py).
    result = classify_rules(text, language)
    assert result.category != "emergency"
    assert result.needs_review
    assert any(mention in reason for reason in result.reasons), result.reasons


@pytest.mark.parametrize(
    "text",
    ["I'll call 911 if it gets bad", "stroke of luck", "had a stroke in 2018, legs the same"],
)
def test_harmless_mentions_do_not_need_review(text: str) -> None:
    assert not classify(text).needs_review


def test_reasons_name_the_deciding_words() -> None:
    assert classify("I can't breathe").reasons[0] == "red flag: cannot breathe"
    assert classify("3").reasons == ("menu: 3",)
    assert "worse: weaker" in classify("weaker").reasons


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("mejor", E, "es"),
        ("much better", S, "en"),
        ("2", S, "es"),
        ("2", E, "en"),
        ("no puedo respirar", E, "es"),
        ("I can't breathe", S, "en"),
        ("😀", S, "es"),
    ],
)
def test_language_is_the_one_written(text: str, language: str, expected: str) -> None:
    assert classify(text, language).language == expected


@pytest.mark.parametrize(
    ("text", "category", "opt_out"),
    [
        ("stop texting me", "unclear", True),
        ("take me off this list", "unclear", True),
        ("no más mensajes", "unclear", True),
        ("no me escriban más", "unclear", True),
        ("2 and please stop the messages", "same", True),
        ("stop texting me, I can't breathe", "emergency", True),
        ("the weakness won't stop", "unclear", False),
        ("STOP IT", "unclear", False),
        ("2", "same", False),
    ],
)
def test_opt_out_intent(text: str, category: str, opt_out: bool) -> None:
    result = classify(text)
    assert (result.category, result.opt_out_intent) == (category, opt_out)


def test_red_flag_at_the_end_of_a_long_message_is_found() -> None:
    text = "blah " * 990 + "I can't breathe"
    assert len(text) > 4900
    assert classify(text).category == "emergency"


def test_unknown_language_and_non_string_input_never_raise() -> None:
    assert classify("2", "fr").category == "same"
    assert classify(None, "en").category == "unclear"  # type: ignore[arg-type]
    assert classify(12345, "es").category == "unclear"  # type: ignore[arg-type]


def test_deterministic() -> None:
    text = "no numbness but I suddenly can't move my leg"
    assert len({classify(text) for _ in range(5)}) == 1


def test_core_imports_only_the_standard_library() -> None:
    root = Path(__file__).resolve().parents[2] / "service" / "core" / "triage"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("service.core"), (
                    f"{path.name} imports {name}"
                )


def test_vocabulary_is_not_read_at_import_time() -> None:
    code = (
        "import service.triage\n"
        "from service.core.triage.vocab import raw_vocabulary\n"
        "assert raw_vocabulary.cache_info().currsize == 0\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


@pytest.mark.parametrize(
    "text",
    [
        "2",
        "igual",
        "",
        "me siento igual que ayer, nada nuevo",  # Spanish words: the language is the text's
        "the same as yesterday, nothing new",
        "ok 2 ok 2 ok 2 ok 2 ok 2",  # no language's words: the stored one breaks the tie
        "I suddenly can't move my arm and my face is drooping",
    ],
)
def test_a_look_reads_once_and_classifies_for_any_language(text: str, monkeypatch: Any) -> None:
    # The reference: every language classified on its own, read from scratch, no cache.
    expected = {lang: classifier._guarded(text, lang, learned=True) for lang in (E, S, "fr")}
    reads: list[str] = []
    real = classifier._read

    def counting(read: str) -> Any:
        reads.append(read)
        return real(read)

    monkeypatch.setattr(classifier, "_read", counting)
    look = Look(text)
    for language, triage in expected.items():
        assert look.triage(language) == triage
    if len(text) > classifier.SHORT_TEXT:
        assert len(reads) <= 1
    else:  # a short reply is read once per process and stored language, then remembered
        reads.clear()
        assert [Look(text).triage(language) for language in expected] == list(expected.values())
        assert reads == []


def test_a_look_of_odd_input_never_raises() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise ValueError("no")

    assert Look(Unprintable()).triage().reasons == ("could not read the message",)
    assert Look(None).triage("es") == Triage("unclear", ("empty message",), "es", False, False)
