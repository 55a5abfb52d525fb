"""Text translation by a local instruction-tuned LLM (a GGUF file) through llama.cpp (xllamacpp).

Each sentence is its own chat request, decoded greedily, with at most ``extra_tokens`` plus
``length_ratio`` tokens per source character. The answer is cleaned of what chat models add
(labels, quotes, notes, a second line of commentary), then checked (``script_check``): an empty
answer, the source echoed back, the wrong script for the target or a decoding loop (stopped as
soon as it shows) is asked again with a stricter prompt, up to ``max_retries`` times. An answer
that passes is then checked for what small models drop (``faithfulness``: a negation, a number,
a name, a question) and asked again with the problem stated, ``faithfulness_retries`` times
within that budget; a good answer over the request's length budget (``max_chars``) is asked for
shorter once, unless it is the plain translation word for word. Under a budget, a sentence
keeps the translation this object already gave it (cleanly) when that fits its share of the
budget, when the sentence is one or two words (there is no shorter rendering worth an answer)
or when the budgeted answer is no shorter. The best candidate is kept and its problems
reported as flags. The previous line, when this object
translated it, is given as an earlier turn of the chat, so pronouns and word senses follow it.
"""
from __future__ import annotations

import importlib.util
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from dubkit.errors import (
    BackendUnavailable,
    DubkitError,
    InputError,
    ModelUnavailable,
    UnsupportedLanguage,
)
from dubkit.languages import NO_SPACE, SYLLABIC_SCRIPT, is_language, language_name
from dubkit.translate.base import TranslationRequest
from dubkit.translate.faithfulness import Finding, check_faithfulness, retry_note
from dubkit.translate.llm_text import (
    clean_output,
    join_sentences,
    split_sentences,
    unshout,
)
from dubkit.translate.script_check import (
    FLAG_ECHO,
    FLAG_EMPTY,
    FLAG_REPETITIVE,
    FLAG_WRONG_SCRIPT,
    collapse_repeats,
    is_repetitive,
    translation_flags,
)

# What Qwen2.5 translates with some confidence; other models: pass ``languages``.
DEFAULT_LANGUAGES = frozenset(
    "en ja zh ko es fr de it pt ru nl pl tr ar vi th id hi".split()
)
FLAG_TOO_LONG = "translation-too-long"  # no candidate fitted the request's max_chars
# A good answer over its length budget is asked for shorter this many times: on the 60 s
# benchmark input into Japanese, the second length retry fitted 0 of 12 times it was made (the
# first: 2 of 14), and each costs a whole answer (BENCHMARKS.md, "Shortening").
_LENGTH_RETRIES = 1
# A sentence of fewer words ("Hello.", "Thank you.", "Okay.") is not asked for a shorter
# rendering: on the same input into Japanese, the 7 such sentences (budgets of 1-3 characters)
# met their budget in none of 15 answers. It keeps the translation it had.
MIN_SHORTEN_WORDS = 3

GenerateFn = Callable[[list[dict[str, str]], int], str]  # (chat messages, max tokens) -> reply

# How bad each problem is when choosing among failed candidates: any text beats none.
_SEVERITY = {FLAG_EMPTY: 4, FLAG_REPETITIVE: 3, FLAG_ECHO: 2, FLAG_WRONG_SCRIPT: 1}
_MEMORY = 256  # past lines (and sentences) remembered as context for the next ones
# Earlier turns a running chat keeps before it starts again from its last turn. Each call then
# adds only its own turn to what llama.cpp has cached; a history rebuilt for every call was
# recomputed whole (about 0.9 s of a 1.7 s Spanish sentence on 2 cores, the live preset).
# Only a chat's first turn carries the instruction: the later ones are the bare sentence, as
# the earlier turns show what is asked, and each instruction read again cost about 17 prompt
# tokens (0.3 s on 2 cores) a sentence.
_CHAIN_TURNS = 4
# A streamed answer is judged by the script checks (echo, wrong script) once it holds this many
# characters, before any of it is handed out: enough to tell Spanish from echoed English. Kana,
# kanji and Hangul tell their script in fewer, and hold more speech each (``SYLLABIC_SCRIPT``).
_JUDGE_CHARS = 12
_JUDGE_CHARS_SYLLABIC = 6
_PLAIN = "Translate the following {src} text into {tgt}. Output only the translation."
_SYSTEM = (
    "You are a professional {src} to {tgt} translator. You answer with the {tgt} translation "
    "and nothing else."
)
_MAX_TOKENS = 512  # per sentence, whatever its length

