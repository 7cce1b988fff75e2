#!/usr/bin/env python3
"""After `sam build`: every function has an arm64 Linux `bootstrap` of at most 6 MiB (a
smaller package loads faster at cold start); prints each one's size, and fails above it."""
import struct
import sys
from pathlib import Path

AARCH64 = 183  # ELF e_machine
LIMIT_MIB = 6.0
build = Path(".aws-sam/build")
bootstraps = sorted(build.glob("*/bootstrap"))
if not bootstraps:
    sys.exit("no bootstrap under .aws-sam/build: did sam build run?")
too_large = []
for path in bootstraps:
    head = path.read_bytes()[:20]
    if head[:4] != b"\x7fELF" or struct.unpack_from("<H", head, 18)[0] != AARCH64:
        sys.exit(f"{path} is not an arm64 ELF binary")
    mib = path.stat().st_size / 1024 / 1024
    print(f"{path.parent.name:<24} {mib:6.2f} MiB  arm64")
    if mib > LIMIT_MIB:
        too_large.append(f"{path.parent.name} ({mib:.2f} MiB)")
if too_large:
    sys.exit(f"over {LIMIT_MIB} MiB: {', '.join(too_large)}")
