"""The "model": tokens are words; generation echoes the prompt's tokens back, up to max_tokens."""


def tokenize(text):
    return [t for t in text.split() if t]


def generate(tokens, max_tokens=16):
    if max_tokens < 0:
        raise ValueError("max_tokens must be >= 0")
    out = list(tokens)[:max_tokens]
    return {"tokens": out, "text": " ".join(out), "finish_reason": "length" if len(tokens) > max_tokens else "stop"}