_SCRIPT_WORDS = {
    "ja": "Japanese characters (kana and kanji)", "zh": "Chinese characters",
    "ko": "Hangul", "ru": "Cyrillic letters", "uk": "Cyrillic letters", "el": "Greek letters",
    "ar": "Arabic script", "hi": "Devanagari", "th": "Thai script", "he": "Hebrew letters",
}  # fmt: skip


class LlamaCppTranslator:
    """A ``TextTranslator`` over a chat GGUF model (Qwen2.5-Instruct and the like).

    ``model_path`` is a ``.gguf`` file or a folder holding one (``model.gguf`` when several);
    ``n_threads`` 0 uses every core this process may run on; ``context`` shows the model the
    request's previous line with the translation this object gave it (the next line is not
    used: see ``_history``). ``faithfulness`` checks each answer for a lost negation, number, name
    or question; ``faithfulness_retries`` of the ``max_retries`` may go to asking again (0: flag
    only). ``generate`` replaces the engine (tests, other runtimes): it takes the chat messages and
    a token bound and returns the reply.
    """

    def __init__(
        self,
        model_path: str | Path,
        n_ctx: int = 2048,
        n_threads: int = 0,
        max_retries: int = 2,
        languages: Sequence[str] | str | None = None,
        name: str | None = None,
        context: bool = True,
        length_ratio: float = 1.0,
        extra_tokens: int = 16,
        faithfulness: bool = True,
        faithfulness_retries: int = 1,
        generate: GenerateFn | None = None,
    ) -> None:
        if (n_ctx < 256 or n_threads < 0 or max_retries < 0 or length_ratio <= 0
                or extra_tokens < 0 or faithfulness_retries < 0):
            raise InputError(
                "n_ctx must be at least 256, n_threads, max_retries and faithfulness_retries at "
                f"least 0, length_ratio above 0 (got n_ctx={n_ctx}, n_threads={n_threads}, "
                f"max_retries={max_retries}, faithfulness_retries={faithfulness_retries}, "
                f"length_ratio={length_ratio})"
            )
        if generate is None and importlib.util.find_spec("xllamacpp") is None:
            raise BackendUnavailable(
                "the llm translator needs xllamacpp: pip install 'dubkit[cpu]'"
            )
        self.path = find_gguf(model_path) if generate is None else Path(model_path)
        folder = self.path.parent if self.path.suffix else self.path
        self.name = name or f"llamacpp:{folder.name}"
        self.languages = _parse_languages(languages)
        self.n_ctx = n_ctx
        self.n_threads = n_threads or len(os.sched_getaffinity(0))
        self.max_retries = max_retries
        self.context = context
        self.length_ratio = length_ratio
        self.extra_tokens = extra_tokens
        self.faithfulness = faithfulness
        self.faithfulness_retries = faithfulness_retries
        self._generate = generate
        self._server = None
        self._lock = threading.Lock()
        self._memory: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        # the running chat: earlier turns (user, assistant), oldest first, for one language pair
        self._chain: list[dict[str, str]] = []
        self._chain_key: tuple[str, str, str] | None = None  # (source, target, its last sentence)
        self.answers = 0  # answers the model has written since this object was made

    def translate(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[str]:
        """One translation per request, in order."""
        return [text for text, _ in self.translate_with_flags(requests, source, target)]

    def translate_with_flags(
        self, requests: Sequence[TranslationRequest], source: str, target: str
    ) -> list[tuple[str, tuple[str, ...]]]:
        """``(translation, flags)`` per request; flags name what failed the output checks
        (``script_check.FLAG_*``, ``faithfulness.FLAG_*``, ``FLAG_TOO_LONG``), empty when the
        translation passed."""
        source, target = self._check(source), self._check(target)
        if source == target:
            return [(request.text, ()) for request in requests]
        results = []
        for request in requests:
            sentences = split_sentences(unshout(request.text))
            plain: list[str | None] = [None] * len(sentences)
            if request.max_chars is not None:
                plain = [self._recall(source, target, s) for s in sentences]
            budgets = _share_budget(sentences, plain, request.max_chars, source, target)
            texts, flags = [], []
            for i, (sentence, budget) in enumerate(zip(sentences, budgets, strict=True)):
                # inside a line, a sentence's predecessor is the line's previous sentence
                previous = sentences[i - 1] if i else request.previous
                known = plain[i]
                if known is not None and (budget is None or len(known) <= budget):
                    texts.append(known)  # nothing to ask: it stays as translated
                    continue
                text, sentence_flags = self._sentence(sentence, previous, budget, source, target,
                                                      plain=known)
                if known is not None and len(text) >= len(known):  # no shorter: not better
                    text, sentence_flags = known, ()
                texts.append(text)
                flags.extend(sentence_flags)
            joined = join_sentences(texts, target)
            if request.max_chars is not None and len(joined) > request.max_chars:
                flags.append(FLAG_TOO_LONG)
            results.append((joined, tuple(dict.fromkeys(flags))))
            if not flags and request.max_chars is None:  # a budgeted rendering is no draft
                self._remember(source, target, request.text, joined)
        return results

    streams = True  # llama.cpp hands out each token as it is generated

    def translate_stream(
        self, request: TranslationRequest, source: str, target: str,
        on_text: Callable[[str], None],
    ) -> tuple[str, tuple[str, ...]]:
        """``translate_with_flags`` for one sentence, ``on_text`` called with the cleaned
        answer each time it grows. The answer is judged by the script checks once it holds
        ``_JUDGE_CHARS`` characters (fewer in a syllabic script), before any of it is handed
        out: one that fails (an echo, the wrong script) is never handed out, and is stopped and
        asked again with the problem stated, handed out the same way once its start passes
        (judged whole otherwise); a second failure goes on as ``translate_with_flags`` asks,
        then is handed out whole. The meaning checks judge
        the finished answer; what they find is a flag only, since the answer was handed out. A
        request of several sentences is translated whole, then handed out."""
        source, target = self._check(source), self._check(target)
        sentences = split_sentences(unshout(request.text))
        if source == target or len(sentences) != 1 or request.max_chars is not None \
                or not any(ch.isalpha() for ch in request.text):
            text, flags = self.translate_with_flags([request], source, target)[0]
            on_text(text)
            return text, flags
        sentence = sentences[0]
        history = self._history(request.previous, source, target)
        judge_at = _JUDGE_CHARS_SYLLABIC if target in SYLLABIC_SCRIPT else _JUDGE_CHARS

        def write(messages: list[dict[str, str]], may_stop: bool,
                  ) -> tuple[str, str, tuple[str, ...] | None]:
            """(reply, the part handed out, the script checks' verdict: () passed, None not
            judged); a rejected answer is stopped where it was judged when ``may_stop``."""
            handed, problem = "", None

            def grown(reply: str) -> bool:
                nonlocal handed, problem
                text = clean_output(reply, sentence, (source, target))
                if problem is None and len(text) >= judge_at:
                    problem = translation_flags(sentence, text, source, target) or (
                        (FLAG_ECHO,) if _starts_as_echo(sentence, text) else ())
                if problem and may_stop:
                    return True  # rejected, and it will be asked again: stop writing it
                if problem == () and text.startswith(handed) and len(text) > len(handed):
                    handed = text
                    on_text(text)
                return False

            reply = self._chat(messages, self._max_tokens(sentence), grown)
            return reply, handed, problem

        reply, handed, problem = write(
            history + self._messages(sentence, None, source, target, 0, (),
                                     chained=bool(history)), may_stop=self.max_retries > 0)
        retried = bool(problem) and self.max_retries > 0
        if retried:  # stopped unsaid: asked again, the problem stated. Handed out as it grows
            # once its start passes; otherwise written whole and judged whole, as a batch
            # judges it ("私はChicago" fails at 9 characters, "私はChicagoの出身です。" passes)
            reply, handed, _ = write(
                history + self._messages(sentence, None, source, target, 1, problem),
                may_stop=False)
        text = clean_output(reply, sentence, (source, target))
        flags = translation_flags(sentence, text, source, target)
        if not handed and (flags or problem) and not retried:  # never handed out: as usual
            text, flags = self._sentence(sentence, request.previous, None, source, target, reply)
            on_text(text)
            return text, flags
        if retried and not handed and flags and self.max_retries > 1:  # the retry failed too
            text, flags = self._sentence(sentence, request.previous, None, source, target,
                                         failed=flags, first_attempt=2)
            on_text(text)
            return text, flags
        if handed and not text.startswith(handed):  # cleaning the whole changed what was out
            text = handed
        if is_repetitive(text) and not is_repetitive(sentence):
            flags += (FLAG_REPETITIVE,)
        lost = check_faithfulness(sentence, text, source, target) \
            if self.faithfulness and not flags else ()
        flags += tuple(f.flag for f in lost)
        if not flags:
            self._remember(source, target, sentence, text)
        # a retry's turn is not the plain one the chat's next turns would build on
        self._continue_chain(history, sentence, None if flags or retried else text,
                             source, target)
        if len(text) > len(handed):
            on_text(text)
        return text, tuple(dict.fromkeys(flags))

    def close(self) -> None:
        """Free the model (it is loaded again on the next call) and forget past lines."""
        with self._lock:
            self._server = None
        self.forget()

    def forget(self) -> None:
        """Forget past lines and their translations (the model stays loaded)."""
        with self._lock:
            self._memory.clear()
            self._chain, self._chain_key = [], None

    # -- one sentence --------------------------------------------------------------------

    def _sentence(
        self, sentence: str, previous: str, budget: int | None, source: str, target: str,
        first_reply: str | None = None, failed: tuple[str, ...] = (), plain: str | None = None,
        first_attempt: int | None = None,
    ) -> tuple[str, tuple[str, ...]]:
        """One sentence, asked again while its answer fails the checks; ``first_reply``: the
        answer the first (plain) request already got; ``failed``: the first request was asked
        and its answer, stopped while written, failed these checks (it is no candidate);
        ``plain``: its translation without a budget, when one is known; ``first_attempt``: the
        try to begin with (the tries before it were made, and failed with ``failed``)."""
        if not any(ch.isalpha() for ch in sentence):
            return sentence, ()  # numbers, symbols: nothing to translate
        # an answer that starts to loop is stopped there (the rest would be more of the loop),
        # unless the source itself repeats
        source_loops = is_repetitive(sentence)
        stop = None if source_loops else is_repetitive
        max_tokens = self._max_tokens(sentence)
        history = self._history(previous, source, target)
        candidates = []  # (rank, attempt, text, flags)
        problem: tuple[str, ...] = failed
        lost: tuple[Finding, ...] = ()
        rechecks = self.faithfulness_retries
        length_retries = _LENGTH_RETRIES
        if first_attempt is None:
            first_attempt = 1 if failed else 0
        for attempt in range(first_attempt, self.max_retries + 1):
            messages = history + self._messages(
                sentence, budget, source, target, attempt, problem, lost, chained=bool(history))
            if attempt >= 2:  # greedy decoding repeats itself: change the conversation too
                messages.insert(0, {"role": "system", "content": _SYSTEM.format(
                    src=language_name(source), tgt=language_name(target))})
            reply = first_reply if attempt == 0 and first_reply is not None \
                else self._chat(messages, max_tokens, stop)
            text = clean_output(reply, sentence, (source, target))
            flags = translation_flags(sentence, text, source, target)
            if not source_loops and is_repetitive(text):
                text, flags = collapse_repeats(text), flags + (FLAG_REPETITIVE,)
            # Meaning is judged only on an answer that is a translation at all.
            judge = self.faithfulness and not flags
            lost = check_faithfulness(sentence, text, source, target) if judge else ()
            too_long = budget is not None and len(text) > budget
            severity = sum(_SEVERITY.get(f, 1) for f in flags)
            # a broken answer < one that lost meaning < one over the length budget
            rank = (severity, len(lost), too_long, len(text) if budget is not None else 0)
            candidates.append((rank, attempt, text, flags + tuple(f.flag for f in lost)))
            if not flags and not lost and not too_long:
                break
            if not flags and not lost:  # a good answer, only too long
                if not length_retries or text == plain:  # the budget was not heeded at all
                    break
                length_retries -= 1
            if lost:
                if not rechecks:
                    break
                rechecks -= 1
            problem = flags or ("too-long",)
        _, attempt, text, flags = min(candidates)
        if not flags and budget is None:  # what is remembered is the plain translation
            self._remember(source, target, sentence, text)
        plain = not flags and attempt == 0 and budget is None  # asked as ``_history`` asks
        self._continue_chain(history, sentence, text if plain else None, source, target)
        return text, flags

    def _max_tokens(self, sentence: str) -> int:
        return min(_MAX_TOKENS, self.extra_tokens + int(self.length_ratio * len(sentence)))

    def _messages(
        self, sentence: str, budget: int | None, source: str, target: str, attempt: int,
        problem: tuple[str, ...], lost: tuple[Finding, ...] = (), chained: bool = False,
    ) -> list[dict[str, str]]:
        """The user turn for one try: the plain instruction first (a "short" one under a length
        budget), stricter after a failed check, terser after a too-long answer; after an answer
        that ``lost`` meaning, the first instruction again with the problem stated after the
        sentence. A plain first try that goes on a running chat (``chained``) is the bare
        sentence."""
        if chained and budget is None and not attempt and not problem and not lost:
            return [{"role": "user", "content": sentence}]
        src, tgt = language_name(source), language_name(target)
        instruction = _PLAIN.format(src=src, tgt=tgt)
        if lost:
            first = self._messages(sentence, budget, source, target, 0, ())[0]["content"]
            return [{"role": "user", "content": f"{first}\n\n{retry_note(lost)}"}]
        if attempt and problem != ("too-long",):
            script = _SCRIPT_WORDS.get(target, tgt)
            instruction = (
                f"Translate the following {src} text into {tgt}, written in {script}. Do not "
                f"repeat the {src} text. Reply with the {tgt} translation only: no quotes, no "
                "notes, no explanations."
            )
        elif budget is not None:
            # The 1.5B model cannot count characters; "short ... drop words" shortens without
            # the half-translated answers a bare "at most N characters" gave.
            instruction = (
                f"Give a short {tgt} translation of the following {src} text, at most {budget} "
                "characters: drop words that are not needed, keep the meaning. Output only the "
                "translation."
            )
            if attempt:
                instruction = instruction.replace("short", "very short, terse", 1)
        return [{"role": "user", "content": f"{instruction}\n\n{sentence}"}]

    def _history(self, previous: str, source: str, target: str) -> list[dict[str, str]]:
        """The previous line and its translation as an earlier turn of the chat, when this
        object translated it (cleanly); nothing otherwise. Measured on 12 ambiguous lines this
        resolved pronouns and word senses best ("them" -> "mis llaves", bank -> river bank);
        neighbours pasted into the prompt as marked context helped less and once made the
        model translate the instruction itself."""
        if not self.context or not previous.strip():
            return []
        with self._lock:
            if self._chain and self._chain_key == (source, target, _last_sentence(previous)):
                return list(self._chain)  # the chat goes on: earlier turns are cached already
            done = self._memory.get(_memory_key(source, target, previous))
        if done is None:
            return []
        return [_plain_turn(previous, source, target), {"role": "assistant", "content": done}]

    def _continue_chain(self, history: list[dict[str, str]], sentence: str,
                        translation: str | None, source: str, target: str) -> None:
        """The running chat after this sentence: ``history`` and its turn as it was asked
        plainly (bare on a running chat), answered with ``translation`` (None: it was not, so
        the chat starts again); from its last turn alone, instruction restored, once it holds
        more than ``_CHAIN_TURNS`` earlier turns."""
        with self._lock:
            if translation is None or not self.context:
                self._chain, self._chain_key = [], None
                return
            answer = {"role": "assistant", "content": translation}
            if history and len(history) < 2 * _CHAIN_TURNS:  # asked bare, as the chat goes on
                self._chain = history + [{"role": "user", "content": sentence}, answer]
            else:  # a first turn, or the chat starts again from this one: with the instruction
                self._chain = [_plain_turn(sentence, source, target), answer]
            self._chain_key = (source, target, _last_sentence(sentence))

    def _recall(self, source: str, target: str, text: str) -> str | None:
        """The translation this object last gave ``text`` cleanly, if it remembers one."""
        with self._lock:
            return self._memory.get(_memory_key(source, target, text))

    def _remember(self, source: str, target: str, text: str, translation: str) -> None:
        with self._lock:
            key = _memory_key(source, target, text)
            self._memory[key] = translation
            self._memory.move_to_end(key)
            while len(self._memory) > _MEMORY:
                self._memory.popitem(last=False)

    # -- the engine ----------------------------------------------------------------------

    def _chat(self, messages: list[dict[str, str]], max_tokens: int,
              on_reply: Callable[[str], bool | None] | None = None) -> str:
        """The model's reply; ``on_reply`` is called with the reply so far as it grows (a
        ``generate`` stand-in's reply is handed out word by word), and a true answer from it
        stops the writing there."""
        with self._lock:
            self.answers += 1
        if self._generate is not None:
            reply = self._generate(messages, max_tokens)
            for match in re.finditer(r"\S+", reply) if on_reply is not None else ():
                if on_reply(reply[:match.end()]):
                    return reply[:match.end()]
            return reply
        request = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "top_k": 1,
            "cache_prompt": True,  # the instruction prefix is shared by every call
        }
        if on_reply is None:
            reply = self._engine().handle_chat_completions(request)
            if "error" in reply:
                raise DubkitError(f"{self.name} failed: {reply['error'].get('message', reply)}")
            return reply["choices"][0]["message"].get("content") or ""
        return self._chat_streamed(request, on_reply)

    def _chat_streamed(self, request: dict, on_reply: Callable[[str], bool | None]) -> str:
        """The reply of a streamed request, as far as ``on_reply`` let it be written. The
        engine calls back from native code, where a Python exception would be lost: the first
        one stops the engine, and is kept and raised after the call."""
        pieces: list[str] = []
        failure: list[BaseException] = []

        def chunk(data: dict) -> bool:  # True stops the engine writing
            try:
                if "error" in data:
                    raise DubkitError(f"{self.name} failed: "
                                      f"{data['error'].get('message', data)}")
                for choice in data.get("choices", ()):
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        pieces.append(delta)
                        if on_reply("".join(pieces)):
                            return True
            except BaseException as exc:  # noqa: BLE001 - raised again below
                failure.append(exc)
                return True
            return False

        self._engine().handle_chat_completions({**request, "stream": True}, chunk)
        if failure:
            raise failure[0]
        return "".join(pieces)

    def _engine(self):
        """The llama.cpp server, loaded on first use and kept."""
        with self._lock:
            if self._server is None:
                import xllamacpp as xlc

                params = server_params(self.path, self.n_ctx, self.n_threads)
                try:
                    with _quiet_stderr():
                        self._server = xlc.Server(params)
                except Exception as exc:  # the binding raises plain RuntimeError
                    raise ModelUnavailable(
                        f"llama.cpp cannot load {self.path}: {str(exc).splitlines()[0] or exc!r}"
                    ) from exc
            return self._server

    def _check(self, code: str) -> str:
        norm = (code or "").strip().lower()
        if norm not in self.languages:
            raise UnsupportedLanguage(
                f"{self.name} cannot translate {language_name(norm)} ({norm or 'empty'}); "
                f"it knows: {', '.join(sorted(self.languages))}"
            )
        return norm


