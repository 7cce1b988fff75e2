#!/usr/bin/env python3
"""The size gate: every function's arm64 Linux `bootstrap`, from the one release build
(`make bootstraps`, target/lambda/<function>/bootstrap), within its own limit; prints each
one's size, and fails above it. A smaller package loads faster at cold start.

With `--sam`, also checks that `sam build` packaged those very files (.aws-sam/build/
<LogicalId>/bootstrap, byte for byte): that it found them built rather than linking again.

Each binary links only its own handlers (shared::http::handlers), so sizes differ; the
limits are issue 26's targets: 5.0 MiB for a function that writes, less for the read-only
ones, 6 MiB for the fallback, which serves every route."""
import struct
import sys
from pathlib import Path

AARCH64 = 183  # ELF e_machine
# MiB, by function (binary) name.
LIMITS_MIB = {
    "fallback": 6.0,
    "read-customers": 4.5,
    "me": 4.5,
    "session": 4.5,
    # Background work: no HTTP, no argon2 (3.91 MiB when it came, with issue 30).
    "table-stream": 4.5,
}
OTHERS_MIB = 5.0
FUNCTIONS = sorted(p.name for p in Path("functions").iterdir() if p.is_dir())


def logical_id(function: str) -> str:
    """template.yaml's name for a function: `read-customers` is ReadCustomersFunction."""
    return "".join(part.capitalize() for part in function.split("-")) + "Function"


def main() -> None:
    built = Path("target/lambda")
    too_large, problems = [], []
    for function in FUNCTIONS:
        path = built / function / "bootstrap"
        if not path.is_file():
            problems.append(f"{path} is missing: did `make bootstraps` run?")
            continue
        head = path.read_bytes()[:20]
        if head[:4] != b"\x7fELF" or struct.unpack_from("<H", head, 18)[0] != AARCH64:
            problems.append(f"{path} is not an arm64 ELF binary")
            continue
        size = path.stat().st_size
        mib = size / 1024 / 1024
        limit = LIMITS_MIB.get(function, OTHERS_MIB)
        print(f"{function:<16} {size:>10,} B {mib:6.2f} MiB  arm64  (limit {limit} MiB)")
        if mib > limit:
            too_large.append(f"{function} ({mib:.2f} MiB, limit {limit})")
        if "--sam" in sys.argv[1:]:
            packaged = Path(".aws-sam/build") / logical_id(function) / "bootstrap"
            if not packaged.is_file() or packaged.read_bytes() != path.read_bytes():
                problems.append(f"{packaged} is not {path}: sam build linked its own")
    if too_large:
        problems.append(f"over their limits: {', '.join(too_large)}")
    if problems:
        sys.exit("\n".join(problems))


if __name__ == "__main__":
    main()
