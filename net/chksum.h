/* The Internet checksum lwIP computes with (LWIP_CHKSUM in net/lwipopts.h). */
#ifndef HV_NET_CHKSUM_H
#define HV_NET_CHKSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The 16-bit one's-complement sum of len bytes at data, not inverted, in
 * the byte order of the words as loaded (lwIP's "host order" sum): the
 * contract of lwIP's lwip_standard_chksum. data may have any alignment.
 */
uint16_t net_chksum(const void *data, int len);

/* Where a TCP segment's checksum is made when the NIC offers to finish it (net_tcp_csum_prepare). */
enum { NET_CSUM_NONE, NET_CSUM_DEVICE, NET_CSUM_DONE };

/* Offsets of a TCP segment in an Ethernet frame with a 20-byte IPv4 header: where the NIC sums, and stores. */
#define NET_CSUM_TCP_START 34
#define NET_CSUM_TCP_FIELD 50

/*
 * For a NIC that finishes TCP checksums (lwIP leaves them to it): if frame
 * (len bytes, from the Ethernet header) is a whole TCP segment over IPv4,
 * stores in its checksum field the sum of its pseudo-header (RFC 793),
 * folded and not inverted, and returns NET_CSUM_DEVICE: the NIC adds the
 * bytes from NET_CSUM_TCP_START to the end and stores the complement at
 * NET_CSUM_TCP_FIELD. A segment whose IPv4 header has options, or with
 * bytes after the datagram, gets its whole checksum here (NET_CSUM_DONE).
 * Anything else is left alone (NET_CSUM_NONE).
 */
int net_tcp_csum_prepare(uint8_t *frame, size_t len);

#endif
