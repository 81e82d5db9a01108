/*
 * Unit tests for the string-instruction helpers (kernel/arch/x86/hw/strops.h)
 * and the Internet checksum lwIP uses (net/chksum.c), each against a plain
 * reference over random data, lengths and alignments; and the TCP checksum
 * the e1000 finishes, checked as a receiver checks it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/arch/x86/hw/strops.h"
#include "net/chksum.h"
#include "tests/unit/check_run.h"

#define BUF 9000

static uint8_t src[BUF + 64], dst[BUF + 64], want[BUF + 64];

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* RFC 1071: 16-bit words as loaded (here little-endian), a 32-bit sum, carries folded back. */
static uint16_t ref_chksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8;
	if (n & 1)
		sum += p[n - 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

START_TEST(test_copy_every_length_and_alignment)
{
	srand(1);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++) {
			fill_random(src, sizeof(src));
			fill_random(dst, sizeof(dst));
			memcpy(want, dst, sizeof(want));
			memcpy(want + (off ^ 5), src + off, len);
			str_copy(dst + (off ^ 5), src + off, len);
			/* The bytes asked for and not one beyond. */
			ck_assert_mem_eq(dst, want, sizeof(dst));
		}
	fill_random(src, sizeof(src));
	str_copy(dst + 3, src + 1, BUF);
	ck_assert_mem_eq(dst + 3, src + 1, BUF);
}
END_TEST

START_TEST(test_fill_every_length_and_alignment)
{
	srand(2);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 300; len++) {
			uint8_t byte = (uint8_t)rand();

			fill_random(dst, sizeof(dst));
			memcpy(want, dst, sizeof(want));
			memset(want + off, byte, len);
			str_fill(dst + off, byte, len);
			ck_assert_mem_eq(dst, want, sizeof(dst));
		}
}
END_TEST

START_TEST(test_all_zero_finds_any_nonzero_byte)
{
	static uint64_t page[512];

	memset(page, 0, sizeof(page));
	ck_assert(str_all_zero(page, 512));
	ck_assert(str_all_zero(page, 0));
	for (size_t byte = 0; byte < sizeof(page); byte++) {
		((uint8_t *)page)[byte] = 0x10;
		ck_assert(!str_all_zero(page, 512));
		/* Words before the nonzero one are all zero. */
		ck_assert(str_all_zero(page, byte / 8));
		((uint8_t *)page)[byte] = 0;
	}
	ck_assert(str_all_zero(page, 512));
}
END_TEST

/* RFC 1071's worked example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 as big-endian words. */
START_TEST(test_chksum_rfc1071_example)
{
	static const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	ck_assert_uint_eq(net_chksum(ex, sizeof(ex)), 0xf2dd); /* the same sum, loaded little-endian */
	ck_assert_uint_eq(net_chksum(ex, 0), 0);
	ck_assert_uint_eq(net_chksum(ex, -1), 0);
}
END_TEST

START_TEST(test_chksum_matches_reference)
{
	srand(3);
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 600; len++) {
			fill_random(src, sizeof(src));
			ck_assert_uint_eq(net_chksum(src + off, (int)len), ref_chksum(src + off, len));
		}
	for (int i = 0; i < 200; i++) {
		size_t off = (size_t)rand() % 64, len = (size_t)rand() % BUF;

		fill_random(src, sizeof(src));
		ck_assert_uint_eq(net_chksum(src + off, (int)len), ref_chksum(src + off, len));
	}
}
END_TEST

/* Sums that exercise every carry: all 0xff (0xffff, never 0 for nonzero data) and all zero. */
START_TEST(test_chksum_carries)
{
	memset(src, 0xff, sizeof(src));
	for (size_t len = 2; len < BUF; len += 2)
		ck_assert_uint_eq(net_chksum(src, (int)len), 0xffff);
	ck_assert_uint_eq(net_chksum(src, 1), 0xff);
	memset(src, 0, sizeof(src));
	ck_assert_uint_eq(net_chksum(src, BUF), 0);
	memset(src, 0xfe, sizeof(src));
	ck_assert_uint_eq(net_chksum(src, 4096), ref_chksum(src, 4096));
}
END_TEST

