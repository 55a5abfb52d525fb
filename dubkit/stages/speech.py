"""The dub's speech: each target line spoken with its speaker's voice and fitted to its slot."""
from __future__ import annotations

import shutil

import soundfile as sf

from dubkit.jobs.cache import content_key
from dubkit.progress import StageProgress
from dubkit.stages.context import JobContext
from dubkit.synth.fit import TempoFitter
from dubkit.types import Audio, Placement, Segment


def synthesize_and_fit(job: JobContext, segments: list[Segment], target: str) -> list[Segment]:
    """Speak each target line with its speaker's voice, then fit it to its slot: it starts
    where the source line starts and is sped up (pitch kept) up to ``fit.max_tempo``."""
    voices = {s.id: s.voice for s in job.project.speakers}
    fingerprint = job.backends.fingerprint("synthesis")
    fitter = TempoFitter(max_tempo=job.preset.fit.max_tempo)
    cache, paths = job.cache, job.paths
    paths.segments_dir.mkdir(parents=True, exist_ok=True)
    out = []
    with StageProgress(job.progress, "synthesize", len(segments)) as bar:
        for seg in segments:
            text = seg.target_text.strip()
            if not text:
                out.append(seg.replace(audio_file=None, placement=None,
                                       flags=tuple(dict.fromkeys(seg.flags + ("empty-text",)))))
                bar.advance(seg.id)
                continue
            voice = voices.get(seg.speaker) or ""
            synth_key = content_key("synthesize", text, target, voice, fingerprint)
            with job.timed("synthesize"):
                speech = cache.get_audio("synthesize", synth_key)
                if speech is None:
                    speech = job.backends.get("synthesis").synthesize(text, target, voice)
                    cache.put_audio("synthesize", synth_key, speech)
            with job.timed("fit"):
                fit_key = content_key("fit", synth_key, seg.duration, fitter.max_tempo)
                fitted = cache.get_json("fit", fit_key)
                if fitted is None or not cache.audio_path("fit", fit_key).is_file():
                    result = fitter.fit(speech, seg.duration)
                    cache.put_audio("fit", fit_key, result.audio, count=False)
                    fitted = [result.tempo, result.overflow, result.audio.duration]
                    cache.put_json("fit", fit_key, fitted)
                tempo, overflow, length = fitted
                audio_file = paths.segments_dir / f"{seg.id}.wav"
                shutil.copyfile(cache.audio_path("fit", fit_key), audio_file)
            placement = Placement(seg.start, round(seg.start + length, 3),
                                  round(tempo, 4), round(overflow, 3))
            flags = tuple(f for f in seg.flags if f not in ("empty-text", "overflow"))
            if placement.overflow > 0:
                flags = tuple(dict.fromkeys(flags + ("overflow",)))
            out.append(seg.replace(
                audio_file=str(audio_file.relative_to(paths.job_dir)),
                placement=placement, flags=flags,
            ))
            bar.advance(seg.id)
    return out


def segment_audio(job: JobContext, seg: Segment) -> Audio:
    """The fitted dub of ``seg`` as written in the job folder."""
    samples, rate = sf.read(job.paths.job_dir / seg.audio_file, dtype="float32")
    return Audio(samples, rate)
