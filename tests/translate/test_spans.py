"""Sentences across lines: grouping the lines, joining their text, sharing a translation out."""
from __future__ import annotations

import pytest

from dubkit.translate.spans import (
    MAX_GAP,
    PASSAGE_GAP,
    PASSAGE_SPAN,
    joined_source,
    passages,
    sentence_spans,
    share_out,
    words_by_line,
)
from dubkit.types import Segment, Word

JFK = [  # as Whisper base transcribes the three lines the sample's pauses make
    Segment("seg-0001", 0.30, 2.20, "S1", "And so my fellow Americans"),
    Segment("seg-0002", 2.90, 4.10, "S1", "ASK NOT!"),
    Segment("seg-0003", 4.60, 9.90, "S1",
            "what your country can do for you, ask what you can do for your country."),
]


def test_a_sentence_cut_by_pauses_is_one_span_and_reads_as_one_sentence():
    assert sentence_spans(JFK) == [[0, 1, 2]]
    assert joined_source(JFK, [0, 1, 2]) == (
        "And so my fellow Americans ask not what your country can do for you, ask what you "
        "can do for your country.")


def test_finished_sentences_other_speakers_and_long_pauses_end_a_span():
    lines = [
        Segment("a", 0.0, 1.0, "S1", "It is late."),
        Segment("b", 1.2, 2.0, "S1", "We should go"),
        Segment("c", 2.2, 3.0, "S2", "home now"),  # another speaker: not B's sentence
        Segment("d", 3.1, 4.0, "S2", "I think"),
        Segment("e", 4.0 + MAX_GAP + 0.1, 6.0, "S2", "so too"),  # after a long pause
        Segment("f", 6.1, 7.0, "S2", ""),  # nothing said: never joined
    ]
    assert sentence_spans(lines) == [[0], [1], [2, 3], [4], [5]]


def test_spans_follow_time_order_whatever_the_list_order():
    shuffled = [JFK[2], JFK[0], JFK[1]]
    assert sentence_spans(shuffled) == [[1, 2, 0]]


def test_a_very_long_unpunctuated_run_is_cut():
    lines = [Segment(f"s{i}", 4.0 * i, 4.0 * i + 3.5, "S1", "and then we talked") for i in range(8)]
    spans = sentence_spans(lines)
    assert len(spans) > 1
    assert all(lines[s[-1]].end - lines[s[0]].start <= 20.0 for s in spans)
    assert sorted(i for s in spans for i in s) == list(range(8))


def test_the_translation_is_shared_by_time_at_commas():
    text = ("Y así, mis compatriotas, no pregunten qué puede hacer su país por ustedes, "
            "pregunten qué pueden hacer ustedes por su país.")
    pieces = share_out(text, [2.0, 4.0, 3.5], "es")
    assert pieces == ["Y así, mis compatriotas,",
                      "no pregunten qué puede hacer su país por ustedes,",
                      "pregunten qué pueden hacer ustedes por su país."]


@pytest.mark.parametrize("weights", [[1, 1], [1, 3], [3, 1], [1, 1, 1, 1]])
def test_pieces_follow_the_weights_between_words(weights):
    words = [f"w{i:02d}" for i in range(40)]
    text = " ".join(words)
    pieces = share_out(text, weights, "en")
    assert " ".join(pieces) == text
    assert all(set(p.split()) <= set(words) for p in pieces)  # no word is cut
    shares = [len(p) / len(text) for p in pieces]
    for share, w in zip(shares, weights):
        assert share == pytest.approx(w / sum(weights), abs=0.06)


def test_unspaced_text_is_cut_after_its_commas():
    text = ("そして、アメリカ国民の皆さん、国があなたのために何ができるかを問うのではなく、"
            "あなたが国のために何ができるかを問うてください。")
    pieces = share_out(text, [1.0, 2.0, 2.0], "ja")
    assert "".join(pieces) == text
    assert pieces[0].endswith("、") and pieces[1].endswith("、")


def test_fewer_words_than_lines_leaves_the_last_lines_empty():
    assert share_out("Hola amigo", [1, 1, 1], "es") == ["Hola", "amigo", ""]
    assert share_out("", [1, 2], "es") == ["", ""]
    assert share_out("Sí", [1], "es") == ["Sí"]
    assert share_out("uno dos", [0, 0], "es") == ["uno", "dos"]  # no time known: even shares


def test_a_speakers_close_lines_are_one_passage_until_a_pause_another_speaker_or_30_s():
    lines = [
        Segment("a", 0.0, 2.0, "S1"),
        Segment("b", 2.0 + PASSAGE_GAP - 0.1, 5.0, "S1"),  # a pause under the gap: joins
        Segment("c", 5.5, 6.0, "S2"),  # another speaker
        Segment("d", 6.2, 7.0, "S1"),  # S1 again, after S2: a new passage
        Segment("e", 7.0 + PASSAGE_GAP, 9.0, "S1"),  # a pause of the whole gap: a new one
        Segment("f", 9.5, 9.1 + PASSAGE_SPAN, "S1"),  # would make the passage too long
    ]
    assert passages(lines) == [[0, 1], [2], [3], [4], [5]]
    assert passages([lines[1], lines[0]]) == [[1, 0]]  # time order, whatever the list order


def test_close_lines_of_any_speaker_are_one_passage_but_overlapping_ones_are_not():
    lines = [
        Segment("a", 0.0, 2.0, "S1"),
        Segment("b", 2.5, 4.0, "S2"),  # another speaker, close: joins
        Segment("c", 3.5, 5.0, "S1"),  # starts inside b (overlapping speech): heard apart
        Segment("d", 5.2, 6.0, "S2"),
        Segment("e", 6.0 + PASSAGE_GAP, 9.0, "S1"),  # a pause of the whole gap: a new one
    ]
    assert passages(lines, any_speaker=True) == [[0, 1], [2, 3], [4]]
    assert passages(lines) == [[0], [1], [2], [3], [4]]


def test_words_go_to_the_line_their_middle_falls_in_or_the_nearest():
    lines = [(10.0, 12.0), (13.0, 15.0)]
    words = [Word(" And", 0.0, 0.5), Word(" so,", 1.5, 2.3),  # middle 11.9: the first line
             Word(" ask", 2.4, 3.2),  # middle 12.8, in the pause: nearer the second line
             Word(" not.", 3.5, 4.0)]
    assert words_by_line(words, 10.0, lines) == ["And so,", "ask not."]
    assert words_by_line([Word("国", 0.1, 0.2), Word("が", 0.3, 0.4)], 10.0, lines) \
        == ["国が", ""]  # unspaced scripts stay unspaced; a line no word fell in is empty
    assert words_by_line(words, 10.0, []) == []