def _plain_turn(text: str, source: str, target: str) -> dict[str, str]:
    """The user turn that asks for ``text`` plainly: a first try with no chat to go on, and a
    chat's first turn (the same bytes each time, so llama.cpp's prompt cache holds)."""
    src, tgt = language_name(source), language_name(target)
    return {"role": "user", "content": f"{_PLAIN.format(src=src, tgt=tgt)}\n\n{text}"}


def server_params(path: Path, n_ctx: int, n_threads: int, slots: int = 1):
    """xllamacpp's ``CommonParams`` for a greedy llama.cpp server of the GGUF model at
    ``path``: ``n_ctx`` tokens of context for each of ``slots`` sequences decoded together."""
    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = str(path)
    params.n_ctx = n_ctx * slots
    params.n_parallel = slots
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.sampling.temp = 0.0
    params.sampling.top_k = 1
    params.verbosity = 0
    # xllamacpp always opens an HTTP port on 127.0.0.1; a random key keeps other local users
    # out (the Python calls bypass it).
    params.api_keys = [secrets.token_hex(16)]
    params.ui = False
    params.endpoint_slots = False
    params.n_threads_http = 1
    return params


def _starts_as_echo(source: str, partial: str) -> bool:
    """Whether the start of an answer is the start of its source, letter for letter (case and
    punctuation aside): an echo in the making, which the whole-answer check cannot see yet. A
    translation that opens with the same name is taken for one too, and then merely not
    streamed."""
    def letters(text: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())

    return letters(source).startswith(letters(partial))


