/*
 * The boot convention between the hypervisor and a guest (docs/guest-boot.md).
 * Shared by the hypervisor (64-bit) and the test guest (32-bit): fixed-width
 * fields only, every struct size checked at compile time.
 *
 * Entry state of every vCPU: 32-bit protected mode, paging off, flat 4 GiB
 * code (CS) and data (DS/ES/SS/FS/GS) segments, interrupts off (RFLAGS = 0x2),
 * EIP = HV_GUEST_LOAD_GPA (the image's first byte), EBX = HV_GUEST_BOOT_GPA
 * (struct hv_boot_params), ESI = vCPU index (0 .. vcpus-1), ESP = 0 (the guest
 * sets up its own stack). All vCPUs start at once, at the same entry point.
 */
#ifndef HV_KERNEL_GUEST_ABI_H
#define HV_KERNEL_GUEST_ABI_H

#include <stdint.h>

#define HV_GUEST_BOOT_GPA 0x1000u      /* struct hv_boot_params lives here */
#define HV_GUEST_SHARED_GPA 0x2000u    /* struct hv_shared_info: written by the hypervisor */
#define HV_GUEST_LOAD_GPA 0x100000u    /* the flat guest image is copied here */
#define HV_GUEST_DATA_GPA 0x400000u    /* first byte the test guest's workload may use */

#define HV_BOOT_MAGIC 0x48564250u /* "HVBP" */
#define HV_BOOT_VERSION 1u

#define HV_MAX_VCPUS 4

/* Workload patterns of the test guest. */
enum hv_guest_pattern {
	HV_PATTERN_SEQ = 0,    /* sequential sweep over the vCPU's pages */
	HV_PATTERN_RANDOM = 1, /* uniformly random pages */
	HV_PATTERN_HOT = 2,    /* a hot set of hot_pages pages */
};

/* What the test guest does; "work" is the normal workload. */
enum hv_guest_mode {
	HV_MODE_WORK = 0,      /* write, check, report progress */
	HV_MODE_OOB = 1,       /* after a little work, write outside guest RAM */
	HV_MODE_TRIPLE = 2,    /* after a little work, triple-fault */
	HV_MODE_CPUID = 3,     /* measure CPUID exits against plain instructions */
	HV_MODE_IDLE = 4,      /* halt every vCPU at once */
	HV_MODE_COMPUTE = 5,   /* compute without writing memory, count work units */
	HV_MODE_MIXED = 6,     /* vCPU 0 writes (as work), the others compute */
	HV_MODE_EVENTS = 7,    /* take exceptions and single-step traps in a loop, count them */
	HV_MODE_STRIO = 8,     /* string port I/O (REP OUTSB, REP INSB, REP INSW backwards), checked */
};

struct hv_guest_params {
	uint32_t mode;          /* enum hv_guest_mode */
	uint32_t pattern;       /* enum hv_guest_pattern */
	uint32_t rate;          /* pages per second per vCPU; 0 = flat out */
	uint32_t hot_pages;     /* size of the hot set per vCPU (HV_PATTERN_HOT) */
	uint32_t seed;          /* random seed (HV_PATTERN_RANDOM) */
	uint32_t report_ms;     /* progress line period in guest time */
	uint32_t verify_every;  /* full self-check sweep after this many writes; 0 = never */
	uint32_t announce;      /* 1: announce each page write with HV_HC_TEST_WILL_WRITE (tests) */
	uint32_t prefill;       /* 1: write every page of the slice once before the pattern starts */
	uint32_t reserved;      /* 0 */
};
_Static_assert(sizeof(struct hv_guest_params) == 40, "hv_guest_params layout");

struct hv_boot_params {
	uint32_t magic;         /* HV_BOOT_MAGIC */
	uint32_t version;       /* HV_BOOT_VERSION */
	uint64_t ram_size;      /* bytes of guest RAM, from GPA 0 */
	uint64_t tsc_hz;        /* guest-visible TSC frequency */
	uint32_t vcpus;         /* number of vCPUs started */
	uint32_t vm_id;         /* the hypervisor's id for this VM */
	struct hv_guest_params guest;
};
_Static_assert(sizeof(struct hv_boot_params) == 72, "hv_boot_params layout");

/* What the hypervisor writes into the guest's shared page (read-only for the guest). */
struct hv_shared_info {
	uint64_t round;         /* log-dirty self-check round that wrote it */
	uint64_t uptime_us;     /* host uptime when written */
};
_Static_assert(sizeof(struct hv_shared_info) == 16, "hv_shared_info layout");

/*
 * Hypercalls: VMCALL with EAX = function, EBX/ECX/EDX = arguments; the result
 * is returned in EAX (0 or a negative error), other registers are preserved.
 */
enum hv_hypercall {
	HV_HC_VERSION = 0,      /* returns HV_BOOT_VERSION */
	HV_HC_SLEEP_UNTIL = 1,  /* EBX:ECX = TSC deadline (low, high): block the vCPU until then */
	HV_HC_VCPU_STOP = 2,    /* EBX = status: this vCPU is done (0 = success) */
	HV_HC_REPORT_ERROR = 3, /* EBX = corrupt page number, ECX = expected gen, EDX = found gen (or what failed, expected, found) */
	HV_HC_TEST_WILL_WRITE = 4, /* EBX = page number the guest writes next (log-dirty tests only) */
	HV_HC_WORK_COUNTER = 5, /* EBX = GPA (4-byte aligned) of this vCPU's 64-bit work counter, which the host may read */
	HV_HC_COUNT
};

#define HV_HC_OK 0
#define HV_HC_EINVAL (-1)
#define HV_HC_ENOSYS (-2)

#endif
