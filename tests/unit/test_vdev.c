/*
 * Unit tests for the guest's legacy devices (kernel/vmm/vpic.c, vpit.c,
 * vrtc.c, vuart.c) and their wiring (kernel/vmm/vdev.c), driven through
 * their ports the way Linux drives them, with time as an argument.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/uart16550.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vdev.h"
#include "kernel/vmm/vm.h"
#include "tests/unit/check_run.h"

#define TSC_HZ 50000000ull
#define COM1 0x3f8

static char last_line[256];
static unsigned lines;

/* The console: the last line a device logged. */
void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	va_list ap;

	(void)level, (void)subsys;
	va_start(ap, fmt);
	vsnprintf(last_line, sizeof(last_line), fmt, ap);
	va_end(ap);
	lines++;
}

uint64_t time_tsc_hz(void) { return TSC_HZ; }

static uint8_t pic_in(struct vpic *p, uint16_t port)
{
	uint8_t v = 0;

	vpic_io(p, port, true, &v);
	return v;
}

static void pic_out(struct vpic *p, uint16_t port, uint8_t v) { vpic_io(p, port, false, &v); }

/* Linux's init_8259A: ICW1-4 on both chips, vectors 0x30 and 0x38, then masks. */
static void pic_init_linux(struct vpic *p, uint8_t master_mask, uint8_t slave_mask)
{
	vpic_reset(p);
	pic_out(p, VPIC_MASTER_CMD, 0x11);
	pic_out(p, VPIC_MASTER_DATA, 0x30);
	pic_out(p, VPIC_MASTER_DATA, 0x04);
	pic_out(p, VPIC_MASTER_DATA, 0x01);
	pic_out(p, VPIC_SLAVE_CMD, 0x11);
	pic_out(p, VPIC_SLAVE_DATA, 0x38);
	pic_out(p, VPIC_SLAVE_DATA, 0x02);
	pic_out(p, VPIC_SLAVE_DATA, 0x01);
	pic_out(p, VPIC_MASTER_DATA, master_mask);
	pic_out(p, VPIC_SLAVE_DATA, slave_mask);
}

START_TEST(test_pic_nothing_before_init_then_edges_in_priority)
{
	struct vpic p;

	vpic_reset(&p);
	vpic_set_irq(&p, 0, true);
	ck_assert(!vpic_pending(&p)); /* no interrupt leaves an uninitialised chip */
	pic_init_linux(&p, 0x00, 0x00);
	ck_assert_uint_eq(pic_in(&p, VPIC_MASTER_DATA), 0x00);
	vpic_set_irq(&p, 4, true);
	vpic_set_irq(&p, 0, false);
	vpic_set_irq(&p, 0, true);
	ck_assert(vpic_pending(&p));
	ck_assert_uint_eq(vpic_ack(&p), 0x30); /* IRQ 0 first */
	/* IRQ 4 waits while IRQ 0 is in service, and comes after its EOI. */
	ck_assert(!vpic_pending(&p));
	pic_out(&p, VPIC_MASTER_CMD, VPIC_OCW2_EOI);
	ck_assert(vpic_pending(&p));
	ck_assert_uint_eq(vpic_ack(&p), 0x34);
	/* A line held high asks once: no new request without a new edge. */
	pic_out(&p, VPIC_MASTER_CMD, VPIC_OCW2_EOI | VPIC_OCW2_SL | 4);
	ck_assert(!vpic_pending(&p));
}
END_TEST

START_TEST(test_pic_mask_isr_read_and_slave_cascade)
{
	struct vpic p;

	pic_init_linux(&p, 0xfb, 0xff); /* everything masked but the cascade */
	vpic_set_irq(&p, 0, true);
	ck_assert(!vpic_pending(&p));
	pic_out(&p, VPIC_MASTER_DATA, 0xfa); /* unmask IRQ 0: its request was latched */
	ck_assert(vpic_pending(&p));
	ck_assert_uint_eq(pic_in(&p, VPIC_MASTER_CMD), 0x01); /* IRR by default */
	ck_assert_uint_eq(vpic_ack(&p), 0x30);
	pic_out(&p, VPIC_MASTER_CMD, VPIC_OCW3 | VPIC_OCW3_RR | VPIC_OCW3_RIS);
	ck_assert_uint_eq(pic_in(&p, VPIC_MASTER_CMD), 0x01); /* ISR now */
	pic_out(&p, VPIC_MASTER_CMD, VPIC_OCW2_EOI);
	/* IRQ 8 on the slave reaches the CPU through the master's IRQ 2. */
	pic_out(&p, VPIC_SLAVE_DATA, 0xfe);
	vpic_set_irq(&p, 8, true);
	ck_assert(vpic_pending(&p));
	ck_assert_uint_eq(vpic_ack(&p), 0x38);
	pic_out(&p, VPIC_SLAVE_CMD, VPIC_OCW2_EOI);
	pic_out(&p, VPIC_MASTER_CMD, VPIC_OCW2_EOI);
	ck_assert(!vpic_pending(&p));
}
END_TEST

