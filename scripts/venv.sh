# Sourced by scripts that need the Python tools: `source scripts/venv.sh FILE...` makes the
# project's own virtual environment (.local/venv, or $VENV), installs the pinned packages of
# each requirements FILE into it when they changed since the last install, and puts its bin/
# first on PATH. A stock Debian or Ubuntu Python refuses `pip install` outside a virtual
# environment (PEP 668); nothing here touches the system's Python.
venv=${VENV:-$PWD/.local/venv}
if [[ ! -x "$venv/bin/python" ]]; then
  echo "Making the project's Python environment in $venv..."
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      # Debian and Ubuntu ship venv support as its own package.
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "python3 -m venv failed: install your distribution's python3-venv package" >&2
      exit 1
    fi
  fi
fi
for requirements in "$@"; do
  stamp="$venv/.installed-$(basename "$requirements")"
  if ! cmp -s "$requirements" "$stamp"; then
    echo "Installing $(basename "$requirements") into $venv..."
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
  fi
done
export PATH="$venv/bin:$PATH"
