"""COMET's pieces on top of the encoder, computed as unbabel-comet 2.2.7 computes them:
the layer-wise attention (a scalar mix of all hidden layers, optionally layer-normalised under
the padding mask), sentence pooling, and the estimator's feed-forward."""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from eval.comet.checkpoint import CometSettings
from eval.errors import EvalError


def sparsemax(weights: torch.Tensor) -> torch.Tensor:
    """Sparsemax of a vector (Martins & Astudillo 2016), as `entmax.sparsemax(weights, dim=0)`:
    the Euclidean projection onto the simplex, so that weak layers get exactly 0."""
    ordered, _ = torch.sort(weights, descending=True)
    cumulative = ordered.cumsum(0) - 1
    ranks = torch.arange(1, len(weights) + 1, dtype=weights.dtype, device=weights.device)
    support = (ranks * ordered - cumulative > 0).sum()
    tau = cumulative[support - 1] / support.to(weights.dtype)
    return torch.clamp(weights - tau, min=0)


class LayerMix(nn.Module):
    """unbabel-comet's LayerwiseAttention at inference: gamma * sum(w_k * layer_k), with
    w = softmax or sparsemax of one scalar per layer (its dropout is a training-time thing)."""

    def __init__(self, layers: int, *, transformation: str, layer_norm: bool) -> None:
        super().__init__()
        if transformation not in ("softmax", "sparsemax"):
            raise EvalError(f"unknown layer_transformation {transformation!r} (softmax or "
                            "sparsemax).")
        self.scalar_parameters = nn.ParameterList(
            [nn.Parameter(torch.zeros(1)) for _ in range(layers)])
        self.gamma = nn.Parameter(torch.ones(1))
        self.transformation = transformation
        self.layer_norm = layer_norm

    def forward(self, layers: tuple[torch.Tensor, ...], mask: torch.Tensor) -> torch.Tensor:
        weights = torch.cat(list(self.scalar_parameters))
        normed = torch.softmax(weights, dim=0) if self.transformation == "softmax" \
            else sparsemax(weights)
        if self.layer_norm:
            mask = mask.float()
            layers = tuple(_masked_layer_norm(layer, mask) for layer in layers)
        return self.gamma * sum(w * layer for w, layer in zip(normed.split(1), layers,
                                                                  strict=True))


def _masked_layer_norm(tensor: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One mean and variance per sentence over its real tokens and all dimensions."""
    broadcast = mask.unsqueeze(-1)
    batch, _, dim = tensor.size()
    masked = tensor * broadcast
    count = mask.sum(1) * dim
    mean = (masked.view(batch, -1).sum(1) / count).view(batch, 1, 1)
    variance = (((masked - mean) * broadcast) ** 2).view(batch, -1).sum(1) / count
    return (tensor - mean) / torch.sqrt(variance + 1e-12).view(batch, 1, 1)


def pool(settings: CometSettings, ids: torch.Tensor, mask: torch.Tensor,
         embeddings: torch.Tensor, last_layer: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Sentence embeddings of a regression model (unbabel-comet's pooling_utils)."""
    padding = ids.eq(pad_id).unsqueeze(-1)
    if settings.pool == "avg":
        summed = embeddings.float().masked_fill(padding, 0.0).type_as(embeddings).sum(1)
        return summed / mask.unsqueeze(-1).expand(embeddings.size()).float().sum(1)
    if settings.pool == "max":
        return embeddings.float().masked_fill(padding, float("-inf")).type_as(embeddings) \
            .max(dim=1)[0]
    if settings.pool == "cls":
        return embeddings[:, 0, :]
    if settings.pool == "default":  # the last layer's first token, whatever the mix
        return last_layer[:, 0, :]
    raise EvalError(f"unknown pooling {settings.pool!r} (avg, max, cls or default).")


def estimator(settings: CometSettings, in_dim: int) -> nn.Sequential:
    """The feed-forward regressor, module for module as unbabel-comet's FeedForward builds it
    (so that the checkpoint's `estimator.ff.N` names fit): Linear, activation, dropout..."""
    modules: list[nn.Module] = []
    sizes = (in_dim, *settings.hidden_sizes)
    for size_in, size_out in pairwise(sizes):
        modules += [nn.Linear(size_in, size_out), _activation(settings.activations),
                    nn.Dropout(0.0)]  # dropout: identity at inference, kept for the indices
    modules.append(nn.Linear(sizes[-1], 1))
    if settings.final_activation is not None:
        modules.append(_activation(settings.final_activation))
    return nn.Sequential(*modules)


def _activation(name: str) -> nn.Module:
    # unbabel-comet looks the name up title-cased in torch.nn: "tanh" -> nn.Tanh
    cls = getattr(nn, name.title(), None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise EvalError(f"unknown activation {name!r} in the COMET model's hparams.")
    return cls()