START_TEST(test_pic_auto_eoi)
{
	struct vpic p;

	vpic_reset(&p);
	pic_out(&p, VPIC_MASTER_CMD, 0x11);
	pic_out(&p, VPIC_MASTER_DATA, 0x20);
	pic_out(&p, VPIC_MASTER_DATA, 0x04);
	pic_out(&p, VPIC_MASTER_DATA, 0x03); /* 8086 mode, automatic EOI */
	vpic_set_irq(&p, 1, true);
	ck_assert_uint_eq(vpic_ack(&p), 0x21);
	vpic_set_irq(&p, 1, false);
	vpic_set_irq(&p, 1, true);
	ck_assert(vpic_pending(&p)); /* nothing stayed in service */
}
END_TEST

static uint8_t pit_in(struct vpit *p, uint64_t now, uint16_t port)
{
	uint8_t v = 0;

	vpit_io(p, now, port, true, &v);
	return v;
}

static void pit_out(struct vpit *p, uint64_t now, uint16_t port, uint8_t v) { vpit_io(p, now, port, false, &v); }

START_TEST(test_pit_conversions)
{
	ck_assert_uint_eq(vpit_ticks(TSC_HZ, TSC_HZ), VPIT_HZ);
	ck_assert_uint_eq(vpit_tsc(VPIT_HZ, TSC_HZ), TSC_HZ);
	/* Rounded up: after vpit_tsc(n) ticks, n PIT ticks have passed. */
	for (uint64_t n = 1; n < 5000; n += 7)
		ck_assert_uint_ge(vpit_ticks(vpit_tsc(n, TSC_HZ), TSC_HZ), n);
	/* No overflow over a year of a 5 GHz TSC. */
	ck_assert_uint_eq(vpit_ticks(5000000000ull * 86400 * 365, 5000000000ull), VPIT_HZ * 86400 * 365);
}
END_TEST

