/* Boot: bring up the host, check VT-x, create the VM from the command line, run the scheduler. */
#include <stddef.h>
#include <string.h>
#include "drivers/pic.h"
#include "drivers/poweroff.h"
#include "drivers/serial.h"
#include "drivers/uart16550.h"
#include "kernel/core/config.h"
#include "kernel/selftest/dirty_check.h"
#include "kernel/lib/err.h"
#include "kernel/arch/x86/host_timer.h"
#include "kernel/selftest/throttle_bench.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"
#include "kernel/log.h"
#include "kernel/arch/x86/frames.h"
#include "kernel/vmm/monitor.h"
#include "kernel/core/multiboot2.h"
#include "kernel/core/sched.h"
#include "kernel/sched_loop.h"
#include "kernel/arch/x86/time.h"
#include "kernel/arch/x86/trap.h"
#include "kernel/vmm/vm.h"
#include "kernel/arch/x86/vmx/vmx.h"
#include "net/api/mgmt.h"
#include "net/net.h"
#include "kernel/selftest/perf.h" /* iperf service */

#define MBI_MAX_SIZE (1u << 20)

void kmain(uint32_t magic, uint64_t mbi_pa);

static struct hv_config config;
static struct mb2_info boot_info;
static struct sched cpu_sched;
static struct vm vm0;
static struct monitor monitor;
static struct dirty_check dirty_check;
static struct throttle_bench throttle_bench;

/* newlib uses SSE even for integers: enable it before the first library call. */
static void sse_enable(void)
{
	write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

/* A configuration or platform the hypervisor cannot run with: say so once, then stop. */
static void __attribute__((noreturn)) boot_fail(const char *what)
{
	log_err("boot", "%s; the hypervisor stops here", what);
	poweroff();
}

static void boot_parse(uint32_t magic, uint64_t mbi_pa)
{
	char err[CONFIG_ERR_MAX], shown[512];
	uint32_t total;

	if (magic != MB2_BOOTLOADER_MAGIC)
		boot_fail("not started by a Multiboot2 loader (bad magic in EAX)");
	memcpy(&total, (const void *)(uintptr_t)mbi_pa, sizeof(total));
	if (mb2_parse((const void *)(uintptr_t)mbi_pa, total < MBI_MAX_SIZE ? total : MBI_MAX_SIZE, &boot_info))
		boot_fail("malformed Multiboot2 boot information");
	config_redact(boot_info.cmdline, shown, sizeof(shown));
	log_info("boot", "loader \"%s\", command line \"%s\"", boot_info.loader, shown);
	if (config_parse(boot_info.cmdline, &config, err, sizeof(err))) {
		log_err("cmdline", "%s", err);
		boot_fail("bad command line (see README.md, \"Command line\")");
	}
	log_set_level(config.log_level);
	frames_init(&boot_info, mbi_pa, total);
}

void kmain(uint32_t magic, uint64_t mbi_pa)
{
	char why[160];
	const struct mb2_module *guest;
	int rc;

	sse_enable();
	serial_init(COM1_BASE);
	log_set_sink(serial_write, serial_drain);
	trap_init();
	pic_disable(VEC_PIC_SPURIOUS);
	time_init();
	log_info("boot", "FerryHV starting: TSC %llu kHz", (unsigned long long)(time_tsc_hz() / 1000));
	boot_parse(magic, mbi_pa);
	log_info("mem", "%llu MiB of host memory free", (unsigned long long)(frames_free_bytes() >> 20));

	host_timer_init();

	rc = vmx_init(why, sizeof(why));
	if (rc) {
		log_err("vmx", "cannot run VMs: %s; the hypervisor needs Intel VT-x with EPT, unrestricted guest and the "
			"VMX-preemption timer", why);
		boot_fail("no usable VT-x");
	}

	if (boot_info.module_count == 0)
		boot_fail("no guest image: load one as the first Multiboot2 module");
	guest = &boot_info.modules[0];
	sched_init(&cpu_sched, time_us_to_ticks(config.slice_us));
	sched_set_period(&cpu_sched, time_us_to_ticks(config.period_us), time_now());
	rc = vm_create(&vm0, 0, &config, (const void *)(uintptr_t)guest->start, guest->end - guest->start, &cpu_sched);
	if (rc) {
		log_err("vm", "vm0 not created: %s", hv_strerror(rc));
		boot_fail("no VM to run");
	}
	if (monitor_start(&monitor, &cpu_sched, &vm0, config.run_for_ms))
		boot_fail("no scheduler slot for the monitor task");
	/* Networking only with net.mgmt=: runs without it are unchanged. */
	if (config_net_on(&config)) {
		rc = net_init(&config, &cpu_sched);
		if (rc) {
			log_err("net", "network not started: %s", hv_strerror(rc));
			boot_fail("net.mgmt asked for and no network");
		}
		if (!config.api_token[0])
			log_warn("api", "no api.token: the management API is off");
		else if ((rc = mgmt_start(&config, &vm0)))
			log_err("api", "management API not started: %s", hv_strerror(rc));
		if ((rc = perf_start(&config)))
			log_err("perf", "iperf service not started: %s", hv_strerror(rc));
	}
	if (config.dirty_check_ms) {
		rc = dirty_check_start(&dirty_check, &cpu_sched, &vm0, &config);
		if (rc) {
			log_err("dirty", "log-dirty self-check not started: %s", hv_strerror(rc));
			boot_fail("dirty.check asked for and impossible");
		}
	}
	/* config_parse() checked these options against each other: what fails here is the host. */
	if (config.throttle && (rc = throttle_set_vm(&vm0, config.throttle)))
		log_err("throttle", "throttle=%u not applied: %s", config.throttle, hv_strerror(rc));
	if (config.dirty_limit && config.throttle_bench != THROTTLE_BENCH_DIRTY &&
	    (rc = throttle_dirty_limit_start(&vm0, config.dirty_limit)))
		log_err("throttle", "dirty-rate limit not started: %s", hv_strerror(rc));
	if (config.throttle_bench && (rc = throttle_bench_start(&throttle_bench, &cpu_sched, &vm0, &config)))
		log_err("throttle", "throttle measurement not started: %s", hv_strerror(rc));
	log_info("sched", "round-robin, %u us slices, throttle period %u us, %u vCPUs", config.slice_us,
		 config.period_us, config.vcpus);
	sched_loop(&cpu_sched);
}
