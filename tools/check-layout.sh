#!/bin/sh
# Dependencies point one way (README.md, "Layout"): checks every #include of
# the hypervisor's sources against the rule of the folder it sits in. Prints
# each include that breaks a rule and fails if there is one.
cd "$(dirname "$0")/.." || exit 2


bad=0
# includes FILE: the project headers FILE includes, one a line
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
fail() { echo "check-layout: $1 includes $2: $3" >&2; bad=1; }

for f in $(git ls-files 'kernel/*.[chS]' 'drivers/*.[ch]' 'net/*.[ch]' 'migration/*.[ch]'); do
	for h in $(includes "$f"); do
		case "$f" in
		kernel/lib/*)
			case "$h" in kernel/lib/*) ;; *) fail "$f" "$h" "kernel/lib uses only kernel/lib" ;; esac ;;
		kernel/core/*)
			case "$h" in kernel/lib/* | kernel/core/* | kernel/guest_abi.h) ;;
			*) fail "$f" "$h" "kernel/core is pure: kernel/lib, kernel/core and the guest ABI only" ;; esac ;;
		migration/*)
			# The stream's core stands on its ports (migration/port.h) and its libraries (mbed TLS, xxHash).
			case "$h" in migration/* | kernel/lib/* | mbedtls/* | xxhash.h) ;;
			*) fail "$f" "$h" "migration uses migration, kernel/lib, mbed TLS and xxHash only, for now" ;; esac ;;
		esac
		case "$h" in
		kernel/arch/x86/vmx/*)
			case "$f" in kernel/arch/x86/*) ;;
			*) fail "$f" "$h" "only kernel/arch/x86 sees VT-x: generic code calls kernel/vmm/arch.h" ;;
			esac ;;
		kernel/core/config.h)
			case "$f" in kernel/core/config.c | kernel/main.c) ;;
			*) fail "$f" "$h" "only config.c and kmain know the command line: hand a subsystem its own params" ;; esac ;;
		kernel/selftest/*)
			case "$f" in kernel/selftest/* | kernel/main.c) ;;
			*) fail "$f" "$h" "measurement harnesses sit on top: only kmain starts them" ;; esac ;;
		net/api/*)
			case "$f" in net/api/* | kernel/main.c) ;; *) fail "$f" "$h" "the management API is a top layer" ;; esac ;;
		migration/*)
			case "$f" in migration/*) ;; *) fail "$f" "$h" "migration is a top layer" ;; esac ;;
		net/*)
			case "$f" in net/* | kernel/main.c | kernel/selftest/*) ;;
			*) fail "$f" "$h" "the hypervisor below net/ does not know the network" ;; esac ;;
		esac
	done
done
[ "$bad" = 0 ] && echo "check-layout: every include follows the layers"
exit "$bad"
