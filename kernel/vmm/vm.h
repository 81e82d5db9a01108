/*
 * A virtual machine: its RAM (one contiguous host block mapped by EPT from
 * GPA 0), its vCPUs, its emulated devices and why it stopped, if it did.
 */
#ifndef HV_KERNEL_VMM_VM_H
#define HV_KERNEL_VMM_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/vcpu_arch.h"
#include "kernel/core/ept.h"
#include "kernel/core/sched.h"
#include "kernel/guest_abi.h"
#include "kernel/lib/uuid.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/throttle.h"
#include "kernel/vmm/vdev.h"
#include "kernel/vmm/vuart.h"

#define VM_STOP_REASON_MAX 200

enum vm_state {
	VM_RUNNING,
	VM_STOPPED,    /* a fault or a request stopped it; its memory stays for inspection */
	VM_FINISHED,   /* every vCPU ended on its own */
};

/*
 * The test guest's measurement hypercalls (kernel/guest_abi.h) go to the
 * harness that registered for them (kernel/selftest/), so that the VM model
 * keeps none of a harness's state. Unset, HV_HC_TEST_WILL_WRITE is refused
 * and HV_HC_WORK_COUNTER is accepted and ignored.
 */
struct vm_test_hooks {
	int64_t (*will_write)(void *ctx, uint64_t pfn);             /* returns the hypercall's status */
	void *will_write_ctx;
	void (*work_counter)(void *ctx, unsigned vcpu, uint64_t gpa); /* gpa checked to lie in RAM */
	void *work_counter_ctx;
};

/*
 * How the boot vCPU starts (the others start the same way in the test guest's
 * convention): set by the loader from the kind of image, read when the vCPUs
 * are built. 32-bit protected mode, paging off, flat segments.
 */
struct vm_boot {
	uint64_t rip;
	uint64_t rbx, rsi;      /* the test guest: boot parameters, vCPU index (added per vCPU) */
	uint64_t gdt_base;      /* GDTR; 0 with limit 0xffff for the test guest, which loads its own */
	uint16_t gdt_limit;
	uint16_t cs, ds;        /* selectors of the flat code and data segments */
	bool linux;             /* a Linux kernel: only the boot vCPU starts */
};

struct vcpu {
	struct vcpu_arch arch;  /* registers, VMCS, exit state: kernel/arch/x86/ only */
	struct vm *vm;
	unsigned id;
	char name[16];          /* "vm0/vcpu1" */
	struct sched_entity se;
	int stop_status;        /* HV_HC_VCPU_STOP status */
	enum sched_state paused_state; /* scheduler state saved by vm_pause() */
	uint64_t paused_wake_at;
	/* What the guest's clock saw of a pause: host TSC when it last left its guest, and of vm_resume()
	 * until its first run after (0: none pending). */
	uint64_t ran_until;
	uint64_t resumed_at;
	struct vcpu_dirty dirty;
};

struct vm {
	unsigned id;            /* this host's index */
	uint8_t uuid[UUID_LEN]; /* its identity everywhere: it moves with the VM */
	enum vm_state state;
	char stop_reason[VM_STOP_REASON_MAX];
	uint64_t ram_size;
	uint64_t ram_hpa;       /* host-physical (= host-virtual) base of guest RAM */
	struct ept ept;
	uint64_t eptp;
	unsigned vcpu_count;
	struct vcpu vcpus[HV_MAX_VCPUS];
	struct vm_boot boot;
	struct vuart console;
	struct vdev dev;        /* PIC, PIT, RTC: what a Linux guest needs beside the console */
	uint64_t guest_errors;  /* corruptions the guest reported */
	struct vm_dirty dirty;
	struct vm_test_hooks test;
	struct vm_throttle throttle;
	struct sched *sched;    /* the scheduler its vCPUs run on */
	bool paused;
};

