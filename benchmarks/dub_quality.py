"""Dub real recordings with ``--voice keep`` and ``--voice stock`` and judge both the same way:
how much each dubbed line sounds like its speaker, and whether it says its text.

    python benchmarks/dub_quality.py [--to es] [--data ../shared/data] [--preset cpu] [--work DIR]
                                     [--json PATH]

The voice judge is the benchmark's own, not qa.json's (which compares a kept-voice line with the
speaker's whole speech but a stock-voice line only with its own source line). For each speaker a
reference embedding is taken from all of that speaker's source speech in the recording (the
source spans of the speaker's lines, decoded from the recording and resampled to 16 kHz,
concatenated); each dubbed line, as written in the job folder, is embedded and compared with its
speaker's reference by cosine, in both voice modes alike. The primary judge is ERes2Net (the
speaker-verification model, VoxCeleb), the secondary Resemblyzer. As a ceiling, each source line
is compared with the reference built from the speaker's other lines (none for a one-line
speaker).

Intelligibility is each line's character error rate of Whisper's transcript of the dub against
the line's own target text (qa.json's ``heard`` and ``cer``); the CER between the kept-voice and
the stock-voice transcripts of the same line is shown beside it. F0 correlation and the share of
lines ending within 10 % of their slot come from qa.json.

Printed: a markdown table per recording and voice mode, one per speaker (keep against stock),
and overall lines with the targets (ERes2Net: keep at least 0.15 above stock; CER: keep at most
0.03 above stock). ``--json`` writes every per-line and per-speaker figure.

Lines outside 10 % of their slot are listed on stderr with their tempo, flags and texts. With
``--work`` the job folders are kept there, so a re-run recomputes only what changed.

Both runs of a recording share one job folder, so the second reuses transcription, translation
and synthesis and differs only in voice conversion, timing fit and mix. The dubbed lines are
judged right after each run, before the next overwrites them.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dubkit import Dubber
from dubkit.jobs.consent import Consent
from dubkit.textmetrics import char_error_rate

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
RECORDINGS = {  # recording: what kind of speech it holds
    "en_jfk/jfk.flac": "speech, crowd and reverb",
    "diar_pyannote_sample/sample.wav": "telephone",
    "diar_picovoice_falcon/test.wav": "clean, studio",
    "multi_picovoice_leopard/test.wav": "clean read",
}
VOICES = ("keep", "stock")
JUDGES = ("eres2net", "resemblyzer")
SIMILARITY_TARGET = 0.15  # keep's ERes2Net similarity above stock's, at least
CER_TARGET = 0.03  # keep's CER above stock's, at most


class Judges:
    """The speaker embedders, loaded once: ERes2Net (primary) and Resemblyzer."""

    def __init__(self) -> None:
        from dubkit.analysis.eres2net_embedder import Eres2NetEmbedder
        from dubkit.analysis.resemblyzer_embedder import ResemblyzerEmbedder
        from dubkit.models import resolve_model

        self.embedders = {
            "eres2net": Eres2NetEmbedder(resolve_model("eres2net-voxceleb").path),
            "resemblyzer": ResemblyzerEmbedder(resolve_model("resemblyzer").path),
        }

    def embed(self, clips: list) -> dict[str, np.ndarray]:
        """``(clips, dim)`` unit-length embeddings of 16 kHz clips, by judge."""
        return {name: e.embed_many(clips) for name, e in self.embedders.items()}


@dataclass
class Speaker:
    """One speaker of a recording: their reference embeddings and their lines' figures."""

    recording: str
    id: str
    seconds: float
    reference: dict[str, np.ndarray]  # judge: unit-length embedding of all their speech
    ceiling: dict[str, float | None]  # judge: mean source line vs the reference of the others
    lines: dict[str, list[dict]] = field(default_factory=dict)  # voice: per-line records


def speakers_of(judges: Judges, rel: str, source, segments) -> dict[str, Speaker]:
    """Each speaker's reference from the source spans of all their lines (``source``: the
    recording, 16 kHz mono), and the ceiling: each line against the others' reference."""
    from dubkit.types import Audio

    out = {}
    for spk in sorted({s.speaker for s in segments}):
        spans = [source.slice(s.start, s.end).samples for s in segments if s.speaker == spk]
        # spans all past the end of the recording (never seen): a silent stand-in, not a crash
        spans = [x for x in spans if x.size] or [np.zeros(source.rate, dtype=np.float32)]
        clips = [Audio(np.concatenate(spans), source.rate)] + [
            Audio(np.concatenate(spans[:k] + spans[k + 1:]), source.rate)
            for k in range(len(spans)) if len(spans) > 1]
        clips += [Audio(x, source.rate) for x in spans] if len(spans) > 1 else []
        emb = judges.embed(clips)
        n = len(spans)
        ceiling = {}
        for name, e in emb.items():
            if n > 1:  # rows: whole, n leave-one-out references, n single lines
                ceiling[name] = float(np.mean(np.sum(e[1:1 + n] * e[1 + n:], axis=1)))
            else:
                ceiling[name] = None
        seconds = sum(x.size for x in spans) / source.rate
        out[spk] = Speaker(rel, spk, seconds, {k: e[0] for k, e in emb.items()}, ceiling)
    return out


