/* The Internet checksum lwIP computes with (LWIP_CHKSUM in net/lwipopts.h). */
#ifndef HV_NET_CHKSUM_H
#define HV_NET_CHKSUM_H

#include <stdint.h>

/*
 * The 16-bit one's-complement sum of len bytes at data, not inverted, in
 * the byte order of the words as loaded (lwIP's "host order" sum): the
 * contract of lwIP's lwip_standard_chksum. data may have any alignment.
 */
uint16_t net_chksum(const void *data, int len);

#endif