/* What a VM is made of. */
struct vm_params {
	uint64_t ram_bytes;             /* guest RAM, a multiple of 4 KiB */
	unsigned vcpus;                 /* 1..HV_MAX_VCPUS */
	unsigned throttle_max;          /* the VM's throttle ceiling, percent */
	uint8_t uuid[UUID_LEN];         /* its identity; all zero: a fresh random one */
	/*
	 * Its RAM is not zeroed: whoever creates it writes every page before the VM runs (a migration's
	 * receiver, whose first pass covers all memory). Zeroing a large VM's RAM in one step would hold
	 * the CPU for seconds (8 MiB took 123 ms of Bochs' time at 10 M instructions/s).
	 */
	bool ram_unzeroed;
	struct hv_guest_params guest;   /* handed to the guest in its boot block, untouched */
	/* A Linux image only: its command line (NUL-terminated) and its initrd (none when initrd_len is 0). */
	const char *linux_cmdline;
	const void *initrd;
	uint64_t initrd_len;
};

/*
 * Creates a VM as p describes it: allocates and maps its RAM, loads the
 * image (vm_load_image) and sets up one VMCS per vCPU; adds the vCPUs to the
 * scheduler. Without an
 * image (NULL) its RAM stays zero: a VM that arrives by migration, whose
 * memory and vCPU state are loaded before it runs. On failure everything
 * it took is given back (vm_destroy).
 */
int vm_create(struct vm *vm, unsigned id, const struct vm_params *p, const void *image, uint64_t image_len,
	      struct sched *sched);

/*
 * Throws the VM away (it runs on another host now, or never started here):
 * its vCPUs and tasks leave the scheduler, and everything it took goes back
 * to the frame pool (RAM, EPT tables, VMCSs, the dirty bitmap and logs), so
 * that another VM can be created in *vm. Destroying it again does nothing.
 */
void vm_destroy(struct vm *vm);

/*
 * Loads a guest image into the RAM of vm and sets vm->boot: a Linux bzImage
 * (docs/linux-guest.md: boot protocol, initrd and command line from p) or
 * else the flat test-guest image (docs/guest-boot.md) at HV_GUEST_LOAD_GPA
 * with its boot parameters. HV_ERANGE when it does not fit in RAM,
 * HV_EINVAL when a bzImage's header is unusable.
 */
int vm_load_image(struct vm *vm, const struct vm_params *p, const void *image, uint64_t image_len);

/* Stops the VM (a guest fault or a request): its vCPUs never run again. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Host pointer to [gpa, gpa + len) of guest RAM, or NULL when any byte lies outside it. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * The hypervisor's writes into guest memory go through here, so that
 * log-dirty mode sees them. HV_ERANGE (nothing written) outside guest RAM.
 */
int vm_guest_write(struct vm *vm, uint64_t gpa, const void *src, uint64_t len);
/* Copies guest RAM out; HV_ERANGE (nothing read) outside it. */
int vm_guest_read(struct vm *vm, uint64_t gpa, void *dst, uint64_t len);
/*
 * Atomically replaces the naturally aligned len-byte (4 or 8) value at gpa with new if it holds old,
 * marking its page dirty as vm_guest_write does: 1 if replaced, 0 if it held something else,
 * HV_ERANGE outside guest RAM, HV_EINVAL for another size or a misaligned gpa.
 */
int vm_guest_cmpxchg(struct vm *vm, uint64_t gpa, uint64_t old, uint64_t new, unsigned len);

/*
 * Pauses every vCPU (the final copy of a migration): they are off the CPU
 * from this call on, since host code runs only while no vCPU is in guest
 * mode. vm_resume() puts each back as it was (runnable, or asleep until its
 * deadline). Throttling is left as it is.
 */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);

/* Marks a vCPU finished; the VM finishes when all of them have. */
void vcpu_finish(struct vcpu *v, int status);

/* Logs per-vCPU run time and exit counts. */
void vm_log_stats(const struct vm *vm);

#endif
