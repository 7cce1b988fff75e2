#!/usr/bin/env python3
"""`make docs`: openapi.yaml rendered as one static page, .local/docs/api.html, that opens in
any browser without a network or a server (Redoc's standalone bundle and the spec are both
inside it).

Redoc comes from a pinned, hash-checked wheel (scripts/requirements-docs.txt), downloaded
with pip into .local/cache and read from there: nothing is installed, nothing fetched from a
CDN at view time. With --check, also loads the page in headless Chromium and fails unless
every operation's summary shows.
"""
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".local" / "cache" / "docs"
OUT = ROOT / ".local" / "docs" / "api.html"
BUNDLE = "drf_spectacular_sidecar/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"


def redoc() -> str:
    wheels = sorted(CACHE.glob("drf_spectacular_sidecar-*.whl"))
    if not wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--require-hashes", "-d", str(CACHE),
             "-r", str(ROOT / "scripts" / "requirements-docs.txt")],
            check=True,
        )
        wheels = sorted(CACHE.glob("drf_spectacular_sidecar-*.whl"))
    with zipfile.ZipFile(wheels[-1]) as wheel:
        return wheel.read(BUNDLE).decode()


def script(text: str) -> str:
    """Text that cannot end the <script> element it sits in."""
    return text.replace("</", "<\\/")


def main() -> None:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    title = spec["info"]["title"]
    page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: API reference</title>
<style>body {{ margin: 0; }}</style></head>
<body>
<div id="redoc"></div>
<script>{script(redoc())}</script>
<script>
Redoc.init({script(json.dumps(spec))}, {{ expandResponses: "200,201", hideDownloadButton: true }},
  document.getElementById("redoc"));
</script>
</body>
</html>
"""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(page)
    print(f"{OUT.relative_to(ROOT)}: {len(page):,} bytes; open it in a browser")
    if "--check" in sys.argv[1:]:
        check(spec)


def check(spec: dict) -> None:
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000", "--dump-dom", OUT.as_uri()],
        check=True, capture_output=True, text=True,
    ).stdout
    summaries = [
        operation["summary"]
        for item in spec["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "summary" in operation
    ]
    missing = [s for s in summaries if s.replace("&", "&amp;") not in dom]
    if missing:
        sys.exit(f"the rendered page lacks {len(missing)} operations: {missing[:3]}")
    print(f"rendered by headless Chromium: all {len(summaries)} operations show")


if __name__ == "__main__":
    main()
