/*
 * Boot: bring up the host, check VT-x, create the VM from the command line,
 * run the scheduler. This file and kernel/core/config.c alone know the
 * command line: each subsystem gets its own parameters, made here.
 */
#include <stddef.h>
#include <string.h>
#include "drivers/pic.h"
#include "drivers/poweroff.h"
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/host_timer.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/arch/x86/pagevec.h"
#include "kernel/arch/x86/xstate.h"
#include "kernel/core/config.h"
#include "kernel/core/multiboot1.h"
#include "kernel/core/multiboot2.h"
#include "kernel/core/sched.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/sched_loop.h"
#include "kernel/selftest/dirty_check.h"
#include "kernel/selftest/perf.h"
#include "kernel/selftest/throttle_bench.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/console.h"
#include "kernel/vmm/monitor.h"
#include "kernel/vmm/throttle.h"
#include "kernel/vmm/vm.h"
#include "migration/hv_migr.h"
#include "migration/hv_prof.h"
#include "migration/mac_gmac.h"
#include "migration/mac_pick.h"
#include "migration/mac_poly.h"
#include "migration/mac_poly_asm.h"
#include "migration/xxh_path.h"
#include "net/api/mgmt.h"
#include "net/net.h"

#define MBI_MAX_SIZE (1u << 20)
#define IDENTITY_MAPPED_END (4ull << 30) /* boot.S maps the first 4 GiB */

_Static_assert(NET_MAX_NICS == CONFIG_NET_NICS_MAX, "one slot per NIC the command line may ask for");
_Static_assert(PERF_CONNS_MAX == CONFIG_NET_IPERF_CONNS_MAX, "one slot per client the command line may ask for");

void kmain(uint32_t magic, uint64_t mbi_pa);

static struct hv_config config;
static struct mb2_info boot_info;
/* Multiboot 1 strings live in loader memory the frame pool reuses: copies are kept here. */
static char boot_strings[2 * MB1_STRING_MAX];
static struct sched cpu_sched;
static struct vm vm0;
static struct monitor monitor;
static struct console console;
static struct dirty_check dirty_check;
static struct throttle_bench throttle_bench;

/* ---- Each subsystem's parameters, from the command line ----------------- */

static struct vm_params vm_params(const struct hv_config *c)
{
	struct vm_params p = {
		.ram_bytes = c->mem_bytes,
		.vcpus = c->vcpus,
		.throttle_max = c->throttle_max,
		.guest = c->guest,
	};

	memcpy(p.uuid, c->vm_uuid, sizeof(p.uuid));
	return p;
}

static struct net_params net_params(const struct hv_config *c)
{
	return (struct net_params){
		.nics = c->net_nics,
		.mgmt = { .addr = c->net_mgmt_addr, .prefix = c->net_mgmt_prefix, .dhcp = c->net_mgmt_dhcp },
		.migr = { .addr = c->net_migr_addr, .prefix = c->net_migr_prefix, .dhcp = c->net_migr_dhcp },
		.gw = c->net_gw,
	};
}

/* The link test's CPU profile, in the migration's terms (migration/hv_prof.h), unless a migration holds it. */
static const char link_prof_owner[] = "link test";
static void link_prof_begin(void) { (void)migr_hv_prof_try_begin(&cpu_sched, link_prof_owner); }
static void link_prof_end(void) { migr_hv_prof_report(&cpu_sched, "link", link_prof_owner); }

static struct perf_params perf_params(const struct hv_config *c)
{
	static const enum perf_mode modes[] = {
		[CONFIG_IPERF_OFF] = PERF_OFF,
		[CONFIG_IPERF_SERVER] = PERF_SERVER,
		[CONFIG_IPERF_CLIENT] = PERF_CLIENT,
	};

	return (struct perf_params){ .mode = modes[c->net_iperf], .peer = c->net_iperf_peer, .conns = c->net_iperf_conns,
				     .run_begin = link_prof_begin, .run_end = link_prof_end };
}

static struct dirty_check_params dirty_check_params(const struct hv_config *c)
{
	return (struct dirty_check_params){
		.period_ms = c->dirty_check_ms,
		.rounds = c->dirty_rounds,
		.verify = c->dirty_verify,
		.backend = (enum dirty_backend)c->dirty_backend, /* the option's names are in enum order */
	};
}

