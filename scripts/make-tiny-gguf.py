#!/usr/bin/env python3
"""Writes a tiny llama-architecture GGUF model with deterministic pseudo-random weights.

For the llama.cpp recipe's tests: `llama-server` loads it and answers /health, /v1/completions and
/v1/chat/completions (the answers are noise; the shapes are real). Same bytes on every run and
every numpy version: the weights come from SHAKE-256 over the tensor's name, not from numpy's RNG.

usage: PYTHONPATH=<python3-gguf's dist-packages> python3 scripts/make-tiny-gguf.py OUT.gguf
"""
import hashlib
import sys

import numpy as np
from gguf import GGUFWriter, TokenType

N_EMBD, N_HEAD, N_FF, N_LAYER, N_CTX = 64, 4, 128, 2, 256
WORDS = ("the a an is are was be to of and in on at it this that hello world yes no one two three "
         "four five model server answer question test tiny token text small fast ok good day "
         "user assistant system you i we they what how why when where who").split()


def weights(name: str, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    raw = np.frombuffer(hashlib.shake_256(name.encode()).digest(n), dtype=np.uint8)
    return ((raw.astype(np.float32) / 255.0 - 0.5) * 0.2).reshape(shape)


def main(out: str) -> None:
    tokens: list[bytes] = [b"<unk>", b"<s>", b"</s>"]
    types: list[int] = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>".encode() for b in range(256)]
    types += [TokenType.BYTE] * 256
    for w in WORDS:
        tokens.append(("\u2581" + w).encode())
        types.append(TokenType.NORMAL)
    n_vocab = len(tokens)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(WORDS))]

    g = GGUFWriter(out, "llama")
    g.add_name("dynamo-image tiny test model")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD)
    g.add_rope_dimension_count(N_EMBD // N_HEAD)
    g.add_layer_norm_rms_eps(1e-5)
    g.add_file_type(0)  # all F32
    g.add_vocab_size(n_vocab)
    g.add_tokenizer_model("llama")
    g.add_token_list(tokens)
    g.add_token_scores(scores)
    g.add_token_types(types)
    g.add_unk_token_id(0)
    g.add_bos_token_id(1)
    g.add_eos_token_id(2)
    g.add_add_bos_token(True)

    g.add_tensor("token_embd.weight", weights("token_embd", (n_vocab, N_EMBD)))
    for i in range(N_LAYER):
        p = f"blk.{i}."
        g.add_tensor(p + "attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for t in ("attn_q", "attn_k", "attn_v", "attn_output"):
            g.add_tensor(p + t + ".weight", weights(p + t, (N_EMBD, N_EMBD)))
        g.add_tensor(p + "ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        g.add_tensor(p + "ffn_gate.weight", weights(p + "ffn_gate", (N_FF, N_EMBD)))
        g.add_tensor(p + "ffn_up.weight", weights(p + "ffn_up", (N_FF, N_EMBD)))
        g.add_tensor(p + "ffn_down.weight", weights(p + "ffn_down", (N_EMBD, N_FF)))
    g.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    g.add_tensor("output.weight", weights("output", (n_vocab, N_EMBD)))

    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make-tiny-gguf.py OUT.gguf")
    main(sys.argv[1])
