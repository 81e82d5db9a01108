#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the demo need.
# Run as root on a fresh Debian 12 machine; safe to run again.
set -euo pipefail

PKGS=(
  build-essential binutils make xz-utils dpkg-dev pkg-config cpio
  bochs bochsbios vgabios
  grub-pc-bin grub-common xorriso mtools
  newlib-source
  check libjsmn-dev libxxhash-dev libssl-dev libsodium-dev libipsec-mb-dev
  python3-pytest python3-pytest-timeout
  clang
  qemu-system-x86
  iproute2 iputils-ping dnsmasq-base curl iperf iperf3 apache2-utils
  linux-perf
  ipxe-qemu
  gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The OpenAPI linter comes from npm's registry, pinned by tools/openapi-lint/package-lock.json.
lint_dir=$(cd "$(dirname "$0")" && pwd)/openapi-lint
lint_ready() { [ -x "$lint_dir/node_modules/.bin/redocly" ] && cmp -s "$lint_dir/package-lock.json" "$lint_dir/node_modules/.package-lock.json.installed"; }
install_lint() {
  command -v npm >/dev/null || { echo "install-deps: npm is missing (Node.js 18.17 or later)" >&2; return 1; }
  (cd "$lint_dir" && npm ci --no-audit --no-fund --loglevel=error) &&
    cp "$lint_dir/package-lock.json" "$lint_dir/node_modules/.package-lock.json.installed"
}

need_src=0
if [ ! -f /etc/apt/sources.list.d/deb-src.sources ] && ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/; then
  need_src=1
fi

# The Linux guest's kernel and busybox come from Debian's archive too (apt-get download, unpacked
# under build/linux/, never installed); the build fetches them if this did not.
fetch_linux() { "$(dirname "$0")/fetch-linux.sh" "$(dirname "$0")/../build/linux"; }

if [ "${#missing[@]}" -eq 0 ] && [ "$need_src" -eq 0 ]; then
  lint_ready || install_lint
  fetch_linux
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root: sudo $0" >&2
  exit 1
fi

if [ "$need_src" -eq 1 ]; then
  # Source packages (lwip) need deb-src lines mirroring the existing deb entries.
  {
    echo "Types: deb-src"
    echo "URIs: http://deb.debian.org/debian"
    echo "Suites: bookworm bookworm-updates"
    echo "Components: main"
    echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
  } > /etc/apt/sources.list.d/deb-src.sources
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v npm >/dev/null || apt-get install -y -q --no-install-recommends nodejs npm
lint_ready || install_lint
fetch_linux