def _last_sentence(text: str) -> str:
    """The last sentence of ``text`` as the translator splits it, spaces collapsed: what a
    request's ``previous`` line shares with the turn that ended it."""
    sentences = split_sentences(unshout(text))
    return " ".join((sentences[-1] if sentences else text).split())


def find_gguf(model_path: str | Path) -> Path:
    """The GGUF file of ``model_path``: the file itself, or the one ``.gguf`` in the folder
    (``model.gguf`` when there are several; the first part of a split model)."""
    path = Path(model_path)
    if path.is_file() and path.suffix == ".gguf":
        return path
    if not path.is_dir():
        raise ModelUnavailable(f"no GGUF model at {path}: not a folder or a .gguf file")
    files = sorted(path.glob("*.gguf"))
    parts = [f for f in files if re.search(r"-0*1-of-\d+\.gguf$", f.name)]
    if (path / "model.gguf").is_file():
        return path / "model.gguf"
    if len(files) == 1:
        return files[0]
    if len(parts) == 1 and all(re.search(r"-\d+-of-\d+\.gguf$", f.name) for f in files):
        return parts[0]
    found = ", ".join(f.name for f in files) or "none"
    raise ModelUnavailable(f"{path} must hold one .gguf file (or model.gguf); found: {found}")


def _parse_languages(languages: Sequence[str] | str | None) -> frozenset[str]:
    if languages is None:
        return DEFAULT_LANGUAGES
    codes = languages.replace(",", " ").split() if isinstance(languages, str) else languages
    norm = frozenset(c.strip().lower() for c in codes if c.strip())
    bad = sorted(c for c in norm if not is_language(c))
    if bad or not norm:
        raise InputError(f"languages must be ISO 639-1 codes; not: {', '.join(bad) or 'empty'}")
    return norm


