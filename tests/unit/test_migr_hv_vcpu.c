/* Unit tests for migration/hv_vcpu.c: a vCPU's state through VCPU_STATE sub-records and back. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/lib/err.h"
#include "migration/codec.h"
#include "migration/hv_vcpu.h"
#include "tests/unit/check_run.h"

static uint8_t buf[8192];

/* A state with every field a different non-zero value (reserved fields zero, as the save leaves them). */
static void fill(struct vcpu_state *s)
{
	uint64_t *q = &s->rax;
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(s->fxsave); i++)
		s->fxsave[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; &q[i] <= &s->pending_dbg; i++)
		q[i] = 0x1000 + i;
	for (i = 0; i < VCPU_SEG_COUNT; i++)
		s->seg[i] = (struct vcpu_segment){ .base = 0x100 * i, .limit = 0xfffff - i, .ar = 0xc093 | (i == 6 ? 1u << 16 : 0),
						   .selector = (uint16_t)(8 * i) };
	s->gdtr = (struct vcpu_dtable){ .base = 0x5000, .limit = 0x27 };
	s->idtr = (struct vcpu_dtable){ .base = 0x6000, .limit = 0xfff };
	s->interruptibility = 1;
	s->activity = 1;
	s->pending_event = 0x80000b0e;
	s->pending_error_code = 4;
	s->pending_insn_len = 2;
	/* The architecture's own MSRs (SYSCALL, MTRRs, ...): carried as they are. */
	s->msr_count = 3;
	s->msr[0] = (struct vcpu_msr){ .index = 0xc0000082, .value = 0xffffffff81000000ull };
	s->msr[1] = (struct vcpu_msr){ .index = 0x1a0, .value = 0x1801 };
	s->msr[2] = (struct vcpu_msr){ .index = 0x200, .value = 0x6 };
}

START_TEST(test_round_trip)
{
	struct vcpu_state a, b;
	uint32_t count;
	long n;

	fill(&a);
	n = migr_hv_vcpu_encode(&a, buf, sizeof(buf), &count);
	ck_assert_int_eq(n, MIGR_HV_VCPU_BYTES_N(3));
	ck_assert_uint_eq(count, 7);
	ck_assert_int_eq(migr_vcpu_subs_check(buf, (uint32_t)n, count), HV_OK); /* the codec's own shape rules */
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_OK);
	ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST

START_TEST(test_short_buffer)
{
	struct vcpu_state a;
	uint32_t count = 99;

	fill(&a);
	ck_assert_int_eq(migr_hv_vcpu_encode(&a, buf, MIGR_HV_VCPU_BYTES_N(3) - 1, &count), HV_ERANGE);
	ck_assert_uint_eq(count, 99);
}
END_TEST

/* Without one of its parts, or with an MSR this host does not give a guest, a vCPU is refused. */
START_TEST(test_refused)
{
	struct vcpu_state a, b;
	struct migr_msr m;
	uint32_t count, msrs_at;
	long n;

	fill(&a);
	n = migr_hv_vcpu_encode(&a, buf, sizeof(buf), &count);
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count - 1, &b), HV_EINVAL); /* no EVENTS */
	msrs_at = 5 * 8 + 144 + 160 + 48 + 512 + 48; /* GPRS SEGMENTS CONTROL FPU DEBUG, then the MSRS head */
	memcpy(&m, buf + msrs_at + 8 + 8, sizeof(m));
	ck_assert_uint_eq(m.index, MIGR_MSR_TSC);
	m.index = 0xc0000080; /* EFER travels in CONTROL, not as an MSR */
	memcpy(buf + msrs_at + 8 + 8, &m, sizeof(m));
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_EINVAL);
	m.index = MIGR_MSR_FERRY_INSN_LEN + 1; /* FerryHV's range has no such member */
	memcpy(buf + msrs_at + 8 + 8, &m, sizeof(m));
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_EINVAL);
	m.index = 0x1a0; /* twice: the list's MISC_ENABLE comes later */
	memcpy(buf + msrs_at + 8 + 8, &m, sizeof(m));
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_EINVAL);
}
END_TEST

/* An MSR the stream code does not name goes to the state's list: the architecture accepts or refuses it. */
START_TEST(test_other_msrs_go_to_the_list)
{
	struct vcpu_state a, b;
	uint32_t count;
	long n;

	fill(&a);
	a.msr[2].index = 0x1234;
	n = migr_hv_vcpu_encode(&a, buf, sizeof(buf), &count);
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_OK);
	ck_assert_uint_eq(b.msr_count, 3);
	ck_assert_uint_eq(b.msr[2].index, 0x1234);
	/* A full list plus the named ones still fits one sub-record. */
	a.msr_count = VCPU_STATE_MSRS;
	for (unsigned i = 0; i < VCPU_STATE_MSRS; i++)
		a.msr[i] = (struct vcpu_msr){ .index = 0x200 + i, .value = i };
	n = migr_hv_vcpu_encode(&a, buf, sizeof(buf), &count);
	ck_assert_int_eq(n, MIGR_HV_VCPU_BYTES);
	ck_assert_int_eq(migr_vcpu_subs_check(buf, (uint32_t)n, count), HV_OK);
	ck_assert_int_eq(migr_hv_vcpu_decode(buf, (uint32_t)n, count, &b), HV_OK);
	ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migr_hv_vcpu");
	TCase *tc = tcase_create("vcpu");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_short_buffer);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_other_msrs_go_to_the_list);
	suite_add_tcase(s, tc);
	return check_run(s);
}
