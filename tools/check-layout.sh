#!/bin/sh
# Dependencies point one way (README.md, "Layout"): checks every #include of
# the hypervisor's sources against the rule of the folder it sits in. Prints
# each include that breaks a rule and fails if there is one.
cd "$(dirname "$0")/.." || exit 2

bad=0
# includes FILE: the project headers FILE includes, one a line
includes() { sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"; }
fail() { echo "check-layout: $1 includes $2: $3" >&2; bad=1; }

for f in $(git ls-files 'kernel/*.[chS]' 'drivers/*.[ch]' 'net/*.[ch]' 'migration/*.[ch]' 'linerate/*.[ch]'); do
	for h in $(includes "$f"); do
		case "$f" in
		kernel/lib/*)
			case "$h" in kernel/lib/*) ;; *) fail "$f" "$h" "kernel/lib uses only kernel/lib" ;; esac ;;
		kernel/core/*)
			case "$h" in kernel/lib/* | kernel/core/* | kernel/guest_abi.h) ;;
			*) fail "$f" "$h" "kernel/core is pure: kernel/lib, kernel/core and the guest ABI only" ;; esac ;;
		migration/hv_* | migration/transport_lwip.c)
			# The ports over the hypervisor: a top layer on the VM model, the network and the scheduler.
			case "$h" in migration/* | kernel/lib/* | kernel/core/* | kernel/vmm/* | kernel/task.h | kernel/sched_loop.h | drivers/uart16550.h | \
				kernel/guest_abi.h | kernel/arch/x86/time.h | kernel/arch/x86/frames.h | \
				kernel/arch/x86/vcpu_state.h | kernel/arch/x86/random.h | kernel/arch/x86/pagevec.h | \
				kernel/arch/x86/hw/hwops.h | kernel/arch/x86/hw/strops.h | kernel/arch/x86/hw/cpuid.h | \
				lwip/* | mbedtls/* | xxhash.h) ;;
			net/api/*) fail "$f" "$h" "the management API sits above migration" ;;
			net/*) ;;
			*) fail "$f" "$h" "migration's ports use the VM model, net/, the scheduler and below" ;; esac ;;
		linerate/*)
			# A Linux program above the stream's core: it supplies the core's ports, never the hypervisor's.
			case "$h" in linerate/* | kernel/lib/* | mbedtls/* | xxhash.h) ;;
			migration/hv_* | migration/transport_lwip.h) fail "$f" "$h" "linerate/ has its own ports, not the hypervisor's" ;;
			migration/*) ;;
			*) fail "$f" "$h" "linerate/ uses migration's core, kernel/lib, mbed TLS and xxHash only" ;; esac ;;
		migration/*)
			# The stream's core stands on its ports (migration/port.h) and its libraries (mbed TLS, xxHash),
			# so that it also builds on the host.
			case "$h" in migration/* | kernel/lib/* | mbedtls/* | xxhash.h) ;;
			*) fail "$f" "$h" "migration's core uses migration, kernel/lib, mbed TLS and xxHash only" ;; esac ;;
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
		linerate/*)
			case "$f" in linerate/*) ;; *) fail "$f" "$h" "linerate/ is a program on top: nothing includes it" ;; esac ;;
		net/api/*)
			case "$f" in net/api/* | kernel/main.c) ;; *) fail "$f" "$h" "the management API is a top layer" ;; esac ;;
		migration/*)
			case "$f" in migration/* | net/api/mgmt.c | kernel/main.c | linerate/*) ;;
			*) fail "$f" "$h" "migration is a top layer: only the API's backend, kmain and linerate/ start it" ;; esac ;;
		net/*)
			case "$f" in net/* | kernel/main.c | kernel/selftest/* | migration/hv_* | migration/transport_lwip.c) ;;
			*) fail "$f" "$h" "the hypervisor below net/ does not know the network" ;; esac ;;
		esac
	done
done
[ "$bad" = 0 ] && echo "check-layout: every include follows the layers"
exit "$bad"
