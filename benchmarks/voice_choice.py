"""Gender of real speakers, told by pitch and by the speaker embedding, and the stock voice each
gets: per speaker and per file, on the recordings whose speakers' genders are known.

    python benchmarks/voice_choice.py [--data ../shared/data] [--to es,ja]

Speakers: the AMI meeting excerpts (the AMI speaker ids begin with their gender, F or M; each
speaker with at least 2 s of speech in the scored first 30 s), the two women of pyannote's
telephone sample, and JFK. Each speaker's reference turns are what is heard, so diarization
errors are left out. ``pitch``: dubkit's median-F0 rule (``analysis.pitch.estimate_gender``,
what chose voices before). ``embedding``: the ``cpu`` preset's ERes2Net embedding of the same
speech against the stock voices of the target language's synthesizer, each speaking a fixed
sentence (``synth.voice_match.gender_from_embedding``), falling back to pitch when undecided,
as a job does. ``voice``: the voice the job gives the speaker and whether its gender is theirs.
Nothing was tuned on these recordings (the 0.02 margin was set before they were looked at).

``axis``: a gender direction in the speaker model's own space, taught without these speakers:
the single-speaker recordings (FLEURS, Picovoice Leopard, the speech_recognition clips, each
Picovoice Falcon speaker) labelled by confident pitch (median F0 under 140 Hz male, over 175 Hz
female, between them left out); the direction is the female mean minus the male mean, the
cut halfway between their projections. It asks whether the embedding knows a man who shouts
(JFK, 225 Hz) better than pitch does.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dubkit.analysis.pitch import estimate_gender, median_f0  # noqa: E402
from dubkit.analysis.rttm import read_rttm  # noqa: E402
from dubkit.config import load_preset  # noqa: E402
from dubkit.media import decode_audio  # noqa: E402
from dubkit.models import resolve_model  # noqa: E402
from dubkit.registry import create_backend, model_names  # noqa: E402
from dubkit.synth.voice_match import assign_voices, gender_from_embedding, probe_text  # noqa: E402
from dubkit.types import Audio  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
AMI_SECONDS = 30.0
MIN_SPEECH = 2.0  # seconds a speaker needs in the scored part to be counted
PROBE_SECONDS = 30.0  # speech per speaker used, as a job uses


def speakers(data: Path) -> list[tuple[str, str, Audio, str]]:
    """(file, speaker, their speech, gender) for every speaker whose gender is known."""
    out = []
    rttm = read_rttm(data / "diar_ami_excerpts" / "reference.rttm")
    for i in range(7):
        name = f"trn{i:02d}"
        audio = decode_audio(data / "diar_ami_excerpts" / f"{name}.wav", rate=16000, mono=True)
        turns = [t for t in rttm[name] if t.start < AMI_SECONDS]
        for sid in sorted({t.speaker for t in turns}):
            spans = [(t.start, min(t.end, AMI_SECONDS)) for t in turns if t.speaker == sid]
            if sum(b - a for a, b in spans) >= MIN_SPEECH:
                gender = {"F": "female", "M": "male"}[sid[0]]
                out.append((name, sid, _concat(audio, spans), gender))
    sample = data / "diar_pyannote_sample"
    audio = decode_audio(sample / "sample.wav", rate=16000, mono=True)
    turns = read_rttm(sample / "sample.rttm")["sample"]
    for sid in sorted({t.speaker for t in turns}):
        spans = [(t.start, t.end) for t in turns if t.speaker == sid]
        out.append(("pyannote", sid, _concat(audio, spans), "female"))  # Diane and Sheila
    jfk = decode_audio(data / "en_jfk" / "jfk.flac", rate=16000, mono=True)
    out.append(("jfk", "JFK", jfk, "male"))
    return out


def _concat(audio: Audio, spans: list[tuple[float, float]]) -> Audio:
    pieces, total = [], 0.0
    for a, b in spans:
        if total >= PROBE_SECONDS:
            break
        pieces.append(audio.slice(a, b).samples)
        total += b - a
    return Audio(np.concatenate(pieces), audio.rate)


MALE_UNDER, FEMALE_OVER = 140.0, 175.0  # Hz: pitch confident enough to teach the axis


def pitch_taught_axis(data: Path, embedder) -> tuple[np.ndarray, float, int]:
    """(direction, cut, clips taught on) of the ``axis`` column (see the module's docstring)."""
    clips = [decode_audio(p, rate=16000, mono=True)
             for pattern in ("fleurs_asr/*.ogg", "multi_picovoice_leopard/*.wav",
                             "multi_speechrecognition/*.wav", "multi_speechrecognition/*.flac",
                             "multi_speechrecognition/*.aiff")
             for p in sorted(data.glob(pattern))]
    falcon = data / "diar_picovoice_falcon"
    audio = decode_audio(falcon / "test.wav", rate=16000, mono=True)
    turns = read_rttm(falcon / "test.rttm")["test"]
    clips += [_concat(audio, [(t.start, t.end) for t in turns if t.speaker == sid])
              for sid in sorted({t.speaker for t in turns})]
    female, male = [], []
    for clip in clips:
        f0 = median_f0(clip)
        if f0 is not None and (f0 < MALE_UNDER or f0 > FEMALE_OVER):
            (female if f0 > FEMALE_OVER else male).append(embed(embedder, clip))
    if not female or not male:
        sys.exit(f"the axis needs clips of both pitches: {len(female)} high, {len(male)} low")
    direction = np.mean(female, axis=0) - np.mean(male, axis=0)
    cut = 0.5 * (float(np.mean(np.array(female) @ direction))
                 + float(np.mean(np.array(male) @ direction)))
    return direction, cut, len(female) + len(male)


def embed(embedder, audio: Audio) -> np.ndarray:
    """The mean of 10 s pieces, as ``steps.voices.EmbedSpeaker`` does."""
    step = int(10 * audio.rate)
    clips = [Audio(audio.samples[i:i + step], audio.rate)
             for i in range(0, audio.samples.shape[-1], step)
             if audio.samples[i:i + step].shape[-1] > audio.rate // 2]
    vectors = embedder.embed_many(clips)
    mean = np.average(vectors, axis=0, weights=[c.duration for c in clips])
    return mean / np.linalg.norm(mean)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--to", default="es,ja", help="target languages (comma-separated)")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no data folder at {args.data}")
    preset = load_preset("cpu")

    def backend(stage: str):
        config = preset.stages[stage]
        return create_backend(stage, config, {n: resolve_model(n) for n in model_names(config)})

    embedder, synth = backend("diarization").embedder, backend("synthesis")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}, embedder {embedder.name}")
    people = speakers(args.data)
    vectors = [embed(embedder, audio) for _, _, audio, _ in people]
    pitch = [estimate_gender(audio) for _, _, audio, _ in people]
    direction, cut, taught = pitch_taught_axis(args.data, embedder)
    print(f"\n## axis: taught on {taught} clips labelled by pitch")
    print("| file | speaker | truth | median F0 | pitch | axis (score) |")
    print("|---|---|---|---:|---|---|")
    axis_right = 0
    for (name, sid, audio, truth), vector, by_pitch in zip(people, vectors, pitch):
        score = float(vector @ direction) - cut
        by_axis = "female" if score > 0 else "male"
        axis_right += by_axis == truth
        print(f"| {name} | {sid} | {truth} | {median_f0(audio) or 0:.0f} | {by_pitch} "
              f"| {by_axis} ({score:+.3f}) |")
    print(f"\nright, of {len(people)} speakers: pitch "
          f"{sum(p == t for p, (*_, t) in zip(pitch, people))}, axis {axis_right}")
    for target in [t.strip() for t in args.to.split(",") if t.strip()]:
        stock = synth.stock_voices(target)
        voices = {v: embed(embedder, synth.synthesize(probe_text(target), target, v).mono())
                  for v in stock}
        listed = ", ".join(f"{v} {g or '?'}" for v, g in stock.items())
        print(f"\n## into {target}: {len(stock)} stock voices ({listed})")
        print("| file | speaker | truth | pitch | embedding | voice given | its gender |")
        print("|---|---|---|---|---|---|---|")
        right = {"pitch": 0, "embedding": 0, "voice": 0}
        by_file: dict[str, list] = {}
        for (name, sid, _, truth), vector, by_pitch in zip(people, vectors, pitch):
            by_file.setdefault(name, []).append((sid, vector, truth, by_pitch))
        for name, group in by_file.items():
            genders = {sid: gender_from_embedding(v, voices, stock) or p
                       for sid, v, _, p in group}
            chosen = assign_voices({sid: v for sid, v, _, _ in group}, voices, genders, stock)
            for sid, _, truth, by_pitch in group:
                voice = chosen[sid]
                right["pitch"] += by_pitch == truth
                right["embedding"] += genders[sid] == truth
                right["voice"] += stock[voice] == truth
                print(f"| {name} | {sid} | {truth} | {by_pitch} | {genders[sid]} | {voice} "
                      f"| {stock[voice]} |")
        n = len(people)
        print(f"\nright, of {n} speakers: pitch {right['pitch']}, embedding {right['embedding']}, "
              f"voice of their gender {right['voice']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
