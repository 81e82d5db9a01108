/* The record MAC's wide GHASH path for the Linux program (migration/mac_gmac.h), from Intel's ipsec-mb. */
#ifndef LINERATE_GHASH_IPSECMB_H
#define LINERATE_GHASH_IPSECMB_H

#include "migration/mac_gmac.h"

/*
 * ipsec-mb's GHASH if the library finds VPCLMULQDQ on 512-bit registers on this CPU (its AVX-512 path
 * with them), else NULL: on older CPUs its GHASH is no wider than OpenSSL's, which stays.
 */
const struct migr_ghash_wide *lr_ghash_ipsecmb(void);

#endif
