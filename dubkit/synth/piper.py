"""Piper voices (VITS exported to ONNX) run directly through onnxruntime.

Text becomes espeak-ng IPA (phonemizer over espeakng-loader's library), mapped to ids with the
voice json's ``phoneme_id_map`` the way Piper does it: ``^``, then each phoneme followed by the
pad ``_``, then ``$``. The GPL-3.0 ``piper-tts`` runtime is not needed.

The exported graph draws its noise (duration and prior sampling) with ``RandomNormalLike``, whose
generator lives inside the session and moves on with every run, so a sentence would never come
out the same twice. Before loading, those nodes are rewritten to slice the noise from extra
inputs that dubkit fills from a fixed seed (``_seeded_graph``), which keeps Piper's own noise
scales and makes synthesis repeatable.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from dubkit.errors import InputError, ModelUnavailable, UnsupportedLanguage
from dubkit.languages import language_name
from dubkit.synth.base import VoiceRequest
from dubkit.synth.voices import VoiceSpreader
from dubkit.types import Audio, Seconds

log = logging.getLogger(__name__)

_NOISE = "dubkit_noise_{}"
_FRAMES_PER_ID = 8  # noise sized for this many frames per phoneme id; about 3 are usual
_MAX_PHONEMES = 400  # longer text runs as several pieces, cut at sentence then clause marks
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—])\s+")


class PiperSynthesizer:
    """A ``Synthesizer`` over one Piper voice folder (``model.onnx`` + ``model.onnx.json``).

    ``length_scale``, ``noise_scale`` and ``noise_w`` default to the voice json's values; ``seed``
    fixes the noise. A single-speaker voice serves every speaker; a multi-speaker one spreads the
    speakers over its speaker ids.
    """

    def __init__(
        self,
        model_path: str | Path,
        length_scale: float | None = None,
        noise_scale: float | None = None,
        noise_w: float | None = None,
        seed: int = 0,
        silence: Seconds = 0.2,
        name: str | None = None,
    ) -> None:
        folder = Path(model_path)
        self._onnx = _find(folder, "*.onnx")
        config_path = self._onnx.with_name(self._onnx.name + ".json")
        try:
            self.config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"cannot read the Piper voice config {config_path}: {exc}") from exc
        inference = self.config.get("inference", {})
        self.length_scale = float(length_scale if length_scale is not None
                                  else inference.get("length_scale", 1.0))
        self.noise_scale = float(noise_scale if noise_scale is not None
                                 else inference.get("noise_scale", 0.667))
        self.noise_w = float(noise_w if noise_w is not None else inference.get("noise_w", 0.8))
        if self.length_scale <= 0 or self.noise_scale < 0 or self.noise_w < 0:
            raise InputError("Piper needs length_scale > 0 and noise_scale, noise_w >= 0")
        if self.config.get("phoneme_type", "espeak") != "espeak":
            raise ModelUnavailable(f"{folder.name}: only espeak-phoneme Piper voices are supported")
        self.rate = int(self.config["audio"]["sample_rate"])  # 22.05 kHz for medium voices
        self._ids: dict[str, list[int]] = self.config["phoneme_id_map"]
        self._espeak = self.config.get("espeak", {}).get("voice", "en-us")
        lang = self.config.get("language", {})
        code = (lang.get("family") or self._espeak.split("-")[0]).lower()
        self.languages = frozenset({code})
        self.seed, self.silence = seed, silence
        self.name = name or f"piper:{folder.name}"
        speakers = self.config.get("speaker_id_map") or {}
        self._speakers = {str(k): int(v) for k, v in speakers.items()}
        names = sorted(self._speakers, key=self._speakers.get) or [
            str(self.config.get("dataset") or self._onnx.stem)]
        self._spread = VoiceSpreader(female=(), male=(), neutral=names) if len(names) > 1 \
            else VoiceSpreader(female=names, male=names)
        self._session: Any = None
        self._noise: list[np.ndarray] = []
        self._lock = threading.Lock()

    @property
    def voices(self) -> list[str]:
        return self._spread.voices

    def voice_for(self, request: VoiceRequest) -> str:
        """A speaker name of the voice; the one voice for every request if it has one."""
        self._check(request.language)
        return self._spread.pick(request.speaker, request.gender)

    def stock_voices(self, language: str) -> dict[str, str | None]:
        """The model's speakers; a Piper voice card does not say their gender."""
        self._check(language)
        return {name: None for name in self.voices}

    def backend_for(self, language: str) -> str:
        """This synthesizer's name, once ``language`` is one it speaks."""
        self._check(language)
        return self.name

    def synthesize(self, text: str, language: str, voice: str) -> Audio:
        """Mono speech at the voice's rate; the same input gives the same samples."""
        self._check(language)
        if voice not in self.voices:
            raise InputError(f"{self.name} has no voice {voice!r}; voices: "
                             f"{', '.join(self.voices)}")
        from dubkit.synth.espeak import phonemize

        phonemes = phonemize(unicodedata.normalize("NFC", text or ""), self._espeak)
        pieces = [p for p in _pieces(phonemes) if any(c.isalpha() for c in p)]
        if not pieces:
            return Audio.silence(self.silence, self.rate)
        parts = []
        for i, piece in enumerate(pieces):
            if i:
                parts.append(np.zeros(int(self.silence * self.rate), np.float32))
            parts.append(self._run(self._to_ids(piece), self._speakers.get(voice)))
        return Audio(np.clip(np.concatenate(parts), -1.0, 1.0), self.rate)

    def _to_ids(self, phonemes: str) -> list[int]:
        ids = list(self._ids["^"]) + list(self._ids["_"])
        for p in unicodedata.normalize("NFD", phonemes):  # "ç" is "c" + U+0327 in the map
            if p in self._ids:
                ids += self._ids[p] + self._ids["_"]
        return ids + list(self._ids["$"])

    def _run(self, ids: list[int], speaker: int | None) -> np.ndarray:
        """One piece through the network: ``(samples,)`` float32."""
        session, noise_inputs = self._load()
        feed = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([self.noise_scale, self.length_scale, self.noise_w], np.float32),
        }
        if speaker is not None and "sid" in {i.name for i in session.get_inputs()}:
            feed["sid"] = np.array([speaker], dtype=np.int64)
        # Noise for 192 channels a frame; a shortfall fails the Reshape and is retried with more.
        need = int(192 * _FRAMES_PER_ID * len(ids) * max(1.0, self.length_scale)) + 4096
        for _ in range(4):
            self._grow_noise(noise_inputs, need)
            feed.update({n: self._noise[i][:need] for i, n in enumerate(noise_inputs)})
            try:
                return np.asarray(session.run(None, feed)[0], np.float32).reshape(-1)
            except Exception as exc:  # onnxruntime's errors share no useful base class
                if not noise_inputs or "reshape" not in str(exc).lower():
                    raise
                need *= 4
        raise InputError(f"{self.name}: the text is too long for one piece")

    def _grow_noise(self, names: list[str], size: int) -> None:
        """Standard normal noise per rewritten node, from the seed: each draw extends the last
        one (numpy fills arrays in order), so the noise does not depend on earlier calls."""
        for i in range(len(names)):
            if i == len(self._noise) or self._noise[i].shape[0] < size:
                rng = np.random.default_rng([self.seed, i])
                fresh = rng.standard_normal(size, dtype=np.float32)
                self._noise[i:i + 1] = [fresh]

    def _load(self) -> tuple[Any, list[str]]:
        with self._lock:
            if self._session is None:
                from dubkit.onnx_session import cpu_session, import_onnxruntime

                ort = import_onnxruntime("piper needs onnxruntime: pip install onnxruntime")
                model = self._onnx.read_bytes()
                try:
                    model, noise_inputs = _seeded_graph(model)
                except Exception as exc:  # an export this rewrite does not understand
                    log.warning("%s: cannot fix the voice's noise (%s); it will vary", self.name,
                                exc)
                    noise_inputs = []
                options = ort.SessionOptions()
                options.log_severity_level = 4  # a noise shortfall is retried, not reported
                # onnxruntime 1.2x-1.3x spends seconds planning buffer reuse for this graph;
                # without it loading takes a quarter of the time and synthesis is no slower.
                options.enable_mem_reuse = False
                try:
                    self._session = cpu_session(model, options)
                except Exception as exc:
                    raise ModelUnavailable(
                        f"cannot load the Piper voice {self._onnx}: {exc}") from exc
                self._noise_inputs = noise_inputs
            return self._session, self._noise_inputs

    def _check(self, language: str) -> None:
        code = (language or "").strip().lower()
        if code not in self.languages:
            raise UnsupportedLanguage(
                f"{self.name} cannot speak {language_name(code)} ({code or 'empty'}); "
                f"it speaks: {', '.join(sorted(self.languages))}")


