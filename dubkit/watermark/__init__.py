"""Inaudible watermarks on synthesized speech, and their detection.

``LayeredWatermarker`` is the default (numpy only): ``SpreadSpectrumWatermarker`` carries the job
id, ``BandEnergyWatermarker`` says "this key" through low-bitrate codecs and mixing.
``AudioSealWatermarker`` wraps Meta's AudioSeal when its package and checkpoints are at hand.
"""
from dubkit.watermark.band_energy import BandEnergyWatermarker
from dubkit.watermark.base import DEFAULT_KEY, Detection, Watermarker, key_id
from dubkit.watermark.layered import LayeredWatermarker
from dubkit.watermark.payload import FORMAT_VERSION, Payload
from dubkit.watermark.spread_spectrum import SpreadSpectrumWatermarker

__all__ = [
    "BandEnergyWatermarker",
    "DEFAULT_KEY",
    "FORMAT_VERSION",
    "Detection",
    "LayeredWatermarker",
    "Payload",
    "SpreadSpectrumWatermarker",
    "Watermarker",
    "key_id",
]
