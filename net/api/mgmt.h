/* The management plane of the host: the API server on the management NIC, wired to the hypervisor. */
#ifndef HV_NET_MGMT_H
#define HV_NET_MGMT_H

#include "kernel/core/config.h"

struct vm;

/* Starts the management API for vm on net.mgmt's address and api.port, with api.token. */
int mgmt_start(const struct hv_config *cfg, struct vm *vm);

#endif
