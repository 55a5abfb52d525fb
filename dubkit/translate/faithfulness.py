"""Checks that a translation kept what small models drop: a negation, a number, a name, a
question.

Pure functions over one source sentence and its translation; each check gives a ``Finding`` (or
None) whose ``problem`` says in English what was lost, so a translator can state it when it asks
again, and whose ``flag`` ("translation-negation" ...) marks the line for review. The checks lean
towards silence: the source side looks for unambiguous markers only, the target side accepts any
plausible one, so a finding means "very likely lost" rather than "possibly lost". Languages
without a table here are not checked.

Limits, by design: names are looked for in Latin-script sources other than German (which
capitalises every noun) and only in Latin-script and Japanese targets (Japanese: any katakana or
Latin word counts, as names are transliterated; Chinese and Korean targets are not checked).
Number words are read for en es fr de it pt; Japanese and Chinese numerals (千九百六十一, 300万)
on the target side, and on the source side when they hold more than one numeral character.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from dubkit.translate.script_check import char_script

Check = Literal["negation", "number", "name", "question"]
FLAG_NEGATION = "translation-negation"
FLAG_NUMBER = "translation-number"
FLAG_NAME = "translation-name"
FLAG_QUESTION = "translation-question"
FAITHFULNESS_FLAGS = (FLAG_NEGATION, FLAG_NUMBER, FLAG_NAME, FLAG_QUESTION)


@dataclass(frozen=True)
class Finding:
    """What a translation lost: ``missing`` holds the source's words for it ("not", "1961"),
    ``problem`` a short English statement ("the negation 'not' was dropped"), ``request`` what to
    ask the translator for ("Keep the negation 'not'")."""

    check: Check
    missing: tuple[str, ...]
    problem: str
    request: str

    @property
    def flag(self) -> str:
        return f"translation-{self.check}"


def _words(text: str) -> list[str]:
    """Case-folded words, apostrophes split off ("n'est" -> n, est; "don't" -> don, t)."""
    return re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", text).casefold())


# -- negation --------------------------------------------------------------------------------

# Words that make a sentence negative beyond doubt (source side) ...
_NEGATIONS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "en": "not no never nothing nobody none neither nor nowhere cannot",
    "es": "no nunca jamás ni nada nadie ningún ninguno ninguna ningunos ningunas tampoco",
    "fr": "ne n pas jamais rien aucun aucune ni non nul nulle guère",
    "de": "nicht kein keine keinen keinem keiner keines nie niemals nichts niemand weder "
          "nirgends nirgendwo nein",
    "it": "non mai niente nulla nessuno nessuna nessun né neanche nemmeno neppure",
    "pt": "não nunca jamais nem nada ninguém nenhum nenhuma nenhuns nenhumas tampouco",
}.items()}  # fmt: skip
# ... and the further words a translation may carry the negation with (target side).
_NEGATIONS_TOO: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "en": "without unable impossible neither nor fail failed refuse refused lack lacks",
    "es": "sin", "fr": "sans personne plus", "de": "ohne", "it": "senza", "pt": "sem",
}.items()}  # fmt: skip
# Scripts without spaces: patterns. Words that contain a marker without negating it are
# removed first (少ない "few", 必ず "surely", 不过 "but", 非常 "very", 안녕 "hello").
_CJK_NEGATION = {
    "ja": (r"少な|危な|切な|必ず|^まず|、まず|はず|わずか|ずつ",
           r"ない|なく|なかっ|ません|ず(?=[にとも、。]|$)|ぬ(?=[。、]|$)|まい(?=[。、]|$)"
           r"|[うくすつぬふむゆるぐぶ]な(?=[。、！!」]|$)|いいえ"),
    "zh": (r"不过|不仅|不但|不断|不同|不久|不少|不管|不论|未来|非常|无论",
           r"不|没|別|别|勿|未|无|無|非|莫|甭|否"),
    "ko": (r"안녕|안에|안의|안으로",
           r"않|없|아니|못(?=[하했해한할]|\s)|지\s?마|말고|말라|말아|(?:^|\s)안(?=\s)"),
}
_CJK_NEGATION_TOO = {"ja": r"不|無|非|未|禁止|やめ", "zh": r"", "ko": r"금지|불가"}


def negations(text: str, language: str, strict: bool = True) -> list[str]:
    """The negation markers of ``text`` (in order); ``strict`` keeps only the unambiguous ones,
    as for a source, otherwise every plausible one, as for a translation."""
    if language in _CJK_NEGATION:
        noise, pattern = _CJK_NEGATION[language]
        too = _CJK_NEGATION_TOO[language]
        if not strict and too:
            pattern = f"{pattern}|{too}"
        return re.findall(pattern, re.sub(noise, "", unicodedata.normalize("NFKC", text)))
    words = _NEGATIONS.get(language)
    if words is None:
        return []
    if not strict:
        words = words | _NEGATIONS_TOO.get(language, frozenset())
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    found = [w for w in _words(folded) if w in words]
    if language == "en":
        found += re.findall(r"\b\w+n't\b", folded)
    return found


def check_negation(source: str, target: str, src: str, tgt: str) -> Finding | None:
    """A finding when ``source`` negates and ``target`` holds no negation at all."""
    if tgt not in _NEGATIONS and tgt not in _CJK_NEGATION:
        return None
    said = negations(source, src)
    if not said or negations(target, tgt, strict=False):
        return None
    word = said[0]
    return Finding("negation", tuple(dict.fromkeys(said)),
                   f"the negation '{word}' was dropped", f"Keep the negation '{word}'")


# -- numbers ---------------------------------------------------------------------------------

_UNITS = {
    "en": "zero one two three four five six seven eight nine ten eleven twelve thirteen "
          "fourteen fifteen sixteen seventeen eighteen nineteen",
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
          "quince dieciséis diecisiete dieciocho diecinueve",
    "fr": "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
          "quinze seize",
    "de": "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn "
          "vierzehn fünfzehn sechzehn siebzehn achtzehn neunzehn",
    "it": "zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
          "quattordici quindici sedici diciassette diciotto diciannove",
    "pt": "zero um dois três quatro cinco seis sete oito nove dez onze doze treze catorze "
          "quinze dezesseis dezessete dezoito dezenove",
}
_TENS = {
    "en": "twenty thirty forty fifty sixty seventy eighty ninety",
    "es": "veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa",
    "fr": "vingt trente quarante cinquante soixante septante quatrevingt nonante",
    "de": "zwanzig dreißig vierzig fünfzig sechzig siebzig achtzig neunzig",
    "it": "venti trenta quaranta cinquanta sessanta settanta ottanta novanta",
    "pt": "vinte trinta quarenta cinquenta sessenta setenta oitenta noventa",
}


def _lexicon() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for lang, units in _UNITS.items():
        table = {w: float(i) for i, w in enumerate(units.split())}
        table.update({w: float(20 + 10 * i) for i, w in enumerate(_TENS[lang].split())})
        out[lang] = table
    extra = {
        "es": "un 1 una 1 dieciseis 16 veintiuno 21 veintiún 21 veintidós 22 veintitrés 23 "
              "veinticuatro 24 veinticinco 25 veintiséis 26 veintisiete 27 veintiocho 28 "
              "veintinueve 29 cien 100 ciento 100 doscientos 200 trescientos 300 "
              "cuatrocientos 400 quinientos 500 seiscientos 600 setecientos 700 "
              "ochocientos 800 novecientos 900",
        "fr": "une 1 quatrevingts 80",
        "de": "ein 1 eine 1 einen 1",
        "it": "un 1 una 1 vent 20 trent 30 quarant 40 cinquant 50 sessant 60 settant 70 "
              "ottant 80 novant 90 tré 3",
        "pt": "uma 1 duas 2 quatorze 14 dezasseis 16 dezassete 17 dezanove 19 cem 100 "
              "cento 100 duzentos 200 trezentos 300 quatrocentos 400 quinhentos 500 "
              "seiscentos 600 setecentos 700 oitocentos 800 novecentos 900",
    }
    for lang, pairs in extra.items():
        items = pairs.split()
        out[lang].update({w: float(v) for w, v in zip(items[::2], items[1::2], strict=True)})
    return out


_LEXICON = _lexicon()
_HUNDRED = frozenset("hundred hundreds cent cents hundert cento".split())
_SCALE = {
    **dict.fromkeys("thousand mil mille mila tausend".split(), 1e3),
    **dict.fromkeys("million millions millón millones millionen milione milioni milhão milhões "
                    "million".split(), 1e6),
    **dict.fromkeys("billion billions milliard milliards milliarde milliarden miliardo "
                    "miliardi bilhão bilhões".split(), 1e9),
}  # fmt: skip
# "one hundred and five", "treinta y cinco"; German and Italian join inside the word.
_JOIN = {"en": "and", "es": "y", "pt": "e", "fr": "et"}
# Words that are numbers only sometimes: a source holding them asks nothing of the target.
_AMBIGUOUS = frozenset("one un une uno una ein eine eins einen um uma sei neuf hundreds thousands "
                       "millions billions millones milhões milioni".split())
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2, "兩": 2}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_BIG = {"万": 1e4, "萬": 1e4, "億": 1e8, "亿": 1e8, "兆": 1e12}
_KANJI_RUN = re.compile(f"[{''.join(_KANJI_DIGITS)}{''.join(_KANJI_UNITS)}{''.join(_KANJI_BIG)}]+")
_KANJI_WORDS = r"十分|万一|一一|千万|一万"  # "enough", "just in case", "one by one", "very": words
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_ROMAN = re.compile(  # "III", and "IIIe" as French writes a century
    r"\b(M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))(?:e|er|ème|º|ª)?\b")
_ROMAN_DIGITS = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
_SCALE_AFTER = re.compile(r"\s*([^\W\d_]+|[万萬億亿兆千百])")


def _digit_values(token: str) -> set[float]:
    """What a written number may mean: "1,000" 1000 (or 1.0), "3,5" 3.5, "1.234,5" 1234.5."""
    seps = re.findall(r"[.,]", token)
    plain = token.replace(",", "").replace(".", "")
    if not seps:
        return {float(token)}
    groups = re.split(r"[.,]", token)
    values = set()
    if all(len(g) == 3 for g in groups[1:]):
        values.add(float(plain))  # thousands separators
    if len(set(seps)) == 1 and len(seps) == 1:
        values.add(float(token.replace(",", ".")))  # a decimal point or comma
    elif len(set(seps)) == 2:
        last = token.rfind(seps[-1])
        values.add(float(re.sub(r"[.,]", "", token[:last]) + "." + token[last + 1:]))
    return values or {float(plain)}


def _roman(numeral: str) -> int:
    values = [_ROMAN_DIGITS[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v
               for i, v in enumerate(values))


def _kanji_value(run: str) -> float:
    """千九百六十一 -> 1961, 一九六一 -> 1961, 三百万 -> 3000000."""
    total, section, current = 0.0, 0.0, 0.0
    for ch in run:
        if ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            section += (current or 1) * _KANJI_UNITS[ch]
            current = 0
        else:
            total += (section + current or 1) * _KANJI_BIG[ch]
            section = current = 0
    return total + section + current


def _word_value(word: str, lang: str) -> float | None:
    """A number word's value; German and Italian compounds are read by parts
    ("neunzehnhunderteinundsechzig" 1961, "ventitré" 23)."""
    table = _LEXICON[lang]
    if word in table:
        return table[word]
    if lang not in ("de", "it") or len(word) < 6:
        return None
    parts = _segment(word, table)
    if parts is None:
        return None
    total, current = 0.0, 0.0
    for part in parts:
        if part in _HUNDRED:
            current = (current or 1) * 100
        elif part in _SCALE:
            total, current = total + (current or 1) * _SCALE[part], 0.0
        elif part != "und":
            current += table[part]
    return total + current


def _segment(word: str, table: dict[str, float]) -> list[str] | None:
    if not word:
        return []
    for end in range(len(word), 1, -1):
        head = word[:end]
        if head in table or head in _HUNDRED or head in _SCALE or head == "und":
            rest = _segment(word[end:], table)
            if rest is not None:
                return [head, *rest]
    return None


def numbers(text: str, language: str, strict: bool = True) -> list[tuple[str, set[float]]]:
    """The numbers of ``text``: (as written, the values it may mean). ``strict`` (a source)
    skips words that are numbers only sometimes ("one", "un") and lone CJK numerals (一 in
    一緒); otherwise (a translation) every reading counts, each digit group too."""
    text = unicodedata.normalize("NFKC", text)
    found: list[tuple[str, set[float]]] = []
    for m in _DIGITS.finditer(text):
        values = _digit_values(m.group())
        if not strict:
            values |= {float(g) for g in re.split(r"[.,]", m.group())}
        scale = _SCALE_AFTER.match(text, m.end())
        word = scale.group(1) if scale else ""
        factor = (_SCALE.get(word.casefold()) or _KANJI_BIG.get(word[:1])
                  or _KANJI_UNITS.get(word[:1]))
        if factor:
            values |= {v * factor for v in values}
        found.append((m.group(), values))
    if language in ("ja", "zh") or not strict:
        kanji = re.sub(_KANJI_WORDS, "", text) if strict else text
        for m in _KANJI_RUN.finditer(kanji):
            if not strict or len(m.group()) > 1:
                found.append((m.group(), {_kanji_value(m.group())}))
    if not strict:  # "siglo III" for "século 3"
        found += [(m.group(), {float(_roman(m.group(1)))})
                  for m in _ROMAN.finditer(text) if m.group(1)]
    if language in _LEXICON:
        found += _number_words(text, language, strict)
    return [(w, {round(v, 6) for v in values}) for w, values in found]


def _number_words(text: str, lang: str, strict: bool) -> list[tuple[str, set[float]]]:
    """Runs of number words summed as spoken: "twenty-five" 25, "two hundred thousand"
    200000, "treinta y cinco" 35, "soixante-dix-sept" 77; "two three" stays two numbers.
    Unless ``strict``, each word's own value counts too."""
    text = text.casefold().replace("quatre-vingt", "quatrevingt")
    found: list[tuple[str, set[float]]] = []
    run: list[re.Match[str]] = []
    own: set[float] = set()
    total = current = last_value = 0.0
    last = ""  # the kind of the run's last word: unit, ten, hundred, scale

    def close() -> None:
        nonlocal run, own, total, current, last
        first = run[0].group() if run else ""
        vague = len(run) == 1 and (first in _AMBIGUOUS or first in _HUNDRED or first in _SCALE)
        if run and not (strict and vague):  # "one", "a million": not a number to keep
            said = text[run[0].start():run[-1].end()]
            found.append((said, {total + current} | (set() if strict else own)))
        run, own, total, current, last = [], set(), 0.0, 0.0, ""

    end = 0
    for m in re.finditer(r"[^\W\d_]+", text):
        word, gap, end = m.group(), text[end:m.start()], m.end()
        if gap.strip(" -"):
            close()  # "cinco, 3,5 millones": punctuation or digits end a number
        if word == _JOIN.get(lang) and last in ("ten", "hundred", "scale"):
            continue
        if word in _HUNDRED:
            current, last = (current or 1) * 100, "hundred"
        elif word in _SCALE:
            total, current, last = total + (current or 1) * _SCALE[word], 0.0, "scale"
        elif (value := _word_value(word, lang)) is not None:
            french = lang == "fr" and (
                (last == "ten" and value < 20) or (last_value == 10 and 7 <= value <= 9))
            follows = {"": True, "unit": False, "ten": value < 10,
                       "hundred": value < 100, "scale": value < 1000}[last]
            if not (follows or french):
                close()
            current += value
            own.add(value)
            last_value = value
            last = ("hundred" if value >= 100 else
                    "ten" if value >= 20 and value % 10 == 0 else "unit")
        else:
            close()
            continue
        run.append(m)
    close()
    return found


