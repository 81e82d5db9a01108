#!/usr/bin/env bash
# Builds the network boot tree an operator copies to the TFTP root of a boot server.
# usage: tools/mknetboot.sh OUT_DIR HV.elf GUEST.bin HOSTS_DIR
#
# HOSTS_DIR holds one file per host, named after its MAC address
# (52:54:00:12:34:56.conf, any case, ':' or '-'), and default.conf for every
# other host. Each holds the host's kernel command line: key=value words, on
# one or more lines; '#' starts a comment. Both loaders are set up:
#   iPXE  (DHCP boot file boot.ipxe): hosts/<mac>.ipxe, else hosts/default.ipxe;
#         the kernel as ELF32 (ferryhv/hv32.elf), loaded by Multiboot 1
#   GRUB  (DHCP boot file boot/grub/i386-pc/core.0): boot/grub/grub.cfg-01-<mac>,
#         else boot/grub/grub.cfg; the kernel as ELF64 (ferryhv/hv.elf), Multiboot2
# With CMDLINE_CHECK=<the kernel's parser built for this machine> (make builds it), every
# host's words are checked first: a bad word stops the build with the message the host would print.
# Same inputs, same bytes: fixed timestamps (SOURCE_DATE_EPOCH), sorted inputs.
# Writes the SHA-256 of every file to SHA256SUMS and prints those of the files that change between builds.
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: $0 OUT_DIR HV.elf GUEST.bin HOSTS_DIR" >&2; exit 2; }
out=$1 hv=$2 guest=$3 hosts=$4
[ -d "$hosts" ] || { echo "mknetboot: no hosts directory $hosts" >&2; exit 2; }
[ -f "$hosts/default.conf" ] || { echo "mknetboot: $hosts/default.conf is missing (the configuration of hosts without a file)" >&2; exit 2; }
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
export LC_ALL=C

# The words of a host file: comments and line breaks dropped, one space between words.
host_words() {
  sed -e 's/#.*//' "$1" | tr -s ' \t\n' '   ' | sed -e 's/^ //' -e 's/ $//'
}

# 52:54:00:AB:cd:EF.conf -> 52-54-00-ab-cd-ef (iPXE's ${mac:hexhyp}, GRUB's grub.cfg-01-<mac>)
mac_name() {
  local m=${1%.conf}
  m=$(echo "$m" | tr 'A-F:' 'a-f-')
  [[ $m =~ ^[0-9a-f]{2}(-[0-9a-f]{2}){5}$ ]] || return 1
  echo "$m"
}

check_words() {
  case " $2 " in
    *[\"\'\;\$\{\}\\]*) echo "mknetboot: $1: quotes, ';', '\$', braces and backslashes are not allowed" >&2; exit 2 ;;
  esac
}

# Built beside the old tree and swapped in at the end: a failed build leaves no half tree to copy.
final=$out
out=$out.new
rm -rf "$out"
mkdir -p "$out/ferryhv" "$out/hosts" "$out/boot/grub"
# Debug information names build paths: the tree carries none (smaller over TFTP, same bytes anywhere).
objcopy --strip-debug "$hv" "$out/ferryhv/hv.elf"
objcopy --strip-debug -O elf32-i386 "$hv" "$out/ferryhv/hv32.elf"
cp "$guest" "$out/ferryhv/guest.bin"

ipxe_host() {  # name, words
  cat <<IPXE
#!ipxe
# FerryHV host $1: its command line is in the hosts directory of the build ($1.conf)
kernel /ferryhv/hv32.elf $2 || goto missing
module /ferryhv/guest.bin guest || goto missing
boot || goto missing
:missing
echo FerryHV netboot: a file of host $1 is missing or unreadable on the TFTP server \${next-server}
sleep 10
poweroff
IPXE
}

grub_host() {  # name, words
  cat <<CFG
# FerryHV host $1: its command line is in the hosts directory of the build ($1.conf)
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
echo "FerryHV netboot: host $1, loading /ferryhv/hv.elf from the TFTP server"
if ! multiboot2 (\$root)/ferryhv/hv.elf $2 ; then
  echo "FerryHV netboot: cannot load /ferryhv/hv.elf from the TFTP server; check the boot server's tree"
  halt
fi
if ! module2 (\$root)/ferryhv/guest.bin guest ; then
  echo "FerryHV netboot: cannot load /ferryhv/guest.bin from the TFTP server; check the boot server's tree"
  halt
fi
boot
CFG
}

find "$hosts" -maxdepth 1 -name '*.conf' -printf '%f\n' | sort | while read -r f; do
  words=$(host_words "$hosts/$f")
  check_words "$f" "$words"
  [ -z "${CMDLINE_CHECK:-}" ] || "$CMDLINE_CHECK" "$hosts/$f" "$words" || exit 2
  if [ "$f" = default.conf ]; then
    ipxe_host default "$words" > "$out/hosts/default.ipxe"
    grub_host default "$words" > "$out/boot/grub/grub.cfg"
  elif m=$(mac_name "$f"); then
    ipxe_host "$m" "$words" > "$out/hosts/$m.ipxe"
    grub_host "$m" "$words" > "$out/boot/grub/grub.cfg-01-$m"
  else
    echo "mknetboot: $hosts/$f: not a MAC address (aa:bb:cc:dd:ee:ff.conf) nor default.conf" >&2; exit 2
  fi
done

cat > "$out/boot.ipxe" <<'IPXE'
#!ipxe
# FerryHV: the host's own script if the boot server has one, else the default.
chain /hosts/${mac:hexhyp}.ipxe || chain /hosts/default.ipxe || goto fail
:fail
echo FerryHV netboot: no host script for ${mac} on the TFTP server ${next-server}
sleep 10
poweroff
IPXE

# GRUB's PXE image with what the boot needs built in: no module fetched over TFTP at boot.
grub-mknetdir --net-directory="$out" --subdir=boot/grub \
  --modules="pxe tftp net normal multiboot2 serial echo halt test" \
  --install-modules="pxe tftp net normal multiboot2 serial echo halt test" \
  --fonts= --locales= --themes= >/dev/null 2>"$out.grub.log" || { cat "$out.grub.log" >&2; exit 1; }
rm -f "$out.grub.log"

# One timestamp for every file: what an operator copies (rsync -a, tar) carries no build time.
find "$out" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
sums=$(cd "$out" && find . -type f -printf '%P\n' | sort | xargs sha256sum)
rm -rf "$final"
mv "$out" "$final"
out=$final
printf '%s\n' "$sums" > "$out/SHA256SUMS"
touch -d "@$SOURCE_DATE_EPOCH" "$out/SHA256SUMS"
# GRUB's own modules are listed in SHA256SUMS; one digest of that file stands for the whole tree.
echo "SHA-256 of the network boot tree $out (all files: $out/SHA256SUMS):"
printf '%s\n' "$sums" | grep -v -E ' boot/grub/i386-pc/.*\.(mod|lst|o|sh)$' | sed 's/^/  /'
echo "  $(sha256sum "$out/SHA256SUMS" | cut -d' ' -f1)  SHA256SUMS (the tree)"