def _memory_key(source: str, target: str, text: str) -> tuple[str, str, str]:
    """Where the translation of ``text`` is remembered: the same words, however spaced."""
    return source, target, " ".join(text.split())


def _words(sentence: str, language: str) -> int:
    """About how many words ``sentence`` holds: a word is two letters in a script written
    without spaces (ja, zh: the characters of 'arigatou' make two)."""
    if language in NO_SPACE:
        return sum(ch.isalnum() for ch in sentence) // 2
    return len(re.findall(r"\w+", sentence))


def _share_budget(sentences: list[str], plain: list[str | None], max_chars: int | None,
                  source: str, target: str) -> list[int | None]:
    """Each sentence's part of a request's character budget (``None``: not asked for shorter).

    Sentences of one or two words are not asked (``MIN_SHORTEN_WORDS``). Where every sentence's
    plain translation (``plain``) is known, the others share out what the whole must lose, in
    proportion to their translations' lengths, since short sentences keep all of theirs;
    otherwise the budget is shared in proportion to the source sentences' lengths."""
    if max_chars is None:
        return [None] * len(sentences)
    asked = [_words(s, source) >= MIN_SHORTEN_WORDS for s in sentences]
    if any(p is None for p in plain):
        total = sum(len(s) for s in sentences) or 1
        return [max(1, max_chars * len(s) // total) if ask else None
                for s, ask in zip(sentences, asked, strict=True)]
    known = [p or "" for p in plain]
    whole = len(join_sentences(known, target))
    losable = sum(len(p) for p, ask in zip(known, asked, strict=True) if ask)
    if whole <= max_chars or not losable:
        return [None] * len(sentences)  # fits already, or nothing can be asked to give
    cut = whole - max_chars
    return [max(1, len(p) - -(-cut * len(p) // losable)) if ask else None  # its part, rounded up
            for p, ask in zip(known, asked, strict=True)]


@contextmanager
def _quiet_stderr():
    """Send file descriptor 2 to /dev/null while llama.cpp loads (it logs from C, which
    ``sys.stderr`` cannot catch), then put it back."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded, closed): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)



# -- sentences and answers (pure text) -----------------------------------------------------

__all__ = ["DEFAULT_LANGUAGES", "FLAG_TOO_LONG", "LlamaCppTranslator", "clean_output",
           "find_gguf", "join_sentences", "split_sentences"]
