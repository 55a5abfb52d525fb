"""Voice preservation on real recordings: does the converted dub sound like the source speaker,
keep the source line's intonation, and stay intelligible?

    python benchmarks/voice_conversion.py [--data ../shared/data] [--set tuned|held-out]
                                          [--variants a,b,...] [--no-asr]

``--set tuned`` (the lines any setting was chosen on): JFK (en_jfk), Diane and Sheila
(diar_pyannote_sample, lines from sample.stm), the three speakers of diar_picovoice_falcon (turns
from test.rttm, words from the speaker-tagged list) and the en/es/ja readers of
multi_picovoice_leopard; each line says its own words (JFK's also in hand-written es and ja
translations). ``--set held-out`` (never looked at while choosing): the en, es, fr and pt readers
of fleurs_asr, each saying their own sentence, and the AMI meeting speakers of
diar_ami_excerpts with at least 5 s of speech in the scored 30 s, whose turns of 1.5 s or more
say English FLEURS sentences in turn (AMI has no transcripts here). Each speaker's profile is
built from all of their speech in the recording. Lines are synthesized with the stock voice of
the ``cpu`` preset (English: Piper joe; es, fr, pt, ja: Kokoro), then converted.

Each variant is a way of voicing a line (see ``VARIANTS``): the stock voice chosen by pitch
(what a job does without consent), the stock voice nearest to the speaker in the speaker model's
space, WORLD conversion (the ``cpu`` preset's ``--voice keep``) from either, and WORLD with each
voiced frame's envelope moved 60 % of the way toward its nearest frames of the speaker.

Per line, per speaker type and as means, always side by side: speaker similarity by a
speaker-verification model (ERes2Net, the ``cpu`` preset's diarization embedder: cosine of the
line's dub to the speaker's embedding over all their speech), Resemblyzer's cosine as a
secondary figure, and intelligibility: the CER of Whisper base's transcript of the dub against
the line's own text. A variant that raises similarity and CER together is not progress. Also
log-F0 correlation of source and dub over frames voiced in both, after a linear time map of
speech start to start and end to end, and conversion seconds per second of speech.
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np

from dubkit.analysis.pitch import estimate_gender
from dubkit.analysis.prosody import HOP, QUIET_DB, SegmentProsody, extract_prosody
from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
from dubkit.analysis.rttm import read_rttm
from dubkit.analysis.speaker_profile import build_speaker_profile
from dubkit.media.decode import decode_audio
from dubkit.models import resolve_model
from dubkit.synth.convert import WorldVoiceConverter
from dubkit.types import ANALYSIS_RATE, Audio

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
# What each speaker's recording is like: the speaker types
SPEAKER_TYPE = {"jfk": "noisy (crowd, reverberant)", "diane": "telephone",
                "sheila": "telephone", "falcon": "conversation clip", "leopard": "clean read",
                "fleurs": "clean read", "ami": "meeting, far-field"}
# name: (how the stock voice is chosen, converter)
VARIANTS = {
    "stock": ("pitch", None),
    "nearest": ("nearest", None),
    "world": ("pitch", "world"),
    "nearest+world": ("nearest", "world"),
    "world+frames40": ("pitch", "frames40"),
    "world+frames60": ("pitch", "frames60"),
    "world+frames80": ("pitch", "frames80"),
}
DEFAULT_VARIANTS = "stock,nearest,world,nearest+world,world+frames60"
AMI_SECONDS = 30.0  # the scored part of each AMI excerpt
AMI_MIN_SPEECH = 5.0  # seconds a meeting speaker needs to be counted
JFK_ES = ("Y así, mis compatriotas estadounidenses, no pregunten qué puede hacer su país por "
          "ustedes; pregunten qué pueden hacer ustedes por su país.")
JFK_JA = "ですから、アメリカ国民の皆さん、国があなたに何をしてくれるかではなく、" \
         "あなたが国のために何ができるかを問うてください。"


def cases(data: Path) -> tuple[dict[str, list[Audio]], list[tuple[str, Audio, str, str]]]:
    """(speech per speaker, lines as (speaker, source audio, dub text, dub language))."""
    speech, lines = defaultdict(list), []
    jfk = decode_audio(data / "en_jfk" / "jfk.flac", ANALYSIS_RATE, mono=True)
    speech["jfk"].append(jfk)
    text = next(csv.reader(open(data / "en_jfk" / "transcript.tsv"), delimiter="\t"))[-1]
    lines += [("jfk", jfk, text, "en"), ("jfk", jfk, JFK_ES, "es"), ("jfk", jfk, JFK_JA, "ja")]

    sample = decode_audio(data / "diar_pyannote_sample" / "sample.wav", ANALYSIS_RATE, mono=True)
    for row in open(data / "diar_pyannote_sample" / "sample.stm", encoding="utf-8"):
        _, _, who, a, b, words = row.split(maxsplit=5)
        clip = sample.slice(float(a), float(b))
        speech[who].append(clip)
        if float(b) - float(a) >= 1.5:
            lines.append((who, clip, words.strip(), "en"))

    falcon = data / "diar_picovoice_falcon"
    audio = decode_audio(falcon / "test.wav", ANALYSIS_RATE, mono=True)
    words = defaultdict(list)
    for row in csv.DictReader(open(falcon / "leopard_diarization_test.words.tsv"), delimiter="\t"):
        words[f"spk{row['speaker_tag']}"].append(row["word"])
    for turn in next(iter(read_rttm(falcon / "test.rttm").values())):
        clip = audio.slice(turn.start, turn.end)
        speech[f"falcon-{turn.speaker}"].append(clip)
        lines.append((f"falcon-{turn.speaker}", clip, " ".join(words[turn.speaker]), "en"))

    leopard = data / "multi_picovoice_leopard"
    for row in csv.DictReader(open(leopard / "transcripts.tsv"), delimiter="\t"):
        if row["lang"] in ("en", "es", "ja"):
            clip = decode_audio(leopard / row["file"], ANALYSIS_RATE, mono=True)
            speech[f"leopard-{row['lang']}"].append(clip)
            lines.append((f"leopard-{row['lang']}", clip, row["transcript"], row["lang"]))
    return speech, lines


def held_out_cases(data: Path
                   ) -> tuple[dict[str, list[Audio]], list[tuple[str, Audio, str, str]]]:
    """As ``cases``, for the held-out speakers (see the module's docstring)."""
    speech, lines = defaultdict(list), []
    fleurs = data / "fleurs_asr"
    english = []
    for row in csv.DictReader(open(fleurs / "transcripts.tsv"), delimiter="\t"):
        if row["lang"] not in ("en", "es", "fr", "pt"):
            continue
        clip = decode_audio(fleurs / row["audio"], ANALYSIS_RATE, mono=True)
        peak = float(np.max(np.abs(clip.samples))) or 1.0
        clip = Audio(clip.samples * (0.5 / peak), clip.rate)  # several clips peak below -39 dBFS
        who = Path(row["audio"]).stem  # "fleurs-en-000"
        speech[who].append(clip)
        lines.append((who, clip, row["transcript"], row["lang"]))
        if row["lang"] == "en":
            english.append(row["transcript"])
    ami = data / "diar_ami_excerpts"
    rttm = read_rttm(ami / "reference.rttm")
    said = 0
    for name in sorted(rttm):
        audio = decode_audio(ami / f"{name}.wav", ANALYSIS_RATE, mono=True)
        turns = [t for t in rttm[name] if t.start < AMI_SECONDS]
        for sid in sorted({t.speaker for t in turns}):
            own = [t for t in turns if t.speaker == sid]
            if sum(min(t.end, AMI_SECONDS) - t.start for t in own) < AMI_MIN_SPEECH:
                continue
            who = f"ami-{name}-{sid}"
            for t in own:
                clip = audio.slice(t.start, min(t.end, AMI_SECONDS))
                speech[who].append(clip)
                if clip.duration >= 1.5:
                    lines.append((who, clip, english[said % len(english)], "en"))
                    said += 1
    return speech, lines


def f0_correlation(source: SegmentProsody, dub: SegmentProsody) -> float:
    """Pearson correlation of log F0 over frames voiced in both, dub frames mapped linearly
    onto the source's speech span."""
    def span(p: SegmentProsody) -> tuple[float, float]:
        loud = np.flatnonzero(p.energy > QUIET_DB)
        return loud[0] * HOP, loud[-1] * HOP

    (sa, sb), (da, db) = span(source), span(dub)
    t = sa + (dub.times - da) * (sb - sa) / max(HOP, db - da)  # (dub frames,) source seconds
    idx = np.clip(np.round(t / HOP).astype(int), 0, source.f0.shape[0] - 1)
    both = (dub.f0 > 0) & (source.f0[idx] > 0) & (t >= sa) & (t <= sb)
    if both.sum() < 10:
        return float("nan")
    return float(np.corrcoef(np.log(source.f0[idx][both]), np.log(dub.f0[both]))[0, 1])


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join("".join(" " if unicodedata.category(c)[0] in "PS" else c
                            for c in text).split())


def cpu_synthesizer():
    """The ``cpu`` preset's synthesizer: Piper for English, Kokoro for es, fr, it, pt, ja."""
    from dubkit.config import load_preset
    from dubkit.registry import create_backend, model_names

    config = load_preset("cpu").stages["synthesis"]
    return create_backend("synthesis", config,
                          {n: resolve_model(n) for n in model_names(config)})


def speaker_type(who: str) -> str:
    return SPEAKER_TYPE.get(who.lower(), SPEAKER_TYPE.get(who.split("-")[0], "?"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--set", choices=("tuned", "held-out"), default="tuned",
                        help="which speakers (see the module's docstring)")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--no-asr", action="store_true", help="skip the Whisper CER")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 1
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"unknown variants: {', '.join(unknown)}", file=sys.stderr)
        return 2
    import jiwer

    from dubkit.analysis.eres2net_embedder import Eres2NetEmbedder
    from dubkit.synth.base import VoiceRequest
    from dubkit.synth.voice_match import probe_text, similarities

    converters = {"world": WorldVoiceConverter(),
                  **{f"frames{p}": WorldVoiceConverter(frame_match=p / 100) for p in (40, 60, 80)}}
    judge = Eres2NetEmbedder(resolve_model("eres2net-voxceleb").path)
    second = ResemblyzerEmbedder(resolve_model("resemblyzer").path)
    synth = cpu_synthesizer()
    asr = None
    if not args.no_asr:
        from dubkit.translate.faster_whisper import FasterWhisperTranscriber

        asr = FasterWhisperTranscriber(resolve_model("whisper-base").path)
    speech, lines = (cases if args.set == "tuned" else held_out_cases)(args.data)
    profiles = {s: build_speaker_profile(c, s, judge) for s, c in speech.items()}
    secondary = {s: second.embed(p.speech) for s, p in profiles.items()}
    genders = {s: estimate_gender(p.speech) for s, p in profiles.items()}
    voice_vectors: dict[str, dict[str, np.ndarray]] = {}

    def nearest_voice(who: str, lang: str) -> str:
        key = lang
        if key not in voice_vectors:
            voice_vectors[key] = {v: judge.embed(synth.synthesize(probe_text(lang), lang, v))
                                  for v in synth.stock_voices(lang)}
        names = list(voice_vectors[key])
        sims = similarities({who: profiles[who].embedding}, voice_vectors[key])[0]
        return names[int(np.argmax(sims))]

    def cer(audio: Audio, text: str, lang: str) -> float:
        if asr is None:
            return float("nan")
        ref, hyp = normalise(text), normalise(asr.transcribe(audio, lang).text)
        if lang in ("ja", "zh"):
            ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
        return jiwer.cer(ref, hyp) if ref else float("nan")

    print(f"# {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"set {args.set}, {len(profiles)} speakers, {len(lines)} lines")
    rows = []  # (variant, speaker, similarity, resemblyzer, CER, F0 r, RTF)
    print("| speaker | type | lang | variant | voice | similarity | Resemblyzer | CER | F0 r "
          "| RTF |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---:|")
    for who, source, text, lang in lines:
        profile = profiles[who]
        prosody = extract_prosody(source)
        stock_cache: dict[str, Audio] = {}
        for name in variants:
            choice, converter = VARIANTS[name]
            voice = (nearest_voice(who, lang) if choice == "nearest"
                     else synth.voice_for(VoiceRequest(who, lang, genders[who])))
            if voice not in stock_cache:
                stock_cache[voice] = synth.synthesize(text, lang, voice)
            out, rtf = stock_cache[voice], 0.0
            if converter is not None:
                t0 = time.perf_counter()
                out = converters[converter].convert(out, profile, prosody)
                rtf = (time.perf_counter() - t0) / out.duration
            sim = float(judge.embed(out) @ profile.embedding)
            sim2 = float(second.embed(out) @ secondary[who])
            row = (name, who, sim, sim2, cer(out, text, lang),
                   f0_correlation(prosody, extract_prosody(out)), rtf)
            rows.append(row)
            print(f"| {who} | {speaker_type(who)} | {lang} | {name} | {voice} | {sim:.3f} | "
                  f"{sim2:.3f} | {row[4]:.3f} | {row[5]:.2f} | {rtf:.3f} |", flush=True)
    print()
    print("| variant | speaker type | lines | similarity | gain over stock | Resemblyzer | CER "
          "| CER over stock | F0 r | RTF |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in [*dict.fromkeys(speaker_type(r[1]) for r in rows), "all"]:
        def picked(variant: str, kind: str = kind) -> np.ndarray:
            return np.array([r[2:] for r in rows if r[0] == variant
                             and kind in ("all", speaker_type(r[1]))], dtype=float)

        base = np.nanmean(picked("stock"), axis=0) if "stock" in variants else None
        for name in variants:
            m = np.nanmean(picked(name), axis=0)
            gain = f"{m[0] - base[0]:+.3f}" if base is not None else "n/a"
            worse = f"{m[2] - base[2]:+.3f}" if base is not None else "n/a"
            print(f"| {name} | {kind} | {picked(name).shape[0]} | {m[0]:.3f} | {gain} | "
                  f"{m[1]:.3f} | {m[2]:.3f} | {worse} | {m[3]:.2f} | {m[4]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
