/*
 * Unit tests for migration/hv_dev.c: the devices a Linux guest programmed,
 * through DEVICE_STATE records into a fresh VM's devices and back; every
 * field a hostile stream could set to what no device reaches is refused.
 */
#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "drivers/uart16550.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"
#include "migration/codec.h"
#include "migration/hv_dev.h"
#include "migration/stream.h"
#include "tests/unit/check_run.h"

#define TSC_HZ 50000000ull
#define COM1 0x3f8
#define PIT_HZ250 4773 /* 1193182 / 250 */

void hv_log(enum hv_log_level level, const char *subsys, const char *fmt, ...)
{
	(void)level, (void)subsys, (void)fmt;
}

uint64_t time_tsc_hz(void) { return TSC_HZ; }

static struct vm a, b;
static uint8_t rec[MIGR_HV_DEVICES][MIGR_DEVICE_STATE_MAX];
static long rec_len[MIGR_HV_DEVICES];

static void out(struct vm *vm, uint64_t now, uint16_t port, uint8_t v)
{
	uint32_t val = v;

	vdev_io(vm, 0, now, port, 1, false, &val);
}

/* What Linux does at boot, on the guest's clock: PICs, a 250 Hz tick, CMOS, the console with input waiting. */
static void program(struct vm *vm, uint64_t t)
{
	static const uint8_t pic_init[][2] = { { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
					       { 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
					       { 0x21, 0xe8 }, { 0xa1, 0xfe } };
	unsigned i;

	memset(vm, 0, sizeof(*vm));
	vuart_init(&vm->console, COM1, 0);
	vdev_reset(vm, t);
	for (i = 0; i < sizeof(pic_init) / sizeof(pic_init[0]); i++)
		out(vm, t, pic_init[i][0], pic_init[i][1]);
	out(vm, t, 0x43, 0x34); /* channel 0, lobyte/hibyte, rate generator */
	out(vm, t, 0x40, PIT_HZ250 & 0xff);
	out(vm, t + 100, 0x40, PIT_HZ250 >> 8);
	out(vm, t, 0x70, 0x0b);
	out(vm, t, 0x71, 0x12);
	out(vm, t, 0x70, 0x0a);
	out(vm, t, COM1 + UART_FCR, UART_FCR_ENABLE);
	out(vm, t, COM1 + UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	out(vm, t, COM1 + UART_IER, UART_IER_RDI | UART_IER_THRI);
	out(vm, t, COM1 + UART_SCR, 0x5a);
	vdev_console_input(vm, 'l');
	vdev_console_input(vm, 's');
	vdev_update(vm, t + 3 * TSC_HZ / 250 + 1000); /* three ticks in: one raised, two coalesced */
}

static void encode_all(const struct vm *vm)
{
	for (unsigned i = 0; i < MIGR_HV_DEVICES; i++) {
		rec_len[i] = migr_hv_dev_encode(&vm->dev, &vm->console, i, rec[i], sizeof(rec[i]));
		ck_assert_int_gt(rec_len[i], 8);
		ck_assert_int_eq(migr_body_check(MIGR_REC_DEVICE_STATE, rec[i], (uint32_t)rec_len[i]), 0);
	}
	ck_assert_int_eq(migr_hv_dev_encode(&vm->dev, &vm->console, MIGR_HV_DEVICES, rec[0], sizeof(rec[0])), 0);
}

static int decode_all(struct vm *vm, uint32_t *seen)
{
	int rc = 0;

	*seen = 0;
	for (unsigned i = 0; i < MIGR_HV_DEVICES && !rc; i++)
		rc = migr_hv_dev_decode(rec[i], (uint32_t)rec_len[i], &vm->dev, &vm->console, seen);
	return rc;
}

/* A fresh VM on another host, its devices reset at another time. */
static void fresh(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vuart_init(&vm->console, COM1, 1);
	vdev_reset(vm, 777);
}

START_TEST(test_round_trip)
{
	uint64_t t = 5 * TSC_HZ, pause = t + TSC_HZ / 10;
	uint32_t seen;
	uint32_t val = 0;

	program(&a, t);
	encode_all(&a);
	fresh(&b);
	ck_assert_int_eq(decode_all(&b, &seen), HV_OK);
	ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, pause), HV_OK);
	ck_assert_mem_eq(&a.dev.pic, &b.dev.pic, sizeof(a.dev.pic));
	ck_assert_mem_eq(&a.dev.pit, &b.dev.pit, sizeof(a.dev.pit));
	ck_assert_mem_eq(&a.dev.rtc, &b.dev.rtc, sizeof(a.dev.rtc));
	ck_assert_uint_eq(b.console.ier, a.console.ier);
	ck_assert_uint_eq(b.console.mcr, a.console.mcr);
	ck_assert_uint_eq(b.console.scr, 0x5a);
	ck_assert_uint_eq(b.console.fcr, UART_FCR_ENABLE);
	ck_assert(b.console.thre_pending == a.console.thre_pending);
	/* The tick goes on at the same guest time; the pending interrupt and the queued input are there. */
	ck_assert_uint_eq(vdev_next_event(&b), vdev_next_event(&a));
	ck_assert(vdev_irq_pending(&b) && vdev_irq_ack(&b) == 0x30);
	vdev_io(&b, 0, pause, COM1 + UART_RBR, 1, true, &val);
	ck_assert_uint_eq(val, 'l');
	vdev_io(&b, 0, pause, COM1 + UART_RBR, 1, true, &val);
	ck_assert_uint_eq(val, 's');
	/* The RTC reads the same time on both at the same guest TSC. */
	vdev_io(&a, 0, pause, 0x70, 1, false, &(uint32_t){ VRTC_SECONDS });
	vdev_io(&b, 0, pause, 0x70, 1, false, &(uint32_t){ VRTC_SECONDS });
	ck_assert_uint_eq(a.dev.rtc.reset_tsc, b.dev.rtc.reset_tsc);
}
END_TEST

/* Changes byte off of record i's state (after the head) to v, expects its decode refused and nothing changed. */
static void refused(unsigned i, size_t off, uint8_t v)
{
	struct vm before;
	uint32_t seen = 0;
	uint8_t keep = rec[i][8 + off];

	fresh(&b);
	before = b;
	rec[i][8 + off] = v;
	ck_assert_msg(migr_hv_dev_decode(rec[i], (uint32_t)rec_len[i], &b.dev, &b.console, &seen) == HV_EINVAL,
		      "device record %u byte %zu = %#x taken", i, off, v);
	ck_assert_mem_eq(&before.dev, &b.dev, sizeof(b.dev));
	ck_assert_mem_eq(&before.console, &b.console, sizeof(b.console));
	ck_assert_uint_eq(seen, 0);
	rec[i][8 + off] = keep;
}

START_TEST(test_impossible_states_refused)
{
	const size_t ch0 = offsetof(struct migr_pit, ch[0]), ch1 = offsetof(struct migr_pit, ch[1]);

	program(&a, TSC_HZ);
	encode_all(&a);
	refused(0, offsetof(struct migr_pic_chip, init_step), 1);           /* no ICW1 step */
	refused(0, offsetof(struct migr_pic_chip, init_step), 5);
	refused(0, offsetof(struct migr_pic_chip, vector_base), 0x31);      /* ICW2's low bits are the IRQ */
	refused(0, offsetof(struct migr_pic_chip, flags), 0x20);
	refused(0, 8 + offsetof(struct migr_pic_chip, init_step), 6);       /* the slave's too */
	refused(1, ch0 + offsetof(struct migr_pit_channel, reload) + 2, 1); /* a count above 16 bits */
	refused(1, ch0 + offsetof(struct migr_pit_channel, mode), 6);
	refused(1, ch0 + offsetof(struct migr_pit_channel, access), 4);
	refused(1, ch0 + offsetof(struct migr_pit_channel, flags), 0x10);
	refused(1, ch1 + offsetof(struct migr_pit_channel, reload), 1);     /* channel 1 is not wired */
	refused(1, offsetof(struct migr_pit, port_b), 0x10);
	refused(1, offsetof(struct migr_pit, flags), 2);
	refused(2, offsetof(struct migr_rtc, index), 0x80);
	refused(2, offsetof(struct migr_rtc, ram) + VRTC_REG_C, 1);
	refused(2, offsetof(struct migr_rtc, ram) + VRTC_REG_D, 0);
	refused(3, offsetof(struct migr_uart16550a, ier), 0x10);
	refused(3, offsetof(struct migr_uart16550a, mcr), 0x20);
	refused(3, offsetof(struct migr_uart16550a, fcr), 0x02);
	refused(3, offsetof(struct migr_uart16550a, flags), 2);
	refused(3, offsetof(struct migr_uart16550a, rx_count), 17);
	refused(3, offsetof(struct migr_uart16550a, rx) + 2, 'x');           /* a byte past the count */
}
END_TEST

START_TEST(test_counts_and_modes_refused)
{
	struct migr_pit *p;

	program(&a, TSC_HZ);
	encode_all(&a);
	p = (struct migr_pit *)(rec[1] + 8);
	p->ch[0].access = VPIT_ACCESS_LSB; /* half-way through a read it never started */
	p->ch[0].flags |= MIGR_PIT_READ_MSB_NEXT;
	refused(1, offsetof(struct migr_pit, port_b), 0x20);
	encode_all(&a);
	p->ch[0].flags &= (uint8_t)~MIGR_PIT_COUNTING; /* interrupts from a channel that never counted */
	refused(1, offsetof(struct migr_pit, port_b), 0x20);
	encode_all(&a);
	p->ch[0].mode = VPIT_MODE_ONESHOT;
	p->ch[0].irqs = 2;
	refused(1, offsetof(struct migr_pit, port_b), 0x20);
	/* A device twice, or both forms of the UART. */
	encode_all(&a);
	fresh(&b);
	{
		uint32_t seen = 0;
		uint8_t v1[8 + sizeof(struct migr_uart16550)] = { MIGR_DEV_UART16550 };

		ck_assert_int_eq(migr_hv_dev_decode(rec[0], (uint32_t)rec_len[0], &b.dev, &b.console, &seen), HV_OK);
		ck_assert_int_eq(migr_hv_dev_decode(rec[0], (uint32_t)rec_len[0], &b.dev, &b.console, &seen), HV_EINVAL);
		ck_assert_int_eq(migr_hv_dev_decode(rec[3], (uint32_t)rec_len[3], &b.dev, &b.console, &seen), HV_OK);
		ck_assert_int_eq(migr_hv_dev_decode(v1, sizeof(v1), &b.dev, &b.console, &seen), HV_EINVAL);
	}
}
END_TEST

/* Against the guest's clock at the pause: nothing from its future, no tick that had not fallen due. */
START_TEST(test_time_checked_at_the_pause)
{
	uint64_t t = 5 * TSC_HZ;
	uint32_t seen;

	program(&a, t);
	encode_all(&a);
	fresh(&b);
	ck_assert_int_eq(decode_all(&b, &seen), HV_OK);
	ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, t + 3 * TSC_HZ / 250 + 1000), HV_OK);
	ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, t + 2 * TSC_HZ / 250), HV_EINVAL);
	ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, t - 1), HV_EINVAL);
	/* The UART's line up, the PIC never saw it rise: an interrupt would be lost. */
	b.dev.pic.chip[0].lines &= (uint8_t)~(1u << VUART_IRQ);
	ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, t + TSC_HZ), HV_EINVAL);
	/* The first form's stream: only the UART, whose registers alone go across. */
	fresh(&b);
	seen = 0;
	{
		uint8_t v1[8 + sizeof(struct migr_uart16550)] = { MIGR_DEV_UART16550 };

		v1[8 + offsetof(struct migr_uart16550, lcr)] = 0x03;
		ck_assert_int_eq(migr_hv_dev_decode(v1, sizeof(v1), &b.dev, &b.console, &seen), HV_OK);
		ck_assert_uint_eq(b.console.lcr, 0x03);
		ck_assert_int_eq(migr_hv_dev_check(&b.dev, &b.console, seen, 1), HV_OK);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_hv_dev");
	TCase *tc = tcase_create("dev");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_impossible_states_refused);
	tcase_add_test(tc, test_counts_and_modes_refused);
	tcase_add_test(tc, test_time_checked_at_the_pause);
	suite_add_tcase(s, tc);
	return check_run(s);
}