def check_numbers(source: str, target: str, src: str, tgt: str) -> Finding | None:
    """A finding when a number of ``source`` has no reading found among ``target``'s."""
    have = set().union(*(values for _, values in numbers(target, tgt, strict=False)))
    lost = list(dict.fromkeys(w for w, values in numbers(source, src) if not values & have))
    if not lost:
        return None
    quoted = ", ".join(f"'{w}'" for w in lost)
    noun, verb = ("number", "was") if len(lost) == 1 else ("numbers", "were")
    return Finding("number", tuple(lost), f"the {noun} {quoted} {verb} dropped",
                   f"Keep the {noun} {quoted}")


# -- names -----------------------------------------------------------------------------------

_NAME_SOURCES = frozenset("en es fr it pt nl ca gl ro pl cs sv da no nb fi id ms tr vi".split())
_NAME_TARGETS = frozenset({"ja"})  # plus every Latin-script language
_TITLES = frozenset("i mr mrs ms dr prof st sr sra srta don doña mme mlle herr frau sig sir "
                    "lord lady".split())
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may "
    "june july august september october november december".split()
)
_DEMONYM = re.compile(r".{3,}(?:ans|ese|ish)$")  # Americans, Japanese, English: translated
# Words that are never names, capitalised where a transcript starts a sentence after a comma or
# where two phrases were joined ("Not finding out why, The time ..."): asked to keep 'The',
# the model wrote it into the translation.
_NEVER_NAMES = {lang: frozenset(words.split()) for lang, words in {
    "en": "the a an this that these those it its we you he she they there here and but so or if "
          "when what which who why how not no yes my your our their his her well okay oh",
    "es": "el la los las un una unos unas este esta esto eso y pero si no sí yo tú él ella "
          "nosotros ellos qué cuando como",
    "fr": "le la les un une ce cette ces et mais si non oui je tu il elle nous vous ils elles "
          "quand comme",
    "it": "il lo la gli le un una questo questa e ma se non sì io tu lui lei noi voi loro quando "
          "come",
    "pt": "o a os as um uma este esta isso e mas se não sim eu tu ele ela nós eles quando como",
}.items()}
_OPENERS = frozenset("!?…:;¿¡\"“«(「—-")