static struct throttle_bench_params throttle_bench_params(const struct hv_config *c)
{
	static const enum throttle_bench_run runs[] = {
		[THROTTLE_BENCH_QUICK] = THROTTLE_BENCH_RUN_QUICK,
		[THROTTLE_BENCH_FULL] = THROTTLE_BENCH_RUN_FULL,
		[THROTTLE_BENCH_DIRTY] = THROTTLE_BENCH_RUN_DIRTY,
	};

	return (struct throttle_bench_params){
		.run = runs[c->throttle_bench],
		.step_ms = c->step_ms,
		.dirty_limit = c->dirty_limit,
	};
}

/* ---- Boot steps --------------------------------------------------------- */

/* newlib uses SSE even for integers: enable it before the first library call. */
static void sse_enable(void)
{
	write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

/* AVX state for the record MAC's vector code (kernel/arch/x86/xstate.h); before VMXON copies CR4 into VMCSs. */
static void vector_enable(void)
{
	uint64_t xcr0 = xstate_enable();

	log_info("boot", "XCR0 %#llx: %s", (unsigned long long)xcr0,
		 xcr0 & XCR0_AVX512 ? "AVX and AVX-512 state enabled" : xcr0 ? "AVX state enabled" : "no AVX state");
}

/*
 * The stream's vector paths (record MACs, page hash, the memory port's page copy and zero check): the
 * widest this CPU offers and XCR0 enables now that VMX is on. Then the record MAC this host proposes
 * when it sends: the faster of Poly1305 and AES-GMAC here, timed on the TSC.
 */
static const struct migr_mac_ops *migr_paths_choose(void)
{
	struct cpuid_regs l1 = cpuid(CPUID_LEAF_FEATURES, 0), l7 = { 0 };
	struct migr_mac_timing t;
	const struct migr_mac_ops *mac;
	struct migr_cpu c;
	enum migr_poly_path p;
	enum migr_ghash_path g;
	enum migr_xxh_path x;
	unsigned i;

	if (cpuid(CPUID_LEAF_VENDOR, 0).eax >= CPUID_LEAF_EXT_FEATURES)
		l7 = cpuid(CPUID_LEAF_EXT_FEATURES, 0);
	c = (struct migr_cpu){ l1.ecx, l1.edx, l7.ebx, l7.ecx, xstate_xcr0() };
	p = migr_poly_use(&c, MIGR_POLY_IFMA);
	g = migr_ghash_use(&c, MIGR_GHASH_AVX);
	x = migr_xxh_use(&c, MIGR_XXH_AVX512);
	log_info("migr", "record MACs: Poly1305 from %s, %s path; AES-GMAC's GHASH from OpenSSL, %s path; "
		 "page hash: XXH3, %s path; page copy and zero check: %s", migr_poly_impl, migr_poly_path_name(p),
		 migr_ghash_path_name(g), migr_xxh_path_name(x),
		 pagevec_use(migr_cpu_avx512f(&c)) ? "AVX-512F" : "string instructions");
	mac = migr_mac_pick(time_now, &t);
	for (i = 0; i < MIGR_MAC_PICK_CANDIDATES; i++)
		if (t.ops[i])
			log_info("migr", "record MAC %s: %llu TSC ticks per KiB", t.ops[i]->name,
				 (unsigned long long)(t.ticks[i] * 1024 / t.bytes));
	log_info("migr", "record MAC proposed when sending: %s", mac->name);
	return mac;
}

static void host_halt(void) { cpu_halt_forever(); }

static void console_init(void)
{
	static const struct log_port port = {
		.write = serial_write,
		.flush = serial_drain,
		.uptime_us = time_uptime_us,
		.halt = host_halt,
	};

	serial_init(COM1_BASE);
	log_init(&port);
}

/* A configuration or platform the hypervisor cannot run with: say so once, then stop. */
static void __attribute__((noreturn)) boot_fail(const char *what)
{
	log_err("boot", "%s; the hypervisor stops here", what);
	poweroff();
}

/* Multiboot 1 pointers are physical addresses: readable if inside the identity map. */
static const uint8_t *boot_map(void *ctx, uint64_t pa, size_t len)
{
	(void)ctx;
	if (pa >= IDENTITY_MAPPED_END || len > IDENTITY_MAPPED_END - pa)
		return NULL;
	return (const uint8_t *)(uintptr_t)pa;
}

/* Decodes either loader's boot information; returns the size of the info structure to keep. */
static uint32_t boot_decode(uint32_t magic, uint64_t mbi_pa)
{
	uint32_t total;

	if (magic == MB1_BOOTLOADER_MAGIC) {
		if (mb1_parse(boot_map, NULL, mbi_pa, &boot_info, boot_strings, sizeof(boot_strings)))
			boot_fail("malformed Multiboot 1 boot information");
		return MB1_INFO_SIZE;
	}
	if (magic != MB2_BOOTLOADER_MAGIC)
		boot_fail("not started by a Multiboot loader (bad magic in EAX)");
	memcpy(&total, (const void *)(uintptr_t)mbi_pa, sizeof(total));
	if (mb2_parse((const void *)(uintptr_t)mbi_pa, total < MBI_MAX_SIZE ? total : MBI_MAX_SIZE, &boot_info))
		boot_fail("malformed Multiboot2 boot information");
	return total;
}

static void boot_parse(uint32_t magic, uint64_t mbi_pa)
{
	char err[CONFIG_ERR_MAX], shown[512];
	uint32_t total = boot_decode(magic, mbi_pa);

	config_redact(boot_info.cmdline, shown, sizeof(shown));
	log_info("boot", "loader \"%s\", command line \"%s\"", boot_info.loader, shown);
	if (config_parse(boot_info.cmdline, &config, err, sizeof(err))) {
		log_err("cmdline", "%s", err);
		boot_fail("bad command line (see README.md, \"Command line\")");
	}
	log_set_level(config.log_level);
	frames_init(&boot_info, mbi_pa, total);
}

static void vtx_init(void)
{
	char why[160];

	if (vm_arch_init(why, sizeof(why))) {
		log_err("vmx", "cannot run VMs: %s; the hypervisor needs Intel VT-x with EPT, unrestricted guest and the "
			"VMX-preemption timer", why);
		boot_fail("no usable VT-x");
	}
}

/* vm=none: no VM until one arrives by migration. */
static struct vm *vm0_create(void)
{
	struct vm_params p = vm_params(&config);
	const struct mb2_module *guest;
	int rc;

	if (config.vm_none) {
		log_info("vm", "vm=none: no VM at boot; this host waits to receive one");
		return NULL;
	}
	if (boot_info.module_count == 0)
		boot_fail("no guest image: load one as the first Multiboot module");
	guest = &boot_info.modules[0];
	/* A Linux kernel's command line is its module's string; its initrd is the second module. */
	p.linux_cmdline = guest->string;
	if (boot_info.module_count > 1) {
		p.initrd = (const void *)(uintptr_t)boot_info.modules[1].start;
		p.initrd_len = boot_info.modules[1].end - boot_info.modules[1].start;
	}
	rc = vm_create(&vm0, 0, &p, (const void *)(uintptr_t)guest->start, guest->end - guest->start, &cpu_sched);
	if (rc) {
		log_err("vm", "vm0 not created: %s", hv_strerror(rc));
		boot_fail("no VM to run");
	}
	return &vm0;
}

/* A VM arrived by migration or left by it: the monitor and the API follow. */
static void vm_changed(void *ctx, struct vm *vm)
{
	(void)ctx;
	monitor.vm = vm;
	console.vm = vm;
	mgmt_set_vm(vm);
}

static void migration_start(struct vm *vm)
{
	struct migr_hv_params p = {
		.sched = &cpu_sched,
		.store = &vm0,
		.vm = vm,
		.secret = config.migr_secret,
		.vm_changed = vm_changed,
	};

	if (!config_net_on(&config))
		return;
	p.mac = migr_paths_choose();
	if (!config.migr_secret[0])
		log_info("migr", "no migr.secret: this host neither sends nor receives VMs");
	if (migr_hv_init(&p))
		boot_fail("no scheduler slot for the migration task");
}

/* Networking only with net.mgmt=: runs without it are unchanged. */
static void net_start(struct vm *vm)
{
	const struct net_params np = net_params(&config);
	const struct mgmt_params mp = { .token = config.api_token, .port = (uint16_t)config.api_port,
					.link = &perf_link_ops };
	const struct perf_params pp = perf_params(&config);
	int rc;

	if (!config_net_on(&config))
		return;
	rc = net_init(&np, &cpu_sched);
	if (rc) {
		log_err("net", "network not started: %s", hv_strerror(rc));
		boot_fail("net.mgmt asked for and no network");
	}
	if (!config.api_token[0])
		log_warn("api", "no api.token: the management API is off");
	else if ((rc = mgmt_start(&mp, vm)))
		log_err("api", "management API not started: %s", hv_strerror(rc));
	if ((rc = perf_start(&pp)))
		log_err("perf", "iperf service not started: %s", hv_strerror(rc));
}

static void dirty_check_begin(void)
{
	const struct dirty_check_params p = dirty_check_params(&config);
	int rc;

	if (!config.dirty_check_ms)
		return;
	rc = dirty_check_start(&dirty_check, &cpu_sched, &vm0, &p);
	if (rc) {
		log_err("dirty", "log-dirty self-check not started: %s", hv_strerror(rc));
		boot_fail("dirty.check asked for and impossible");
	}
}

/* config_parse() checked these options against each other: what fails here is the host. */
static void throttle_begin(void)
{
	const struct throttle_bench_params p = throttle_bench_params(&config);
	int rc;

	if (config.throttle && (rc = throttle_set_vm(&vm0, config.throttle)))
		log_err("throttle", "throttle=%u not applied: %s", config.throttle, hv_strerror(rc));
	if (config.dirty_limit && config.throttle_bench != THROTTLE_BENCH_DIRTY &&
	    (rc = throttle_dirty_limit_start(&vm0, config.dirty_limit)))
		log_err("throttle", "dirty-rate limit not started: %s", hv_strerror(rc));
	if (config.throttle_bench && (rc = throttle_bench_start(&throttle_bench, &cpu_sched, &vm0, &p)))
		log_err("throttle", "throttle measurement not started: %s", hv_strerror(rc));
}

void kmain(uint32_t magic, uint64_t mbi_pa)
{
	struct vm *vm;

	sse_enable();                /* before the C library's first call */
	console_init();              /* COM1 and log lines */
	trap_init();                 /* GDT, IDT: faults are reported from here on */
	pic_disable(VEC_PIC_SPURIOUS);
	time_init();                 /* the TSC calibrated against the PIT */
	/* The TSC counts from the CPU's reset: how long firmware and loader took (PXE, GRUB) is visible. */
	log_info("boot", "FerryHV starting: TSC %llu kHz, %llu ms since reset", (unsigned long long)(time_tsc_hz() / 1000),
		 (unsigned long long)(time_ticks_to_us(time_now()) / 1000));
	boot_parse(magic, mbi_pa);   /* boot information, command line, host memory */
	log_info("mem", "%llu MiB of host memory free", (unsigned long long)(frames_free_bytes() >> 20));
	host_timer_init();           /* the LAPIC timer that wakes the idle loop */
	vector_enable();             /* CR4.OSXSAVE and XCR0, before VMXON and the first VMCS take CR4 */
	vtx_init();                  /* VMXON, or a clear reason why not */

	sched_init(&cpu_sched, time_us_to_ticks(config.slice_us));
	sched_set_period(&cpu_sched, time_us_to_ticks(config.period_us), time_now());
	vm = vm0_create();           /* the guest image is the first Multiboot module, a Linux initrd the second */
	if (monitor_start(&monitor, &cpu_sched, vm, config.run_for_ms))
		boot_fail("no scheduler slot for the monitor task");
	if (console_start(&console, &cpu_sched, vm))
		boot_fail("no scheduler slot for the console task");
	net_start(vm);               /* NICs, the management API, the iperf service */
	migration_start(vm);         /* the migration task: the API starts migrations */
	dirty_check_begin();         /* log-dirty mode and its self-check */
	throttle_begin();            /* a throttle at boot, the dirty-rate limit, the throttle bench */

	log_info("sched", "round-robin, %u us slices, throttle period %u us, %u vCPUs", config.slice_us,
		 config.period_us, config.vcpus);
	sched_loop(&cpu_sched);
}