def judge_lines(judges: Judges, result, qa: dict, speakers: dict[str, Speaker], rel: str,
                voice: str) -> list[dict]:
    """Per dubbed line: both judges' cosine with its speaker's reference, and qa.json's CER of
    what Whisper heard against the line's text, F0 r and duration ratio."""
    import soundfile as sf

    from dubkit import dsp
    from dubkit.types import ANALYSIS_RATE, Audio

    measured = {s["id"]: s for s in qa["segments"]}
    segs = [s for s in result.segments if s.audio_file and s.id in measured]
    clips = []
    for seg in segs:
        x, rate = sf.read(result.job_dir / seg.audio_file, dtype="float32")
        clips.append(dsp.resample(Audio(x, rate).mono(), ANALYSIS_RATE))
    emb = judges.embed(clips) if clips else {}
    lines = []
    for k, seg in enumerate(segs):
        m = measured[seg.id]
        ref = speakers[seg.speaker].reference
        lines.append({
            "recording": rel, "voice": voice, "id": seg.id, "speaker": seg.speaker,
            "start": round(seg.start, 3), "end": round(seg.end, 3), "file": seg.audio_file,
            **{name: float(emb[name][k] @ ref[name]) for name in JUDGES},
            "qa_similarity": m["similarity"], "text": seg.target_text,
            "heard": m.get("heard"), "cer": m.get("cer"),
            "f0_correlation": m["f0_correlation"], "duration_ratio": m["duration_ratio"],
            "slot": m["slot"], "tempo": m["tempo"],
        })
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default="es")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--preset", default="cpu")
    parser.add_argument("--work", type=Path, help="keep the job folders here (default: a "
                        "temporary folder, removed at the end)")
    parser.add_argument("--json", type=Path, help="write every per-line and per-speaker "
                        "figure here")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 1
    import soundfile as sf

    from dubkit import dsp
    from dubkit.types import ANALYSIS_RATE, Audio

    dubber = Dubber(preset=args.preset)
    judges = Judges()
    print(f"# {platform.machine()}, {platform.python_version()}, preset {args.preset}, "
          f"into {args.to}")
    print()
    print("| recording | voice | lines | ERes2Net sim | Resemblyzer sim | CER vs own text | "
          "F0 r | within 10 % | tempo | wall s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    speakers: list[Speaker] = []
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.work or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        for rel in RECORDINGS:
            src = args.data / rel
            if not src.is_file():
                print(f"| {rel} | missing | | | | | | | | |")
                continue
            local = tmp / rel.replace("/", "-")  # two recordings are called test.wav
            if not local.is_file():
                shutil.copy(src, local)
            x, rate = sf.read(local, dtype="float32", always_2d=True)
            source = dsp.resample(Audio(x.T, rate).mono(), ANALYSIS_RATE)
            out = tmp / f"{local.stem}.{args.to}.wav"
            found: dict[str, Speaker] = {}
            for voice in VOICES:
                started = time.perf_counter()
                result = dubber.translate(local, to=args.to, output=out, force=True,
                                          voice=voice, consent=Consent.declared("declared"))
                wall = time.perf_counter() - started
                qa = json.loads(result.qa_file.read_text())
                # both runs share the job's segments: the references are made once
                new = {s.speaker for s in result.segments} - found.keys()
                if new:
                    made = speakers_of(judges, rel, source,
                                       [s for s in result.segments if s.speaker in new])
                    found.update(made)
                    speakers += made.values()
                for spk in found.values():
                    spk.lines[voice] = []
                lines = judge_lines(judges, result, qa, found, rel, voice)
                for line in lines:
                    found[line["speaker"]].lines[voice].append(line)
                tempos = [s["tempo"] for s in lines]
                print(f"| {rel} | {voice} | {len(lines)} | {_mean(_col(lines, 'eres2net'))} | "
                      f"{_mean(_col(lines, 'resemblyzer'))} | {_mean(_col(lines, 'cer'))} | "
                      f"{_mean(_col(lines, 'f0_correlation'))} | {_share(_within(lines))} | "
                      f"{min(tempos, default=0):.2f}-{max(tempos, default=0):.2f} | "
                      f"{wall:.0f} |")
                _report_misses(rel, voice, qa["segments"], result)
    _print_speakers(speakers)
    _print_overall(speakers)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(_figures(speakers, args), indent=2, ensure_ascii=False)
                             + "\n")
    return 0


