"""A COMET model read from its checkpoint and run with transformers 5 and torch: the same
tokenisation, encoding, layer mix, pooling and estimator as unbabel-comet 2.2.7, whose own
package cannot be installed beside ruen (it pins transformers < 5)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from eval.comet.checkpoint import DOWNLOAD, CometCheckpoint, CometSettings, read_checkpoint
from eval.comet.layers import LayerMix, estimator, pool
from eval.errors import EvalError, MissingExtra

logger = logging.getLogger(__name__)
ENCODER_PREFIX = "encoder.model."
# the XLM-R encoder's buffers (position ids) are rebuilt by transformers, not read
IGNORED = ("position_ids", "token_type_ids", "layerwise_attention.dropout_")
ENCODER_FILES = '--include "*.json" --include "*.model"'  # config, tokenizer, sentencepiece


class CometScorer:
    """One loaded COMET model. `score` gives sentence scores, as unbabel-comet's `predict`."""

    def __init__(self, checkpoint: CometCheckpoint, *, cache_dir: Path | None = None) -> None:
        self.settings = settings = checkpoint.settings
        self.name = checkpoint.name
        self.tokenizer, config = _encoder_files(settings, cache_dir)
        from transformers.initialization import no_init_weights

        with no_init_weights():  # every weight comes from the checkpoint (checked in _load);
            # drawing 560M random ones first would cost xlm-roberta-large half a minute
            self.encoder = _encoder_class(settings)(config, add_pooling_layer=False)
        layers = config.num_hidden_layers + 1  # the embeddings' output, then each layer's
        self.mix = LayerMix(layers, transformation=settings.layer_transformation,
                            layer_norm=settings.layer_norm) if settings.layer == "mix" else None
        if self.mix is None and not (isinstance(settings.layer, int) and 0 <= settings.layer
                                     < layers):
            raise EvalError(f"{checkpoint.path}: invalid layer {settings.layer!r} for an "
                            f"encoder of {layers} layers.")
        width = {"regression_metric": 6, "referenceless_regression_metric": 4,
                 "unified_metric": 1}[settings.kind] * config.hidden_size
        self.estimator = estimator(settings, width)
        self._load(checkpoint)
        # unbabel-comet truncates to the encoder's positions less XLM-R's padding offset
        self.max_positions = config.max_position_embeddings - 2

    def _load(self, checkpoint: CometCheckpoint) -> None:
        parts: dict[str, nn.Module] = {ENCODER_PREFIX: self.encoder, "estimator.ff.":
                                       self.estimator}
        if self.mix is not None:
            parts["layerwise_attention."] = self.mix
        for prefix, module in parts.items():
            weights = {k.removeprefix(prefix): v for k, v in checkpoint.state_dict.items()
                       if k.startswith(prefix) and not any(i in k for i in IGNORED)}
            expected = set(module.state_dict())
            missing = sorted(k for k in expected - set(weights) if not any(i in k for i in
                                                                          IGNORED))
            if missing:  # unbabel-comet would draw them at random (strict=False): refused
                raise EvalError(
                    f"{checkpoint.path}: does not fit its hparams.yaml ({prefix.rstrip('.')}: "
                    f"missing {', '.join(missing[:3])}).")
            unexpected = sorted(set(weights) - expected)
            if unexpected and module is not self.encoder:
                raise EvalError(
                    f"{checkpoint.path}: does not fit its hparams.yaml ({prefix.rstrip('.')}: "
                    f"unexpected {', '.join(unexpected[:3])}).")
            if unexpected:  # an old encoder's pooler: unused, and unbabel-comet ignores it too
                logger.info("%s: ignored %d encoder weights not used for scoring (%s...)",
                            checkpoint.path, len(unexpected), unexpected[0])
                weights = {k: v for k, v in weights.items() if k in expected}
            try:
                module.load_state_dict(weights, strict=False)
            except RuntimeError as error:  # a shape differs from hparams.yaml or config.json
                first = str(error).strip().splitlines()[-1].strip()
                raise EvalError(f"{checkpoint.path}: does not fit its hparams.yaml and the "
                                f"encoder's config ({prefix.rstrip('.')}: {first}).") from None
        for module in (self.encoder, self.estimator):
            module.eval()

    @classmethod
    def load(cls, model: str | Path, *, cache_dir: Path | None = None) -> CometScorer:
        """From a model directory, its `checkpoints/model.ckpt`, or a hub name in the cache."""
        return cls(read_checkpoint(model, cache_dir=cache_dir), cache_dir=cache_dir)

    @torch.inference_mode()
    def score(self, sources: Sequence[str], hypotheses: Sequence[str],
              references: Sequence[str] | None = None, *, batch_size: int = 8,
              on_progress: Callable[[int], None] | None = None) -> list[float]:
        """Sentence scores of each hypothesis, in input order. References are needed by
        reference-based models, ignored by referenceless ones (CometKiwi, QE).
        `on_progress(n)` is called after each batch with its number of sentences."""
        settings = self.settings
        if references is None and settings.needs_reference:
            raise EvalError(f"COMET model {self.name} needs references.")
        segments = {"src": sources, "mt": hypotheses}
        if references is not None and settings.reads_reference:
            segments["ref"] = references
        if len({len(s) for s in segments.values()}) > 1:
            raise EvalError("COMET needs source, hypothesis and reference of the same length.")
        if batch_size < 1:
            raise EvalError(f"batch size must be 1 or more, not {batch_size}.")
        # longest first: the first batch shows at once whether memory suffices
        order = sorted(range(len(hypotheses)),
                       key=lambda i: -max(len(s[i]) for s in segments.values()))
        scores: list[float] = [0.0] * len(order)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            batch = {k: [str(v[i]) for i in chosen] for k, v in segments.items()}
            for i, value in zip(chosen, self._batch(batch).tolist(), strict=True):
                scores[i] = value
            if on_progress is not None:
                on_progress(len(chosen))
        return scores

    def _batch(self, batch: dict[str, list[str]]) -> torch.Tensor:
        if self.settings.kind == "unified_metric":
            return self._unified(batch)
        embedded = {k: self._sentence_embedding(self._tokenize(v)) for k, v in batch.items()}
        mt, src = embedded["mt"], embedded["src"]
        features = [mt]
        if self.settings.kind == "regression_metric":
            ref = embedded["ref"]
            features += [ref, mt * ref, torch.abs(mt - ref)]
        else:
            features.append(src)
        features += [mt * src, torch.abs(mt - src)]
        return self.estimator(torch.cat(features, dim=1)).view(-1)

    def _tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True,
                              max_length=self.max_positions - 2)

    def _layers(self, ids: torch.Tensor, mask: torch.Tensor
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """The layer (mix) the model reads, and the last layer."""
        output = self.encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        layers = output.hidden_states
        mixed = self.mix(layers, mask) if self.mix is not None else \
            layers[self.settings.layer]  # type: ignore[index]  # an int: checked on load
        return mixed, output.last_hidden_state

    def _sentence_embedding(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        ids, mask = tokens["input_ids"], tokens["attention_mask"]
        embeddings, last = self._layers(ids, mask)
        return pool(self.settings, ids, mask, embeddings, last, self.tokenizer.pad_token_id)

    def _unified(self, batch: dict[str, list[str]]) -> torch.Tensor:
        """CometKiwi and the unified models: one joint encoding per input combination
        (mt+src, mt+ref, mt+src+ref, in the order of `input_segments`), the first token's
        embedding to the estimator; with three inputs the score is the mean of the three."""
        tokens = [self._tokenize(batch[k]) for k in ("mt", "src", "ref") if k in batch]
        if len(tokens) == 3:
            combinations = [tokens[:2], [tokens[0], tokens[2]], tokens]
        else:
            combinations = [tokens]
        scores = []
        for combination in combinations:
            ids, mask = self._concatenate(combination)
            embeddings, _ = self._layers(ids, mask)
            scores.append(self.estimator(embeddings[:, 0, :]).view(-1))
        return torch.stack(scores, dim=0).mean(dim=0)

    def _concatenate(self, inputs: list[dict[str, torch.Tensor]]
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """`<s> a </s></s> b </s>...` per sentence, as unbabel-comet's concat_sequences: each
        part keeps its own truncation, the whole is cut at the encoder's positions."""
        pad, cls, sep = (self.tokenizer.pad_token_id, self.tokenizer.cls_token_id,
                         self.tokenizer.sep_token_id)
        parts = [[row[row.ne(pad)].tolist() for row in x["input_ids"]] for x in inputs]
        special = 1 + len(inputs) * 2  # <s> and two </s> per part
        sequences = []
        for i in range(len(parts[0])):
            inner = [part[i][1:-1] for part in parts]
            sequence = parts[0][i]
            for more in inner[1:]:
                sequence = [cls, *sequence[1:-1], sep, sep, *more, sep]
            if sum(map(len, inner)) > self.max_positions - special:
                sequence = sequence[:self.max_positions]
            sequences.append(sequence)
        longest = max(map(len, sequences))
        ids = torch.tensor([s + [pad] * (longest - len(s)) for s in sequences])
        lengths = torch.tensor([len(s) for s in sequences])
        return ids, torch.arange(longest)[None, :] < lengths[:, None]


def _encoder_class(settings: CometSettings) -> Any:
    import transformers

    return transformers.XLMRobertaXLModel if settings.encoder_model == "XLM-RoBERTa-XL" \
        else transformers.XLMRobertaModel


def _encoder_files(settings: CometSettings, cache_dir: Path | None) -> tuple[Any, Any]:
    """The encoder's tokenizer and config (not its weights: the checkpoint has them), from a
    directory or the Hugging Face cache, never the network."""
    import transformers

    name = settings.pretrained_model
    config_class = transformers.XLMRobertaXLConfig if settings.encoder_model == \
        "XLM-RoBERTa-XL" else transformers.XLMRobertaConfig
    missing = EvalError(
        f"the COMET model's encoder {name} (its tokenizer and config.json) is not in the "
        f"Hugging Face cache; download it first (not its weights: the COMET checkpoint has "
        f"them): `{DOWNLOAD.format(name=name)} {ENCODER_FILES}`.")
    try:
        config = config_class.from_pretrained(name, cache_dir=cache_dir, local_files_only=True)
    except OSError:
        raise missing from None
    try:
        tokenizer = transformers.XLMRobertaTokenizer.from_pretrained(
            name, cache_dir=cache_dir, local_files_only=True)
    except OSError:
        raise missing from None
    except (ValueError, ImportError) as error:  # sentencepiece.bpe.model without protobuf
        raise MissingExtra(
            f"the tokenizer of {name} could not be read ({str(error).splitlines()[0][:120]}); "
            "converting its sentencepiece.bpe.model needs protobuf: "
            "`pip install 'ruen[comet]'`.") from None
    return tokenizer, config
