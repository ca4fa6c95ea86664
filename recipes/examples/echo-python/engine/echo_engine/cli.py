"""Command line of the echo engine: `echo-engine serve`, `echo-engine generate`, `--version`."""

import argparse
import json
import sys

from echo_engine import __version__
from echo_engine.engine import generate, tokenize


def main(argv=None):
    parser = argparse.ArgumentParser(prog="echo-engine", description="token-in, token-out echo engine")
    parser.add_argument("--version", action="version", version=f"echo-engine {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve /health and /generate over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    gen = sub.add_parser("generate", help="echo a prompt's tokens")
    gen.add_argument("prompt")
    gen.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args(argv)
    if args.command == "serve":
        from echo_engine.server import serve_forever

        serve_forever(args.host, args.port)
        return 0
    if args.command == "generate":
        print(json.dumps(generate(tokenize(args.prompt), args.max_tokens)))
        return 0
    parser.print_help(sys.stderr)
    return 2