START_TEST(test_pit_periodic_channel0_interrupts)
{
	struct vpit p;
	uint64_t t0 = 1000, period = vpit_tsc(11932, TSC_HZ); /* Linux's HZ=100 latch */

	vpit_reset(&p, TSC_HZ);
	ck_assert_uint_eq(vpit_next_irq(&p), VPIT_NEVER);
	pit_out(&p, t0, VPIT_COMMAND, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
	pit_out(&p, t0, VPIT_CH0, 11932 & 0xff);
	pit_out(&p, t0, VPIT_CH0, 11932 >> 8);
	ck_assert_uint_eq(vpit_next_irq(&p), t0 + period);
	ck_assert_uint_eq(vpit_update(&p, t0 + period - 1), 0);
	ck_assert_uint_eq(vpit_update(&p, t0 + period), 1);
	ck_assert_uint_eq(vpit_update(&p, t0 + period + 10), 0);
	ck_assert_uint_ge(vpit_next_irq(&p), t0 + 2 * period - 1);
	/* A vCPU that was away three periods sees them at once. */
	ck_assert_uint_eq(vpit_update(&p, t0 + 4 * period + 1), 3);
	/* Latched count, read low then high, lies in the period. */
	pit_out(&p, t0 + 4 * period + 1000, VPIT_COMMAND, 0x00);
	uint16_t c = pit_in(&p, 0, VPIT_CH0);

	c |= (uint16_t)(pit_in(&p, 0, VPIT_CH0) << 8);
	ck_assert_uint_le(c, 11932);
	ck_assert_uint_ge(c, 11932 - 30);
}
END_TEST

START_TEST(test_pit_oneshot_interrupts_once)
{
	struct vpit p;
	uint64_t t0 = 5000;

	vpit_reset(&p, TSC_HZ);
	pit_out(&p, t0, VPIT_COMMAND, 0x30); /* channel 0, lobyte/hibyte, mode 0 */
	pit_out(&p, t0, VPIT_CH0, 100);
	pit_out(&p, t0, VPIT_CH0, 0);
	ck_assert_uint_eq(vpit_next_irq(&p), t0 + vpit_tsc(100, TSC_HZ));
	ck_assert_uint_eq(vpit_update(&p, t0 + TSC_HZ), 1);
	ck_assert_uint_eq(vpit_update(&p, t0 + 2 * TSC_HZ), 0);
	ck_assert_uint_eq(vpit_next_irq(&p), VPIT_NEVER);
	/* A new control word stops the channel: nothing falls due until a count is written. */
	pit_out(&p, t0 + 2 * TSC_HZ, VPIT_COMMAND, 0x34);
	ck_assert_uint_eq(vpit_update(&p, t0 + 3 * TSC_HZ), 0);
	ck_assert_uint_eq(vpit_next_irq(&p), VPIT_NEVER);
}
END_TEST

/* Linux's pit_calibrate_tsc(): channel 2 in mode 0 gated by port 0x61, polled for OUT2. */
START_TEST(test_pit_channel2_calibration)
{
	struct vpit p;
	uint64_t t0 = 777, latch = VPIT_HZ / 100, t;
	uint8_t b;

	vpit_reset(&p, TSC_HZ);
	b = (uint8_t)((pit_in(&p, t0, VPIT_PORT_B) & ~VPIT_PORT_B_SPEAKER) | VPIT_PORT_B_GATE2);
	pit_out(&p, t0, VPIT_PORT_B, b);
	pit_out(&p, t0, VPIT_COMMAND, 0xb0);
	pit_out(&p, t0, VPIT_CH2, latch & 0xff);
	pit_out(&p, t0, VPIT_CH2, (uint8_t)(latch >> 8));
	for (t = t0; !(pit_in(&p, t, VPIT_PORT_B) & VPIT_PORT_B_OUT2); t += 100)
		;
	/* 10 ms of PIT time is 10 ms of TSC time, to one poll. */
	ck_assert_uint_ge(t - t0, TSC_HZ / 100 - 100);
	ck_assert_uint_le(t - t0, TSC_HZ / 100 + 100);
	ck_assert(pit_in(&p, t, VPIT_PORT_B) & VPIT_PORT_B_GATE2);
	/* quick_pit_calibrate() reads the count without a latch, low then high: it counts down. */
	pit_out(&p, t, VPIT_COMMAND, 0xb0);
	pit_out(&p, t, VPIT_CH2, 0xff);
	pit_out(&p, t, VPIT_CH2, 0xff);
	pit_in(&p, t + 256 * 42, VPIT_CH2);
	ck_assert_uint_lt(pit_in(&p, t + 256 * 42, VPIT_CH2), 0xff);
}
END_TEST

static uint8_t rtc_read(struct vrtc *r, uint64_t now, uint8_t reg)
{
	uint8_t v = reg;

	vrtc_io(r, now, VRTC_INDEX, false, &v);
	vrtc_io(r, now, VRTC_DATA, true, &v);
	return v;
}

START_TEST(test_rtc_reads_the_epoch_plus_uptime_in_bcd)
{
	struct vrtc r;
	uint64_t t0 = 123;
	uint8_t v = 0x55;

	vrtc_reset(&r, t0, TSC_HZ);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_YEAR), 0x26);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_CENTURY), 0x20);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_MONTH), 0x01);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_DAY), 0x01);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_WEEKDAY), 5); /* Thursday */
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_REG_A) & 0x80, 0); /* never updating */
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_REG_B), VRTC_REG_B_24H);
	/* 1 day, 1 hour, 1 minute and 59 seconds later */
	t0 += (86400ull + 3600 + 60 + 59) * TSC_HZ;
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_SECONDS), 0x59);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_MINUTES), 0x01);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_HOURS), 0x01);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_DAY), 0x02);
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_WEEKDAY), 6);
	/* CMOS RAM keeps what is written; status register D is read-only. */
	vrtc_io(&r, t0, VRTC_INDEX, false, &(uint8_t){ 0x40 });
	vrtc_io(&r, t0, VRTC_DATA, false, &v);
	ck_assert_uint_eq(rtc_read(&r, t0, 0x40), 0x55);
	vrtc_io(&r, t0, VRTC_INDEX, false, &(uint8_t){ VRTC_REG_D });
	vrtc_io(&r, t0, VRTC_DATA, false, &(uint8_t){ 0 });
	ck_assert_uint_eq(rtc_read(&r, t0, VRTC_REG_D), VRTC_REG_D_VRT);
}
END_TEST

