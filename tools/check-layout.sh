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
			# A top layer beside the harnesses: the VM model's public interface (a
			# vCPU's state value included), pure core code, the network below the API.
			case "$h" in migration/* | kernel/lib/* | kernel/core/* | kernel/vmm/* | kernel/arch/x86/vcpu_state.h) ;;
			mbedtls/* | xxhash.h) ;; # its libraries: mbed TLS (mk/mbedtls.mk), xxHash (header only)
			net/api/*) ;; # the rule of net/api below says why not
			net/*) ;;
			*) fail "$f" "$h" "migration stands on kernel/vmm, kernel/core, kernel/lib, net, mbed TLS and xxHash only" ;; esac ;;
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
			case "$f" in migration/* | kernel/main.c | net/api/*) ;;
			*) fail "$f" "$h" "migration is a top layer: kmain and the management API start it" ;; esac ;;
		net/*)
			case "$f" in net/* | kernel/main.c | kernel/selftest/* | migration/*) ;;
			*) fail "$f" "$h" "the hypervisor below net/ does not know the network" ;; esac ;;
		esac
	done
done
[ "$bad" = 0 ] && echo "check-layout: every include follows the layers"
exit "$bad"
