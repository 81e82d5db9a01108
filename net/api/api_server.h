/*
 * The management API on the network: an HTTP/1.1 server over lwIP's raw
 * TCP API, bound to the management NIC's address only, answering through
 * net/api/api.h. It survives garbage (400 and close), slow and half-open
 * connections (closed when a request takes longer than API_REQUEST_TIMEOUT_MS
 * or a connection idles that long) and floods (API_SERVER_CONNS at a time;
 * more are refused at once).
 */
#ifndef HV_NET_API_SERVER_H
#define HV_NET_API_SERVER_H

#include <stdint.h>
#include "net/api/api.h"

#define API_SERVER_CONNS 4
#define API_REQUEST_TIMEOUT_MS 10000
#define API_RESPONSE_MAX 8192

struct netif;

/* Listens on port on nif only (whatever address it has or gets). The api must outlive the server. */
int api_server_start(const struct api *api, struct netif *nif, uint16_t port);

#endif