def _print_speakers(speakers: list[Speaker]) -> None:
    print()
    print("| recording | speaker | speaker type | speech s | ceiling | ERes2Net keep | stock | "
          "delta | CER keep | stock | delta | CER keep vs stock |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for spk in speakers:
        keep, stock = spk.lines.get("keep", []), spk.lines.get("stock", [])
        print(f"| {spk.recording} | {spk.id} | {RECORDINGS[spk.recording]} | "
              f"{spk.seconds:.1f} | {_num(spk.ceiling['eres2net'])} | "
              f"{_mean(_col(keep, 'eres2net'))} | {_mean(_col(stock, 'eres2net'))} | "
              f"{_delta(_col(keep, 'eres2net'), _col(stock, 'eres2net'))} | "
              f"{_mean(_col(keep, 'cer'))} | {_mean(_col(stock, 'cer'))} | "
              f"{_delta(_col(keep, 'cer'), _col(stock, 'cer'))} | "
              f"{_mean(_pair_cers(keep, stock))} |")


def _print_overall(speakers: list[Speaker]) -> None:
    lines = {v: [line for s in speakers for line in s.lines.get(v, [])] for v in VOICES}
    print()
    for voice in VOICES:
        rows = lines[voice]
        print(f"all, voice {voice}: {len(rows)} lines, ERes2Net {_mean(_col(rows, 'eres2net'))}, "
              f"Resemblyzer {_mean(_col(rows, 'resemblyzer'))}, CER vs own text "
              f"{_mean(_col(rows, 'cer'))}, F0 r {_mean(_col(rows, 'f0_correlation'))}, "
              f"within 10 % {_share(_within(rows))}")
    ceilings = [s.ceiling["eres2net"] for s in speakers if s.ceiling["eres2net"] is not None]
    print(f"ERes2Net ceiling (source line vs the speaker's other lines), mean over speakers: "
          f"{_mean(ceilings)}")
    keep, stock = _col(lines["keep"], "eres2net"), _col(lines["stock"], "eres2net")
    gain = float(np.mean(keep) - np.mean(stock)) if keep and stock else None
    verdict = "n/a" if gain is None else "met" if gain >= SIMILARITY_TARGET else "not met"
    print(f"ERes2Net similarity: keep {_mean(keep)}, stock {_mean(stock)}, delta "
          f"{_delta(keep, stock)} (target: +{SIMILARITY_TARGET:.2f} or more: {verdict})")
    keep, stock = _col(lines["keep"], "cer"), _col(lines["stock"], "cer")
    loss = float(np.mean(keep) - np.mean(stock)) if keep and stock else None
    verdict = "n/a" if loss is None else "met" if loss <= CER_TARGET else "not met"
    print(f"CER vs own text: keep {_mean(keep)}, stock {_mean(stock)}, delta "
          f"{_delta(keep, stock)} (target: keep within {CER_TARGET:.2f} of stock: {verdict})")
    pairs = [c for s in speakers for c in _pair_cers(s.lines.get("keep", []),
                                                     s.lines.get("stock", []))]
    print(f"CER of the kept-voice dub's transcript against the stock dub's: {_mean(pairs)} "
          f"over {len(pairs)} lines")


def _figures(speakers: list[Speaker], args) -> dict:
    """Everything measured, for ``--json``."""
    return {
        "machine": platform.machine(), "python": platform.python_version(),
        "preset": args.preset, "to": args.to, "judges": list(JUDGES),
        "speakers": [{
            "recording": s.recording, "speaker": s.id, "type": RECORDINGS[s.recording],
            "seconds": round(s.seconds, 3), "ceiling": s.ceiling,
            **{f"{name}_{v}": _value(_col(s.lines.get(v, []), name))
               for name in (*JUDGES, "cer") for v in VOICES},
        } for s in speakers],
        "lines": [line for s in speakers for v in VOICES for line in s.lines.get(v, [])],
    }


def _pair_cers(keep: list[dict], stock: list[dict]) -> list[float]:
    """Per line heard in both: CER of the kept-voice transcript against the stock one's."""
    stock_heard = {line["id"]: line["heard"] for line in stock}
    return [char_error_rate(stock_heard[line["id"]], line["heard"]) for line in keep
            if line["heard"] is not None and (stock_heard.get(line["id"]) or "").strip()]


def _report_misses(rel: str, voice: str, lines: list[dict], result) -> None:
    """Each line outside 10 % of its slot, on stderr: why it missed."""
    segs = {s.id: s for s in result.segments}
    for line in lines:
        ratio = line["duration_ratio"]
        if ratio is None or 0.9 <= ratio <= 1.1:
            continue
        seg = segs[line["id"]]
        print(f"  miss {rel} {voice} {line['id']}: {ratio:.2f} of {line['slot']:.2f} s at tempo "
              f"{line['tempo']}, flags {list(seg.flags)}: {seg.source_text!r} -> "
              f"{seg.target_text!r}", file=sys.stderr)


def _col(lines: list[dict], key: str) -> list[float]:
    return [line[key] for line in lines if line.get(key) is not None]


def _within(lines: list[dict]) -> list[bool]:
    return [0.9 <= r <= 1.1 for r in _col(lines, "duration_ratio")]


def _value(values) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _mean(values) -> str:
    return f"{float(np.mean(values)):.3f}" if values else "n/a"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _delta(a, b) -> str:
    return f"{float(np.mean(a) - np.mean(b)):+.3f}" if a and b else "n/a"


def _share(flags) -> str:
    return f"{100 * sum(flags) / len(flags):.0f} %" if flags else "n/a"


if __name__ == "__main__":
    raise SystemExit(main())
