"""A HiFi-GAN generator that turns speech features (one vector per 20 ms) into 16 kHz samples.

The architecture is HiFi-GAN V1 (Kong et al. 2020) with a linear layer in front that maps the
input features to the generator's width, as kNN-VC's vocoder of WavLM features has it
(``bshall/knn-vc``, ``hifigan/models.py``; MIT). A vocoder folder holds that project's
``config.json`` (``config_v1_wavlm.json``: ``hubert_dim``, ``hifi_dim``, ``upsample_*``,
``resblock*``, ``sampling_rate``) and one weights file: a torch checkpoint (``*.pt``/``*.pth``,
the state dict itself or under ``"generator"``, as ``prematch_g_02500000.pt``) or
``*.safetensors``. Checkpoints trained with weight normalisation store each convolution as a
direction ``weight_v`` and a gain ``weight_g`` (or the ``parametrizations.weight.original0/1``
of newer torch); they are folded into plain weights on loading, since inference never needs
them apart.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from dubkit.errors import ModelUnavailable, first_line

LRELU_SLOPE = 0.1
CONFIG = "config.json"
_WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


def _padding(kernel: int, dilation: int = 1) -> int:
    return (kernel * dilation - dilation) // 2


def _convs(channels: int, kernel: int, dilations: list[int]) -> nn.ModuleList:
    """One same-length convolution per dilation, ``channels`` in and out."""
    return nn.ModuleList(
        nn.Conv1d(channels, channels, kernel, 1, dilation=d, padding=_padding(kernel, d))
        for d in dilations)


class _ResBlock1(nn.Module):
    """Pairs of convolutions, dilated then plain, each pair a residual step (``resblock`` "1")."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs1 = _convs(channels, kernel, dilations)
        self.convs2 = _convs(channels, kernel, [1] * len(dilations))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for dilated, plain in zip(self.convs1, self.convs2, strict=True):
            x = x + plain(F.leaky_relu(dilated(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x


class _ResBlock2(nn.Module):
    """Single dilated convolutions, each a residual step (``resblock`` "2")."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs = _convs(channels, kernel, dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
        return x


class HifiGan(nn.Module):
    """``forward(features (batch, frames, dim)) -> samples (batch, frames * hop)`` in -1..1."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        rates, kernels = config["upsample_rates"], config["upsample_kernel_sizes"]
        width = int(config["upsample_initial_channel"])
        self.rate = int(config.get("sampling_rate", 16000))
        self.hop = 1
        for r in rates:
            self.hop *= int(r)
        self.lin_pre = nn.Linear(int(config["hubert_dim"]), int(config["hifi_dim"]))
        self.conv_pre = nn.Conv1d(int(config["hifi_dim"]), width, 7, 1, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(width // 2**i, width // 2 ** (i + 1), k, u, padding=(k - u) // 2)
            for i, (u, k) in enumerate(zip(rates, kernels, strict=True)))
        block = _ResBlock1 if str(config.get("resblock", "1")) == "1" else _ResBlock2
        self.kinds = len(config["resblock_kernel_sizes"])
        self.resblocks = nn.ModuleList(
            block(width // 2 ** (i + 1), k, list(d))
            for i in range(len(self.ups))
            for k, d in zip(config["resblock_kernel_sizes"], config["resblock_dilation_sizes"],
                            strict=True))
        self.conv_post = nn.Conv1d(width // 2 ** len(self.ups), 1, 7, 1, padding=3)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = self.conv_pre(self.lin_pre(features).transpose(1, 2))
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.kinds:(i + 1) * self.kinds]
            x = sum(block(x) for block in blocks) / self.kinds
        x = self.conv_post(F.leaky_relu(x))  # 0.01 slope here, as trained
        return torch.tanh(x).squeeze(1)


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every weight-normalised pair (gain ``g``, direction ``v``) replaced by its
    weight ``g * v / |v|``, the norm taken over all but the first axis, as
    ``torch.nn.utils.weight_norm`` does by default."""
    out: dict[str, torch.Tensor] = {}
    pairs: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        dotted = "." + key  # a module's own keys have no prefix
        for suffixes in ((".weight_g", ".weight_v"), (".parametrizations.weight.original0",
                                                      ".parametrizations.weight.original1")):
            hit = [s for s in suffixes if dotted.endswith(s)]
            if hit:
                prefix = dotted[1: -len(hit[0])]
                pairs.setdefault(prefix, {})["gv"[suffixes.index(hit[0])]] = value
                break
        else:
            out[key] = value
    for prefix, pair in pairs.items():
        if set(pair) != {"g", "v"}:
            raise ModelUnavailable(
                f"vocoder weights: {prefix or 'the model'} has half a weight-norm pair")
        out[f"{prefix}.weight" if prefix else "weight"] = torch._weight_norm(pair["v"],
                                                                             pair["g"], 0)
    return out


def load_hifigan(folder: str | Path, device: torch.device | str = "cpu") -> HifiGan:
    """The generator in ``folder`` (see the module's docstring), in eval mode on ``device``."""
    folder = Path(folder)
    try:
        config = json.loads((folder / CONFIG).read_text())
        files = sorted(f for f in folder.iterdir() if f.suffix in _WEIGHT_SUFFIXES)
        if len(files) != 1:
            found = ", ".join(f.name for f in files) or "none"
            raise ModelUnavailable(f"a vocoder folder needs exactly one weights file "
                                   f"({', '.join(_WEIGHT_SUFFIXES)}); {folder} has {found}")
        state = fold_weight_norm(_read_weights(files[0]))
        model = HifiGan(config)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise ModelUnavailable(
                f"the vocoder weights in {files[0]} do not fit its config.json: "
                f"{len(result.missing_keys)} missing (first: "
                f"{(result.missing_keys or ['none'])[0]}), {len(result.unexpected_keys)} "
                f"unexpected (first: {(result.unexpected_keys or ['none'])[0]})")
    except ModelUnavailable:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        # torch puts what did not fit on the lines after "Error(s) in loading state_dict"
        details = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        reason = details[0] if details else first_line(exc)
        raise ModelUnavailable(f"cannot load the vocoder from {folder}: {reason}") from exc
    return model.to(device).eval()


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    stored = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(stored, dict) and isinstance(stored.get("generator"), dict):
        stored = stored["generator"]
    if not isinstance(stored, dict):
        raise ValueError(f"{path.name} holds no state dict")
    return stored
