"""The watermark's payload and its channel code.

A payload is a 32-bit job id and a 4-bit format version: 36 bits. On the channel they travel as
36 bits + CRC-8, then a rate-1/2 convolutional code (constraint length 7, the NASA/802.11 pair
133/171 octal, 6 zero tail bits): 100 coded bits. The detector hands back one soft value per coded
bit (positive means 0); soft Viterbi decoding corrects the errors, and the CRC rejects what it could
not correct, so a payload is reported only when its check passes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dubkit.errors import InputError

JOB_ID_BITS = 32
VERSION_BITS = 4
PAYLOAD_BITS = JOB_ID_BITS + VERSION_BITS  # 36
CRC_BITS = 8
_CRC_POLY = 0x07  # CRC-8/SMBUS: x^8 + x^2 + x + 1
_K = 7  # constraint length
_GENERATORS = (0o133, 0o171)
_TAIL = _K - 1
CODED_BITS = 2 * (PAYLOAD_BITS + CRC_BITS + _TAIL)  # 100
FORMAT_VERSION = 1  # what dubkit writes today


@dataclass(frozen=True)
class Payload:
    """What a watermark carries: the dub's job id (32 bits) and the format version (4 bits)."""

    job_id: int
    version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if not 0 <= self.job_id < 1 << JOB_ID_BITS:
            raise InputError(f"job_id must be in [0, 2**32), got {self.job_id}")
        if not 0 <= self.version < 1 << VERSION_BITS:
            raise InputError(f"version must be in [0, 16), got {self.version}")

    def to_bits(self) -> np.ndarray:
        """The 36 payload bits, most significant first: job id then version, ``(36,)`` uint8."""
        value = (self.job_id << VERSION_BITS) | self.version
        return np.array([(value >> i) & 1 for i in range(PAYLOAD_BITS - 1, -1, -1)], np.uint8)

    @staticmethod
    def from_bits(bits: np.ndarray) -> Payload:
        """Inverse of ``to_bits``."""
        bits = np.asarray(bits).astype(np.int64).ravel()
        if bits.size != PAYLOAD_BITS:
            raise InputError(f"a payload has {PAYLOAD_BITS} bits, got {bits.size}")
        value = int("".join(str(int(b)) for b in bits), 2)
        return Payload(value >> VERSION_BITS, value & ((1 << VERSION_BITS) - 1))

    @staticmethod
    def from_job_id(job_id: str | int, version: int = FORMAT_VERSION) -> Payload:
        """A payload for a job: an int is taken as is; a string (a job folder's id) is hashed to
        32 bits, so the same job always gets the same mark."""
        if isinstance(job_id, int):
            return Payload(job_id, version)
        import hashlib

        digest = hashlib.sha256(job_id.encode("utf-8")).digest()
        return Payload(int.from_bytes(digest[:4], "big"), version)


def crc8(bits: np.ndarray) -> np.ndarray:
    """CRC-8 (polynomial 0x07, initial 0) of a bit sequence, ``(8,)`` uint8 MSB first."""
    reg = 0
    for b in np.asarray(bits).astype(np.int64):
        top = ((reg >> 7) & 1) ^ int(b)
        reg = (reg << 1) & 0xFF
        if top:
            reg ^= _CRC_POLY
    return np.array([(reg >> i) & 1 for i in range(CRC_BITS - 1, -1, -1)], np.uint8)


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


# Output bits of each (state, input) transition; the state holds the last K-1 inputs, newest in
# the high bit. Computed once: (64 states, 2 inputs, 2 outputs).
_STATES = 1 << (_K - 1)
_OUT = np.array([
    [[_parity(((b << (_K - 1)) | s) & g) for g in _GENERATORS] for b in (0, 1)]
    for s in range(_STATES)
], dtype=np.int8)
_NEXT = np.array([[((b << (_K - 1)) | s) >> 1 for b in (0, 1)] for s in range(_STATES)])


def encode(payload: Payload) -> np.ndarray:
    """The ``CODED_BITS`` (100) channel bits of ``payload``, ``(100,)`` uint8."""
    info = payload.to_bits()
    message = np.concatenate([info, crc8(info), np.zeros(_TAIL, np.uint8)])
    out = np.empty(2 * message.size, np.uint8)
    state = 0
    for i, b in enumerate(message):
        out[2 * i:2 * i + 2] = _OUT[state, b]
        state = _NEXT[state, b]
    return out


def decode(soft: np.ndarray) -> Payload | None:
    """The payload from ``(100,)`` soft values (positive: bit 0, magnitude: confidence), or None
    when the decoded bits fail the CRC."""
    soft = np.asarray(soft, dtype=np.float64).ravel()
    if soft.size != CODED_BITS:
        raise InputError(f"expected {CODED_BITS} soft values, got {soft.size}")
    steps = soft.size // 2
    sign = 1.0 - 2.0 * _OUT  # (states, inputs, 2): +1 for an output bit 0
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    back = np.zeros((steps, _STATES), np.int64)  # previous state of each survivor
    bit_in = np.zeros((steps, _STATES), np.int8)
    # next state n = (b << 5) | (s >> 1): its two predecessors differ in the lowest bit only
    nxt = np.arange(_STATES)
    b_of = nxt >> (_K - 2)  # the input bit that leads into each state
    pred = np.stack([((nxt & (_STATES // 2 - 1)) << 1), ((nxt & (_STATES // 2 - 1)) << 1) | 1])
    for t in range(steps):
        gain = sign @ soft[2 * t:2 * t + 2]  # (states, inputs): agreement with what was heard
        cand = metric[pred] + gain[pred, b_of]  # (2 predecessors, states)
        pick = np.argmax(cand, axis=0)
        metric = cand[pick, nxt]
        back[t] = pred[pick, nxt]
        bit_in[t] = b_of
    state = 0  # the tail drives the encoder back to state 0
    bits = np.zeros(steps, np.uint8)
    for t in range(steps - 1, -1, -1):
        bits[t] = bit_in[t, state]
        state = back[t, state]
    info = bits[:PAYLOAD_BITS]
    if not np.array_equal(crc8(info), bits[PAYLOAD_BITS:PAYLOAD_BITS + CRC_BITS]):
        return None
    return Payload.from_bits(info)