/* An Ethernet frame with an IPv4 header of ihl bytes and a TCP segment of seg bytes, pad bytes after it. */
static size_t tcp_frame(uint8_t *f, size_t ihl, size_t seg, size_t pad, uint8_t proto)
{
	size_t tot = ihl + seg, i;

	memset(f, 0, 14 + tot + pad);
	fill_random(f, 12);
	f[12] = 0x08; /* IPv4 */
	f[13] = 0x00;
	f[14] = (uint8_t)(0x40 | ihl / 4);
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[14 + 8] = 64;
	f[14 + 9] = proto;
	for (i = 12; i < 20; i++)
		f[14 + i] = (uint8_t)rand(); /* addresses */
	fill_random(f + 14 + ihl, seg);
	f[14 + ihl + 16] = 0xaa; /* a stale checksum: must not count */
	f[14 + ihl + 17] = 0x55;
	fill_random(f + 14 + tot, pad);
	return 14 + tot + pad;
}

/* What the receiver checks: the pseudo-header and the segment, checksum included, sum to all ones. */
static int tcp_checksum_ok(const uint8_t *f)
{
	size_t ihl = (size_t)(f[14] & 0xf) * 4, tot = (size_t)f[16] << 8 | f[17], seg = tot - ihl;
	uint8_t ph[12];
	uint32_t sum;

	memcpy(ph, f + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)(seg >> 8);
	ph[11] = (uint8_t)seg;
	sum = (uint32_t)ref_chksum(ph, 12) + ref_chksum(f + 14 + ihl, seg);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* What an e1000 does with a frame given TXSM (8254x manual, 3.3.6): sum from the start, store the complement. */
static void device_finishes(uint8_t *f, size_t len)
{
	uint16_t c = (uint16_t)~ref_chksum(f + NET_CSUM_TCP_START, len - NET_CSUM_TCP_START);

	memcpy(f + NET_CSUM_TCP_FIELD, &c, 2);
}

START_TEST(test_tcp_csum_offload)
{
	static const size_t segs[] = { 20, 21, 40, 61, 536, 1459, 1480 };
	uint8_t f[1600];
	size_t i, len;

	for (i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		/* The common case: the device finishes what the pseudo-header started. */
		len = tcp_frame(f, 20, segs[i], 0, 6);
		ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_DEVICE);
		ck_assert(!tcp_checksum_ok(f));
		device_finishes(f, len);
		ck_assert_msg(tcp_checksum_ok(f), "segment of %zu bytes", segs[i]);
		/* IPv4 options, or bytes after the datagram: the device would sum the wrong bytes, so it is done here. */
		len = tcp_frame(f, 24, segs[i], 0, 6);
		ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_DONE);
		ck_assert(tcp_checksum_ok(f));
		len = tcp_frame(f, 20, segs[i], 6, 6);
		ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_DONE);
		ck_assert(tcp_checksum_ok(f));
	}
}
END_TEST

START_TEST(test_tcp_csum_leaves_others_alone)
{
	uint8_t f[1600], before[1600];
	size_t len;

	len = tcp_frame(f, 20, 100, 0, 17); /* UDP */
	memcpy(before, f, len);
	ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_NONE);
	len = tcp_frame(f, 20, 100, 0, 6);
	f[14 + 6] = 0x20; /* more fragments */
	memcpy(before, f, len);
	ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_NONE);
	ck_assert_mem_eq(f, before, len);
	f[14 + 6] = 0;
	ck_assert_int_eq(net_tcp_csum_prepare(f, 14 + 30), NET_CSUM_NONE); /* shorter than its datagram */
	ck_assert_int_eq(net_tcp_csum_prepare(f, 20), NET_CSUM_NONE);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	ck_assert_int_eq(net_tcp_csum_prepare(f, len), NET_CSUM_NONE);
}
END_TEST

static Suite *strops_suite(void)
{
	Suite *s = suite_create("strops");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_copy_every_length_and_alignment);
	tcase_add_test(tc, test_fill_every_length_and_alignment);
	tcase_add_test(tc, test_all_zero_finds_any_nonzero_byte);
	tcase_add_test(tc, test_chksum_rfc1071_example);
	tcase_add_test(tc, test_chksum_matches_reference);
	tcase_add_test(tc, test_chksum_carries);
	tcase_add_test(tc, test_tcp_csum_offload);
	tcase_add_test(tc, test_tcp_csum_leaves_others_alone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(strops_suite());
}
