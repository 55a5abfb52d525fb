"""Inaudible watermarks on synthesized speech, and their detection.

``SpreadSpectrumWatermarker`` is the default (numpy only); ``AudioSealWatermarker`` wraps Meta's
AudioSeal when its package and checkpoints are at hand.
"""
from dubkit.watermark.base import DEFAULT_KEY, Detection, Watermarker, key_id
from dubkit.watermark.payload import FORMAT_VERSION, Payload
from dubkit.watermark.spread_spectrum import SpreadSpectrumWatermarker

__all__ = [
    "DEFAULT_KEY",
    "FORMAT_VERSION",
    "Detection",
    "Payload",
    "SpreadSpectrumWatermarker",
    "Watermarker",
    "key_id",
]
