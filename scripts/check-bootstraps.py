#!/usr/bin/env python3
"""After `sam build`: every function has an arm64 Linux `bootstrap`; prints each one's size."""
import struct
import sys
from pathlib import Path

AARCH64 = 183  # ELF e_machine
build = Path(".aws-sam/build")
bootstraps = sorted(build.glob("*/bootstrap"))
if not bootstraps:
    sys.exit("no bootstrap under .aws-sam/build: did sam build run?")
for path in bootstraps:
    head = path.read_bytes()[:20]
    if head[:4] != b"\x7fELF" or struct.unpack_from("<H", head, 18)[0] != AARCH64:
        sys.exit(f"{path} is not an arm64 ELF binary")
    print(f"{path.parent.name:<24} {path.stat().st_size / 1024 / 1024:6.2f} MiB  arm64")
