/*
 * A virtual machine: its RAM (one contiguous host block mapped by EPT from
 * GPA 0), its vCPUs, its emulated devices and why it stopped, if it did.
 */
#ifndef HV_KERNEL_VM_H
#define HV_KERNEL_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel/arch/x86/vmx/exit_reason.h"
#include "kernel/arch/x86/vmx/regs.h"
#include "kernel/core/ept.h"
#include "kernel/core/sched.h"
#include "kernel/guest_abi.h"
#include "kernel/vmm/dirty.h"
#include "kernel/vmm/throttle.h"
#include "kernel/vmm/vuart.h"

#define VM_STOP_REASON_MAX 200
#define VCPU_FPU_AREA 512

enum vm_state {
	VM_RUNNING,
	VM_STOPPED,    /* a fault or a request stopped it; its memory stays for inspection */
	VM_FINISHED,   /* every vCPU ended on its own */
};

/* The current VM exit, decoded from the VMCS once, for handlers to read. */
struct vcpu_exit {
	uint32_t reason;        /* basic exit reason */
	uint32_t raw_reason;    /* the whole field, entry-failure bit included */
	uint64_t qualification;
	uint64_t guest_phys;    /* EPT violations */
	uint32_t insn_len;
	uint32_t intr_info;
	uint32_t intr_error_code;  /* of the exit interruption information, when it has one */
	uint32_t idt_vectoring;    /* IDT-vectoring information: an event whose delivery the exit interrupted */
	uint32_t idt_vectoring_error_code;
	uint64_t rip;
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

/* Debug registers the VMCS does not switch (DR7 is a guest-state field). */
struct vcpu_debug {
	uint64_t dr[4];         /* DR0-DR3 */
	uint64_t dr6;
};

struct vcpu {
	struct vcpu_regs regs;
	uint8_t fpu[VCPU_FPU_AREA] __attribute__((aligned(16))); /* FXSAVE image of the guest */
	struct vm *vm;
	unsigned id;
	char name[16];          /* "vm0/vcpu1" */
	uint64_t vmcs_pa;
	bool launched;
	struct sched_entity se;
	struct vcpu_exit exit;
	uint64_t exits[EXIT_REASON_MAX];
	uint64_t exits_total;
	uint64_t entry_failures;
	uint64_t events_reinjected; /* exits during event delivery, whose event went in again */
	uint64_t host_nmis;     /* NMIs that arrived while this vCPU ran, handed to the host */
	uint8_t tpr;            /* the virtual task-priority register, CR8 of a 64-bit guest */
	struct vcpu_debug debug;
	int stop_status;        /* HV_HC_VCPU_STOP status */
	enum sched_state paused_state; /* scheduler state saved by vm_pause() */
	uint64_t paused_wake_at;
	struct vcpu_dirty dirty;
};

struct vm {
	unsigned id;
	enum vm_state state;
	char stop_reason[VM_STOP_REASON_MAX];
	uint64_t ram_size;
	uint64_t ram_hpa;       /* host-physical (= host-virtual) base of guest RAM */
	struct ept ept;
	uint64_t eptp;
	unsigned vcpu_count;
	struct vcpu vcpus[HV_MAX_VCPUS];
	struct vuart console;
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
	struct hv_guest_params guest;   /* handed to the guest in its boot block, untouched */
};

/*
 * Creates a VM as p describes it: allocates and maps its RAM, copies
 * the flat guest image to HV_GUEST_LOAD_GPA, writes the boot parameters and
 * sets up one VMCS per vCPU; adds the vCPUs to the scheduler.
 */
int vm_create(struct vm *vm, unsigned id, const struct vm_params *p, const void *image, uint64_t image_len,
	      struct sched *sched);

/* Stops the VM (a guest fault or a request): its vCPUs never run again. */
void vm_stop(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Host pointer to [gpa, gpa + len) of guest RAM, or NULL when any byte lies outside it. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);

/*
 * The hypervisor's writes into guest memory go through here, so that
 * log-dirty mode sees them. HV_ERANGE (nothing written) outside guest RAM.
 */
int vm_guest_write(struct vm *vm, uint64_t gpa, const void *src, uint64_t len);

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

/* Runs v until slice_end (TSC), until it blocks, or until its VM stops. */
void vcpu_run(struct vcpu *v, uint64_t slice_end);

/* Logs per-vCPU run time and exit counts. */
void vm_log_stats(const struct vm *vm);

#endif
