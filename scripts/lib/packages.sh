# Sourced by the scripts: installs Debian packages that are not installed yet.
#   ensure_packages PKG...     installs the missing ones (apt-get, sudo if not root)
#   ensure_package_list FILE   the same for a list file (one package a line, # comments)
# Returns non-zero when packages are missing and cannot be installed.

ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  echo "${0##*/}: installing ${missing[*]}" >&2
  local sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || {
      echo "${0##*/}: need root (or sudo) to install ${missing[*]}" >&2
      return 1
    }
    sudo_cmd=(sudo)
  fi
  # The package lists may be stale on a fresh machine: refresh them once.
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

ensure_package_list() {
  local pkgs=() pkg
  while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    pkgs+=("$pkg")
  done <"$1"
  ensure_packages "${pkgs[@]}"
}