def names(text: str, language: str) -> list[str]:
    """Capitalised words (two letters or more) that are not where any word is capitalised
    (a sentence's start), not titles, weekdays, months or demonyms; neighbours join
    ("New Jersey"). Empty for languages that capitalise nouns or have no capitals."""
    if language not in _NAME_SOURCES:
        return []
    found: list[list[str]] = []
    previous_end = -1
    for m in re.finditer(r"[^\W\d_][^\W\d_-]*", text):
        word, before = m.group(), text[:m.start()].rstrip()
        if not _is_name(word, before) or word.casefold() in _NEVER_NAMES.get(language, ()):
            continue
        if found and not text[previous_end:m.start()].strip():
            found[-1].append(word)
        else:
            found.append([word])
        previous_end = m.end()
    return [" ".join(group) for group in found]


def _is_name(word: str, before: str) -> bool:
    if len(word) < 2 or not word[0].isupper() or char_script(word[0]) != "latin":
        return False
    if word.casefold() in _TITLES or word.casefold() in _CALENDAR or _DEMONYM.fullmatch(word):
        return False
    if not before or before[-1] in _OPENERS:
        return False  # capitalised as any first word is
    if before[-1] == ".":  # "Mr. Quilter", "J. Kennedy" go on; "... end. Then" starts anew
        last = re.findall(r"[^\W\d_]+", before)[-1:] or [""]
        return len(last[0]) == 1 or last[0].casefold() in _TITLES
    return True