def _find(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern)) if folder.is_dir() else []
    if not found:
        raise ModelUnavailable(f"no Piper voice ({pattern}) in {folder}")
    return found[0]


def _pieces(phonemes: str) -> list[str]:
    """``phonemes`` cut into runs of at most ``_MAX_PHONEMES``: at sentence ends, then clause
    marks, then spaces, whole sentences packed together while they fit."""
    out: list[str] = []
    for atom in _atoms(phonemes, (_SENTENCE_END, _CLAUSE_END, re.compile(r"\s+"))):
        if out and len(out[-1]) + 1 + len(atom) <= _MAX_PHONEMES:
            out[-1] += " " + atom
        else:
            out.append(atom)
    return out


def _atoms(text: str, cuts: tuple[re.Pattern, ...]) -> list[str]:
    if len(text) <= _MAX_PHONEMES:
        return [text] if text.strip() else []
    if not cuts:
        return [text[i:i + _MAX_PHONEMES] for i in range(0, len(text), _MAX_PHONEMES)]
    return [a for part in cuts[0].split(text) for a in _atoms(part.strip(), cuts[1:])]


def _seeded_graph(model: bytes) -> tuple[bytes, list[str]]:
    """``model`` with each ``RandomNormalLike(x)`` replaced by ``Reshape(Slice(noise_i, 0,
    size(x)), shape(x))`` over a new float input ``noise_i``; the names of those inputs."""
    proto = _model_proto_class().FromString(model)
    graph = proto.graph
    node_class = type(graph.node[0])
    nodes, inputs = [], []
    for node in graph.node:
        if node.op_type != "RandomNormalLike" or node.domain not in ("", "ai.onnx"):
            kept = node_class()
            kept.CopyFrom(node)
            nodes.append(kept)
            continue
        attrs = {a.name: a for a in node.attribute}
        if attrs.get("dtype") is not None and attrs["dtype"].i not in (0, 1):  # 1: float
            raise ValueError("RandomNormalLike that is not float")
        if (attrs.get("mean") and attrs["mean"].f) or (
                attrs.get("scale") and attrs["scale"].f not in (0.0, 1.0)):
            raise ValueError("RandomNormalLike with mean or scale")
        name = _NOISE.format(len(inputs))
        inputs.append(name)
        x, y, tag = node.input[0], node.output[0], f"{name}/"
        nodes += [
            _node(node_class, "Shape", [x], [tag + "shape"]),
            _node(node_class, "ReduceProd", [tag + "shape"], [tag + "size"]),  # (1,) int64
            _node(node_class, "Sub", [tag + "size", tag + "size"], [tag + "zero"]),
            _node(node_class, "Slice", [name, tag + "zero", tag + "size"], [tag + "flat"]),
            _node(node_class, "Reshape", [tag + "flat", tag + "shape"], [y]),
        ]
        graph_input = graph.input.add(name=name)
        graph_input.type.tensor_type.elem_type = 1  # float
        graph_input.type.tensor_type.shape.dim.add(dim_param=name + "_size")
    if not inputs:
        return model, []
    del graph.node[:]
    graph.node.extend(nodes)
    return proto.SerializeToString(), inputs


