# ruff: noqa: RUF001  (Russian rationales are the subject: Cyrillic letters that look Latin are meant)
"""Signals in a rationale, whatever the word form: the lexicon's phrases in Russian (every form of their words)
and English (by stem), in order, within a sentence; neutral rationales give nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.decisions.rationale_signals import lexicon, rationale_signals


def found(text: str) -> list[tuple[str, str]]:
    return [(item.signal.value, item.phrase) for item in rationale_signals(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Russian: tense, gender, number, person
        ("Я чувствую, что это сработает.", [("feeling", "чувствую")]),
        ("Я чувствовала, что это сработает.", [("feeling", "чувствовала")]),
        ("Мы чувствовали подвох.", [("feeling", "чувствовали")]),
        ("Нам казалось, что пора.", [("feeling", "Нам казалось")]),
        ("Мне кажется, видео зайдёт.", [("feeling", "Мне кажется")]),
        ("Решили по ощущениям.", [("feeling", "по ощущениям")]),
        ("Интуиция подсказывает, что надо.", [("feeling", "Интуиция")]),
        ("Тут всё очевидно.", [("certainty", "очевидно")]),
        ("Очевидные вещи не проверяем.", [("certainty", "Очевидные")]),
        ("Я абсолютно уверена в успехе.", [("certainty", "Я абсолютно уверена")]),
        ("Мы уверены, что это сработает.", [("certainty", "Мы уверены")]),
        ("Руководство решило сменить агентство.", [("authority", "Руководство решило")]),
        ("Руководство уже решило за нас.", [("authority", "Руководство уже решило")]),
        ("Собственник сказал запускать.", [("authority", "Собственник сказал")]),
        ("Собственница сказала запускать.", []),  # another word: extend the lexicon to take it
        ("Директор по маркетингу хочет ТВ.", [("authority", "Директор по маркетингу хочет")]),
        ("Говорят, это работает.", [("hearsay", "Говорят")]),
        ("Все так делают.", [("hearsay", "Все так делают")]),
        ("Все знают, что email мёртв.", [("hearsay", "Все знают")]),
        ("Как известно, видео продаёт.", [("hearsay", "Как известно")]),
        # English: inflections by stem, irregular forms as phrases of their own
        ("I feel this will work.", [("feeling", "I feel")]),
        ("We are feeling good about it.", [("feeling", "We are feeling")]),
        ("I felt it was time.", [("feeling", "I felt")]),
        ("My gut says yes.", [("feeling", "My gut"), ("feeling", "gut says")]),
        ("Intuitively, video wins.", [("feeling", "Intuitively")]),
        ("Obviously video wins.", [("certainty", "Obviously")]),
        ("I'm sure it will convert.", [("certainty", "I'm sure")]),
        ("I am absolutely certain.", [("certainty", "I am absolutely certain")]),
        ("The CEO wants a TV campaign.", [("authority", "The CEO wants")]),
        ("The CEO really wanted it.", [("authority", "The CEO really wanted")]),
        ("Management decided to cut search.", [("authority", "Management decided")]),
        ("Everyone knows video converts.", [("hearsay", "Everyone knows")]),
        ("Everybody does it this way.", [("hearsay", "Everybody does")]),
        ("I heard competitors moved to TikTok.", [("hearsay", "I heard")]),
        # several signals, in order; a phrase once
        (
            "Obviously the CEO wants it, and I feel it too. Obviously.",
            [("certainty", "Obviously"), ("authority", "the CEO wants"), ("feeling", "I feel")],
        ),
        ("По-моему, руководство решило верно.", [("feeling", "По-моему"), ("authority", "руководство решило")]),
    ],
)
def test_phrases_are_found_whatever_the_word_form(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Я не чувствую уверенности.", [("feeling", "чувствую")]),
        ("I don't feel sure about it.", [("feeling", "I don t feel")]),
    ],
)
def test_negation_does_not_cancel_feeling_language(text, expected):
    """Documented in the lexicon: "не чувствую" and "I don't feel" still speak in feelings."""
    assert [(signal, phrase.replace("'", " ")) for signal, phrase in found(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Paid search converts at 3.4% against 0.6% for display over the last quarter (GA4, report 123).",
        "Make sure the budget follows the data: CPA fell from 52 to 37 EUR after the A/B test.",
        "The A/B test on 40,000 sessions showed a 12% lift with p = 0.01; we roll out to all traffic.",
        "Everyone on the team reviewed the cohort report; churn fell 3 points.",  # "everyone" without "knows"
        "Customers said in 212 interviews that the price is the blocker.",
        "Конверсия платного поиска 3,4% против 0,6% у медийной рекламы за квартал по данным GA4.",
        "Эксперимент на 40 000 сессий показал рост на 12%; раскатываем на весь трафик.",
        "По данным CRM, у всех каналов, кроме email, стоимость лида выросла.",
        "Руководство получило отчёт с когортами; отток снизился на 3 пункта.",
        "Все каналы проверены в сквозной аналитике, решение по данным.",
        "Директор по маркетингу утвердил бюджет по результатам теста.",
    ],
)
def test_neutral_rationales_give_nothing(text):
    assert found(text) == []


def test_a_phrase_does_not_reach_across_sentences_or_too_far():
    assert found("The CEO. Wants nothing.") == []
    assert found("The CEO of the whole holding group wants TV.") == []  # more than two words between
    assert found("Руководство. Решило всё само.") == []


def test_the_lexicon_is_a_data_file_that_extends(tmp_path: Path):
    own = tmp_path / "lexicon.toml"
    own.write_text(
        '[authority]\nru = ["собственница сказала", "=велели"]\nen = ["the chairman insists"]\n'
        '[hearsay]\nen = ["rumour has it"]\nru = []\n',
        encoding="utf-8",
    )
    table = lexicon(own)
    assert [(s.signal.value, s.phrase) for s in rationale_signals("Собственницы сказали: делаем.", table)] == [
        ("authority", "Собственницы сказали")
    ]
    assert [s.phrase for s in rationale_signals("Нам велели. Нам велел директор.", table)] == ["велели"]
    assert [s.phrase for s in rationale_signals("The chairman insisted; rumour has it", table)] == [
        "The chairman insisted",
        "rumour has it",
    ]
