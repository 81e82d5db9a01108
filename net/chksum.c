/*
 * The Internet checksum with one ADC per eight bytes. lwIP's own loop adds
 * 32-bit words and tests each carry, about ten instructions per eight bytes;
 * every TCP segment is summed once on each side, and in an emulator that
 * counts instructions (Bochs) that loop cost more than the segment's copy.
 * A one's-complement sum does not depend on where the words start, only on
 * how the bytes pair up from the first: unaligned 8-byte loads pair them
 * as 16-bit loads from the start would, so no alignment step is needed.
 */
#include "net/chksum.h"

#include <stddef.h>
#include <string.h>

/* Adds blocks 64-byte blocks from p to acc with end-around carry. */
static uint64_t add_blocks(const uint8_t *p, size_t blocks, uint64_t acc)
{
	if (!blocks)
		return acc;
	/* LEA and DEC leave CF alone: one carry chain runs through the whole loop. */
	__asm__("clc\n"
		"1:\n\t"
		"adcq 0(%[p]), %[acc]\n\t"
		"adcq 8(%[p]), %[acc]\n\t"
		"adcq 16(%[p]), %[acc]\n\t"
		"adcq 24(%[p]), %[acc]\n\t"
		"adcq 32(%[p]), %[acc]\n\t"
		"adcq 40(%[p]), %[acc]\n\t"
		"adcq 48(%[p]), %[acc]\n\t"
		"adcq 56(%[p]), %[acc]\n\t"
		"leaq 64(%[p]), %[p]\n\t"
		"decq %[n]\n\t"
		"jnz 1b\n\t"
		"adcq $0, %[acc]"
		: [acc] "+r"(acc), [p] "+r"(p), [n] "+r"(blocks)
		:
		: "cc", "memory");
	return acc;
}

static uint64_t add_carry(uint64_t acc, uint64_t w)
{
	acc += w;
	return acc + (acc < w);
}

uint16_t net_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	size_t n = len > 0 ? (size_t)len : 0;
	uint64_t acc = add_blocks(p, n / 64, 0), w;

	p += n / 64 * 64;
	n %= 64;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc = add_carry(acc, w);
	}
	if (n) {
		w = 0;
		memcpy(&w, p, n); /* the tail's bytes in load order, zero-padded */
		acc = add_carry(acc, w);
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffu) + (acc >> 16);
	acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

/* Frame layout the offload reads: Ethernet II, then IPv4 (RFC 791), then TCP (RFC 793). */
#define ETH_TYPE_OFF 12
#define ETH_HDR 14
#define IP_VER_IHL_20 0x45 /* version 4, a header of 20 bytes: no options */
#define IP_TOTLEN_OFF 2
#define IP_FRAG_OFF 6
#define IP_FRAG_MASK 0x3fff /* more-fragments and the offset */
#define IP_PROTO_OFF 9
#define IP_ADDRS_OFF 12     /* source, then destination */
#define IP_PROTO_TCP 6
#define TCP_CSUM_OFF 16

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

int net_tcp_csum_prepare(uint8_t *frame, size_t len)
{
	uint8_t *ip = frame + ETH_HDR, *tcp, ph[12];
	size_t ihl, tot, tcp_len;
	uint32_t sum;
	uint16_t c;

	if (len < ETH_HDR + 20 || be16(frame + ETH_TYPE_OFF) != 0x0800 || (ip[0] >> 4) != 4 ||
	    ip[IP_PROTO_OFF] != IP_PROTO_TCP || (be16(ip + IP_FRAG_OFF) & IP_FRAG_MASK))
		return NET_CSUM_NONE; /* not a whole TCP segment over IPv4: nothing of ours to sum */
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = be16(ip + IP_TOTLEN_OFF);
	if (ihl < 20 || tot < ihl + 20 || ETH_HDR + tot > len)
		return NET_CSUM_NONE;
	tcp = ip + ihl;
	tcp_len = tot - ihl;
	memcpy(ph, ip + IP_ADDRS_OFF, 8);
	ph[8] = 0;
	ph[9] = IP_PROTO_TCP;
	ph[10] = (uint8_t)(tcp_len >> 8);
	ph[11] = (uint8_t)tcp_len;
	sum = net_chksum(ph, sizeof(ph));
	if (ip[0] == IP_VER_IHL_20 && ETH_HDR + tot == len) {
		c = fold(sum);
		memcpy(tcp + TCP_CSUM_OFF, &c, 2);
		return NET_CSUM_DEVICE;
	}
	memset(tcp + TCP_CSUM_OFF, 0, 2);
	c = (uint16_t)~fold(sum + net_chksum(tcp, (int)tcp_len));
	memcpy(tcp + TCP_CSUM_OFF, &c, 2);
	return NET_CSUM_DONE;
}