def _node(node_class: type, op: str, inputs: list[str], outputs: list[str]) -> Any:
    node = node_class(op_type=op, name=outputs[0] + "/" + op)
    node.input.extend(inputs)
    node.output.extend(outputs)
    return node


# Just enough of onnx.proto to edit a graph's nodes and inputs: every other field is kept as an
# unknown field and written back unchanged, so neither the onnx package nor its schema is needed.
_ONNX_SUBSET = {
    "ModelProto": [("graph", 7, "GraphProto")],
    "GraphProto": [("node", 1, "*NodeProto"), ("input", 11, "*ValueInfoProto")],
    "NodeProto": [("input", 1, "*string"), ("output", 2, "*string"), ("name", 3, "string"),
                  ("op_type", 4, "string"), ("attribute", 5, "*AttributeProto"),
                  ("domain", 7, "string")],
    "AttributeProto": [("name", 1, "string"), ("f", 2, "float"), ("i", 3, "int64")],
    "ValueInfoProto": [("name", 1, "string"), ("type", 2, "TypeProto")],
    "TypeProto": [("tensor_type", 1, "TensorType")],
    "TensorType": [("elem_type", 1, "int32"), ("shape", 2, "TensorShapeProto")],
    "TensorShapeProto": [("dim", 1, "*Dimension")],
    "Dimension": [("dim_value", 1, "int64"), ("dim_param", 2, "string")],
}


@lru_cache(maxsize=1)
def _model_proto_class() -> type:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    scalars = {"string": field.TYPE_STRING, "float": field.TYPE_FLOAT,
               "int64": field.TYPE_INT64, "int32": field.TYPE_INT32}
    package = "dubkit_onnx_subset"
    schema = descriptor_pb2.FileDescriptorProto(
        name=f"{package}.proto", package=package, syntax="proto2")
    for message, fields in _ONNX_SUBSET.items():
        spec = schema.message_type.add(name=message)
        for name, number, kind in fields:
            label = field.LABEL_REPEATED if kind.startswith("*") else field.LABEL_OPTIONAL
            kind = kind.lstrip("*")
            f = spec.field.add(name=name, number=number, label=label)
            if kind in scalars:
                f.type = scalars[kind]
            else:
                f.type, f.type_name = field.TYPE_MESSAGE, f".{package}.{kind}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(schema)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.ModelProto"))