def _fold(text: str) -> str:
    """Case-folded, without accents: "Japón" -> "japon"."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def _name_kept(name: str, target: str, tgt: str) -> bool:
    folded = _fold(target)
    if _fold(name).replace(" ", "") in folded.replace(" ", ""):
        return True
    if tgt == "ja":  # transliterated: any katakana (or Latin) word may be it
        return bool(re.search(r"[\u30a1-\u30fa]{2,}|[A-Za-z]{2,}", target))
    words = re.findall(r"[^\W\d_]+", folded)
    return any(SequenceMatcher(None, part, word).ratio() >= 0.6
               for part in _fold(name).split() if len(part) > 2 for word in words)


def check_names(source: str, target: str, src: str, tgt: str) -> Finding | None:
    """A finding when a name of ``source`` is nowhere in ``target`` (spelled alike, or for a
    Japanese target: no transliteration at all)."""
    latin = all(char_script(c) in (None, "latin") for c in target)
    if tgt not in _NAME_TARGETS and not latin:
        return None
    lost = [n for n in dict.fromkeys(names(source, src)) if not _name_kept(n, target, tgt)]
    if not lost:
        return None
    quoted = ", ".join(f"'{n}'" for n in lost)
    noun = "name" if len(lost) == 1 else "names"
    verb = "was" if len(lost) == 1 else "were"
    return Finding("name", tuple(lost), f"the {noun} {quoted} {verb} dropped",
                   f"Keep the {noun} {quoted}")


# -- questions -------------------------------------------------------------------------------

_QUESTION_END = {
    "ja": r"(?:か|かな|かしら|の|だろう|でしょう)[。]?$",
    "zh": r"(?:吗|嗎|呢|么|麼|吧)[。]?$",
    "ko": r"(?:까|니|냐|나요|가요|죠|지요)[.。]?$",
}


def is_question(text: str, language: str, strict: bool = True) -> bool:
    """Whether ``text`` asks: ending with a question mark (any width) or opening with ¿; unless
    ``strict``, any question mark, or a question particle ending a Japanese, Chinese or Korean
    sentence ("...ですか。")."""
    text = text.strip().rstrip("\"'”’»」』)） ")
    if text.endswith(("?", "？")) or text.startswith("¿"):
        return True
    if strict:
        return False
    pattern = _QUESTION_END.get(language)
    return bool(re.search(r"[?？]", text) or (pattern and re.search(pattern, text)))


def check_question(source: str, target: str, src: str, tgt: str) -> Finding | None:
    """A finding when ``source`` ends with a question mark and ``target`` does not ask."""
    if not source.strip() or not is_question(source, src) or is_question(target, tgt, False):
        return None
    return Finding("question", ("?",), "the question became a statement",
                   "Keep it a question")


# -- all together ----------------------------------------------------------------------------


def check_faithfulness(
    source: str, target: str, source_language: str, target_language: str
) -> tuple[Finding, ...]:
    """Every finding of the four checks, in order: negation, number, name, question; empty
    when ``target`` is empty or the languages are the same."""
    if not target.strip() or source_language == target_language:
        return ()
    checks = (check_negation, check_numbers, check_names, check_question)
    found = (check(source, target, source_language, target_language) for check in checks)
    return tuple(f for f in found if f is not None)


def retry_note(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """What to tell the model after ``findings``: what to keep, then the problems. Placed after
    the sentence (measured on the 4 findings of a first benchmark run that a retry could fix:
    3 fixed this way, 2 when the problem came first, "Note: a previous translation was wrong:
    ..."); the wrong answer shown back as a chat turn got the same answer again."""
    requests = " ".join(f"{f.request} in your translation." for f in findings)
    problems = "; ".join(f.problem for f in findings)
    return f"Note: {requests} (A previous translation was wrong: {problems}.)"
