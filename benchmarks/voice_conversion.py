"""Voice preservation on real recordings: does the converted dub sound like the source speaker,
keep the source line's intonation, and stay intelligible?

    python benchmarks/voice_conversion.py [--data ../shared/data]
                                          [--no-asr]

Speakers and lines come from ../shared/data: JFK (en_jfk), Diane and Sheila (diar_pyannote_sample,
lines from sample.stm), the three speakers of diar_picovoice_falcon (turns from test.rttm, words
from the speaker-tagged list) and the en/es/ja readers of multi_picovoice_leopard. Each speaker's
profile is built from all of their speech in the recording. Each line is synthesized with the
stock voice (English: Piper joe; Spanish and Japanese: Kokoro, jf_alpha), including JFK's line
in hand-written es and ja translations, then converted.

Per line and as means: resemblyzer cosine to the speaker's embedding, stock and converted; log-F0
correlation of source and dub over frames voiced in both, after a linear time map of speech
start to start and end to end; CER between Whisper base's transcripts of the converted and the
stock dub; conversion seconds per second of speech.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np

from dubkit.analysis.prosody import HOP, QUIET_DB, SegmentProsody, extract_prosody
from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
from dubkit.analysis.rttm import read_rttm
from dubkit.analysis.speaker_profile import build_speaker_profile
from dubkit.media.decode import decode_audio
from dubkit.models import resolve_model
from dubkit.types import ANALYSIS_RATE, Audio

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-asr", action="store_true", help="skip the Whisper CER")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 1
    import jiwer

    from dubkit.synth.base import VoiceRequest
    from dubkit.synth.convert import WorldVoiceConverter
    from dubkit.synth.kokoro import KokoroSynthesizer
    from dubkit.synth.piper import PiperSynthesizer

    converters = {"world": WorldVoiceConverter()}
    embedder = ResemblyzerEmbedder(resolve_model("resemblyzer").path)
    piper = PiperSynthesizer(resolve_model("piper-en-us-joe").path)
    kokoro = KokoroSynthesizer(resolve_model("kokoro-82m-ja").path)
    asr = None
    if not args.no_asr:
        from dubkit.translate.faster_whisper import FasterWhisperTranscriber

        asr = FasterWhisperTranscriber(resolve_model("whisper-base").path)
    speech, lines = cases(args.data)
    profiles = {s: build_speaker_profile(c, s, embedder) for s, c in speech.items()}
    rows = []
    print("| speaker | lang | converter | sim stock | sim conv | F0 r stock | F0 r conv "
          "| CER | warp | RTF |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for who, source, text, lang in lines:
        profile = profiles[who]
        synth = piper if lang == "en" else kokoro
        voice = synth.voice_for(VoiceRequest(who, lang))
        stock = synth.synthesize(text, lang, voice)
        prosody = extract_prosody(source)
        sim_stock = float(embedder.embed(stock) @ profile.embedding)
        r_stock = f0_correlation(prosody, extract_prosody(stock))
        ref = normalise(asr.transcribe(stock, lang).text) if asr else ""
        for name, conv in converters.items():
            t0 = time.perf_counter()
            out = conv.convert(stock, profile, prosody)
            rtf = (time.perf_counter() - t0) / stock.duration
            sim = float(embedder.embed(out) @ profile.embedding)
            r = f0_correlation(prosody, extract_prosody(out))
            cer = float("nan")
            if asr:
                hyp = normalise(asr.transcribe(out, lang).text)
                if lang == "ja":
                    ref_c, hyp_c = ref.replace(" ", ""), hyp.replace(" ", "")
                else:
                    ref_c, hyp_c = ref, hyp
                cer = jiwer.cer(ref_c, hyp_c) if ref_c else float("nan")
            warp = getattr(conv, "last_warp", float("nan"))
            rows.append((name, sim_stock, sim, r_stock, r, cer, rtf))
            print(f"| {who} | {lang} | {name} | {sim_stock:.3f} | {sim:.3f} | {r_stock:.2f} | "
                  f"{r:.2f} | {cer:.3f} | {warp:.2f} | {rtf:.3f} |", flush=True)
    print()
    print("| converter | lines | sim stock | sim conv | gain | F0 r stock | F0 r conv | CER "
          "| RTF |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in converters:
        r = np.array([row[1:] for row in rows if row[0] == name], dtype=float)
        m = np.nanmean(r, axis=0)
        print(f"| {name} | {r.shape[0]} | {m[0]:.3f} | {m[1]:.3f} | {m[1] - m[0]:+.3f} | "
              f"{m[2]:.2f} | {m[3]:.2f} | {m[4]:.3f} | {m[5]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
