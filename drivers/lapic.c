#include "drivers/lapic.h"

#include "drivers/pit.h"
#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/arch/x86/hw/msr.h"

#define LAPIC_CALIBRATE_MS 10

static volatile uint8_t *lapic_mmio;
static uint64_t timer_hz;

static uint32_t lapic_read(uint32_t reg) { return mmio_read32(lapic_mmio + reg); }
static void lapic_write(uint32_t reg, uint32_t v) { mmio_write32(lapic_mmio + reg, v); }

void lapic_init(uint8_t svr_vector)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	/* The boot page tables identity-map the first 4 GiB, the LAPIC page included. */
	lapic_mmio = (volatile uint8_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | svr_vector);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

void lapic_timer_calibrate(uint64_t tsc_hz)
{
	uint64_t tsc_ticks;
	uint32_t elapsed;

	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
	tsc_ticks = pit_measure_tsc(LAPIC_CALIBRATE_MS);
	elapsed = 0xffffffffu - lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	timer_hz = tsc_ticks ? (uint64_t)elapsed * tsc_hz / tsc_ticks : 0;
}

void lapic_timer_periodic(uint8_t vector, uint32_t period_us)
{
	uint64_t count = timer_hz * period_us / 1000000;

	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_PERIODIC | vector);
	lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)(count ? count : 1));
}

void lapic_timer_oneshot(uint8_t vector, uint64_t tsc_ticks, uint64_t tsc_hz)
{
	uint64_t count = tsc_hz ? tsc_ticks / (tsc_hz / timer_hz ? tsc_hz / timer_hz : 1) : 1;

	lapic_write(LAPIC_TIMER_DIVIDE, LAPIC_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, vector);
	lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)(count == 0 ? 1 : count > 0xffffffffull ? 0xffffffffull : count));
}

uint64_t lapic_timer_hz(void) { return timer_hz; }
