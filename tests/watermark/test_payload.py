"""Payload bits, CRC-8 and the rate-1/2 convolutional code with soft Viterbi decoding."""
from __future__ import annotations

import numpy as np
import pytest

from dubkit.errors import InputError
from dubkit.watermark.payload import CODED_BITS, PAYLOAD_BITS, Payload, crc8, decode, encode


@pytest.mark.parametrize("job_id,version", [(0, 0), (0xDEADBEEF, 1), (2**32 - 1, 15), (12345, 7)])
def test_bits_round_trip(job_id, version):
    p = Payload(job_id, version)
    bits = p.to_bits()
    assert bits.shape == (PAYLOAD_BITS,) and set(np.unique(bits)) <= {0, 1}
    assert Payload.from_bits(bits) == p
    assert decode(1.0 - 2.0 * encode(p)) == p
    assert encode(p).shape == (CODED_BITS,)


def test_out_of_range_is_an_input_error():
    with pytest.raises(InputError):
        Payload(2**32)
    with pytest.raises(InputError):
        Payload(1, 16)
    with pytest.raises(InputError):
        Payload.from_bits(np.zeros(35))
    with pytest.raises(InputError):
        decode(np.zeros(10))


def test_job_id_strings_hash_stably():
    assert Payload.from_job_id("job-2024-abc") == Payload.from_job_id("job-2024-abc")
    assert Payload.from_job_id("job-a") != Payload.from_job_id("job-b")
    assert Payload.from_job_id(7, version=3) == Payload(7, 3)


def test_crc_detects_single_bit_flips():
    bits = Payload(0xCAFEBABE, 2).to_bits()
    for i in range(PAYLOAD_BITS):
        flipped = bits.copy()
        flipped[i] ^= 1
        assert not np.array_equal(crc8(flipped), crc8(bits))


def test_soft_decoding_corrects_noise_and_hard_errors():
    rng = np.random.default_rng(0)
    p = Payload(0x12345678, 1)
    clean = 1.0 - 2.0 * encode(p)
    ok = sum(decode(clean + rng.normal(0, 0.7, CODED_BITS)) == p for _ in range(50))
    assert ok >= 48
    hard = clean.copy()
    hard[rng.choice(CODED_BITS, 6, replace=False)] *= -1  # six flipped coded bits
    assert decode(hard) == p


def test_noise_rarely_passes_the_crc():
    rng = np.random.default_rng(1)
    passed = sum(decode(rng.normal(0, 1, CODED_BITS)) is not None for _ in range(400))
    assert passed <= 6  # expected 400 / 256
