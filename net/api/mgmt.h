/* The management plane of the host: the API server on the management NIC, wired to the hypervisor. */
#ifndef HV_NET_API_MGMT_H
#define HV_NET_API_MGMT_H

#include <stdint.h>
#include "net/link_test.h"

struct vm;

struct mgmt_params {
	const char *token;   /* the bearer token clients must present; outlives the API */
	uint16_t port;       /* TCP port on the management NIC */
	const struct net_link_ops *link; /* the link test, or NULL (its endpoints answer 501) */
};

/* Starts the management API for vm (NULL: none yet) on the management NIC. */
int mgmt_start(const struct mgmt_params *p, struct vm *vm);
/* The VM the API shows from now on: one arrived by migration, or NULL when it left. */
void mgmt_set_vm(struct vm *vm);

#endif