static uint8_t uart_in(struct vuart *u, unsigned reg)
{
	uint8_t v = 0;

	vuart_access(u, 0, 0, (uint16_t)(COM1 + reg), true, &v);
	return v;
}

static void uart_out(struct vuart *u, unsigned reg, uint8_t v) { vuart_access(u, 0, 0, (uint16_t)(COM1 + reg), false, &v); }

/* What Linux's 8250 autoconfig and startup test, in order: scratch, IER, FIFO, loopback, THRE. */
START_TEST(test_uart_passes_linux_probes)
{
	struct vuart u;

	vuart_init(&u, COM1, 0);
	uart_out(&u, UART_IER, 0);
	ck_assert_uint_eq(uart_in(&u, UART_IER), 0);
	uart_out(&u, UART_IER, 0x0f);
	ck_assert_uint_eq(uart_in(&u, UART_IER), 0x0f);
	uart_out(&u, UART_IER, 0xff);
	ck_assert_uint_eq(uart_in(&u, UART_IER), 0x0f); /* not an XScale: no UUE bit */
	uart_out(&u, UART_IER, 0);
	uart_out(&u, UART_FCR, UART_FCR_ENABLE);
	ck_assert_uint_eq(uart_in(&u, UART_IIR) >> 6, 3); /* a 16550A */
	uart_out(&u, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
	ck_assert_uint_eq(uart_in(&u, UART_MSR) & 0xf0, 0x90);
	uart_out(&u, UART_MCR, 0);
	/* THRE test: enabling the interrupt with THR empty raises it, and reading IIR clears it. */
	uart_out(&u, UART_IER, UART_IER_THRI);
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	uart_out(&u, UART_IER, 0);
	uart_out(&u, UART_IER, UART_IER_THRI);
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
}
END_TEST

START_TEST(test_uart_interrupts_tx_rx_and_out2)
{
	struct vuart u;

	vuart_init(&u, COM1, 0);
	uart_out(&u, UART_IER, UART_IER_THRI | UART_IER_RDI);
	ck_assert(!vuart_irq(&u)); /* OUT2 gates the line on a PC */
	uart_out(&u, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	ck_assert(vuart_irq(&u));
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
	ck_assert(!vuart_irq(&u));
	/* Each byte sent empties THR again: THRE comes back. */
	uart_out(&u, UART_THR, 'h');
	ck_assert(vuart_irq(&u));
	/* Received data outranks THRE and stays until read; LSR shows it. */
	ck_assert(vuart_receive(&u, 'x'));
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_RDI);
	ck_assert(uart_in(&u, UART_LSR) & UART_LSR_DATA_READY);
	ck_assert_uint_eq(uart_in(&u, UART_RBR), 'x');
	ck_assert(!(uart_in(&u, UART_LSR) & UART_LSR_DATA_READY));
	ck_assert_uint_eq(uart_in(&u, UART_IIR) & 0x0f, UART_IIR_THRI);
	/* The FIFO holds 16 bytes. */
	for (unsigned i = 0; i < VUART_RX_FIFO; i++)
		ck_assert(vuart_receive(&u, (uint8_t)i));
	ck_assert(!vuart_receive(&u, 'z'));
	ck_assert_uint_eq(uart_in(&u, UART_RBR), 0);
	ck_assert_uint_eq(uart_in(&u, UART_RBR), 1);
}
END_TEST

START_TEST(test_uart_lines_and_prompts)
{
	struct vuart u;
	unsigned before;

	vuart_init(&u, COM1, 3);
	for (const char *s = "ok\r\n"; *s; s++)
		vuart_access(&u, 0, 10, COM1, false, &(uint8_t){ (uint8_t)*s });
	ck_assert_str_eq(last_line, "[vm3/vcpu0] ok");
	/* A prompt has no newline: it shows once the guest is quiet. */
	before = lines;
	for (const char *s = "guest# "; *s; s++)
		vuart_access(&u, 0, 100, COM1, false, &(uint8_t){ (uint8_t)*s });
	vuart_flush_idle(&u, 150, 100);
	ck_assert_uint_eq(lines, before);
	vuart_flush_idle(&u, 200, 100);
	ck_assert_str_eq(last_line, "[vm3/vcpu0] guest# ");
	/* Loopback sends nothing out: the byte comes back in. */
	uart_out(&u, UART_MCR, UART_MCR_LOOP);
	uart_out(&u, UART_THR, 'q');
	ck_assert_uint_eq(uart_in(&u, UART_RBR), 'q');
}
END_TEST

/* The wiring: a VM whose PIC is set up as Linux does. */
static struct vm vm;

static void vm_linux(void)
{
	memset(&vm, 0, sizeof(vm));
	vuart_init(&vm.console, COM1, 0);
	vdev_reset(&vm, 0);
	pic_init_linux(&vm.dev.pic, 0xea /* IRQ 0, 2, 4 open */, 0xff);
}

static void io(uint64_t now, uint16_t port, uint8_t v)
{
	uint32_t val = v;

	ck_assert(vdev_io(&vm, 0, now, port, 1, false, &val));
}

START_TEST(test_vdev_timer_and_uart_reach_the_cpu)
{
	uint64_t t0 = 100, next;
	uint32_t val = 0;

	vm_linux();
	ck_assert_uint_eq(vdev_next_event(&vm), VDEV_NEVER);
	io(t0, VPIT_COMMAND, 0x34);
	io(t0, VPIT_CH0, 0x9c);
	io(t0, VPIT_CH0, 0x2e);
	next = vdev_next_event(&vm);
	ck_assert_uint_gt(next, t0);
	vdev_update(&vm, next - 1);
	ck_assert(!vdev_irq_pending(&vm));
	vdev_update(&vm, next);
	ck_assert(vdev_irq_pending(&vm));
	ck_assert_uint_eq(vdev_irq_ack(&vm), 0x30);
	io(next, VPIC_MASTER_CMD, VPIC_OCW2_EOI);
	/* A byte typed at the console raises IRQ 4 once the guest enabled it. */
	io(next, COM1 + UART_IER, UART_IER_RDI);
	io(next, COM1 + UART_MCR, UART_MCR_OUT2);
	ck_assert(vdev_console_input(&vm, 'a'));
	ck_assert(vdev_irq_pending(&vm));
	ck_assert_uint_eq(vdev_irq_ack(&vm), 0x34);
	ck_assert(vdev_io(&vm, 0, next, COM1 + UART_RBR, 1, true, &val));
	ck_assert_uint_eq(val, 'a');
	/* Unclaimed ports float high, byte by byte. */
	val = 0x1234;
	ck_assert(!vdev_io(&vm, 0, next, 0x2f8, 2, true, &val));
	ck_assert_uint_eq(val, 0xffff);
	/* Missed periods become one request: the PIC holds one per line. */
	vdev_update(&vm, next + 10 * TSC_HZ / 100);
	ck_assert_uint_eq(vm.dev.pit_irqs, 2);
	ck_assert_uint_gt(vm.dev.pit_coalesced, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vdev");
	TCase *pic = tcase_create("pic"), *pit = tcase_create("pit"), *rtc = tcase_create("rtc");
	TCase *uart = tcase_create("uart"), *wiring = tcase_create("wiring");

	tcase_add_test(pic, test_pic_nothing_before_init_then_edges_in_priority);
	tcase_add_test(pic, test_pic_mask_isr_read_and_slave_cascade);
	tcase_add_test(pic, test_pic_auto_eoi);
	suite_add_tcase(s, pic);
	tcase_add_test(pit, test_pit_conversions);
	tcase_add_test(pit, test_pit_periodic_channel0_interrupts);
	tcase_add_test(pit, test_pit_oneshot_interrupts_once);
	tcase_add_test(pit, test_pit_channel2_calibration);
	suite_add_tcase(s, pit);
	tcase_add_test(rtc, test_rtc_reads_the_epoch_plus_uptime_in_bcd);
	suite_add_tcase(s, rtc);
	tcase_add_test(uart, test_uart_passes_linux_probes);
	tcase_add_test(uart, test_uart_interrupts_tx_rx_and_out2);
	tcase_add_test(uart, test_uart_lines_and_prompts);
	suite_add_tcase(s, uart);
	tcase_add_test(wiring, test_vdev_timer_and_uart_reach_the_cpu);
	suite_add_tcase(s, wiring);
	return check_run(s);
}
