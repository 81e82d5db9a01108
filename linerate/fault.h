/*
 * Test-only faults of the sender (--fault): a hostile source in one precise
 * way, so that a destination's refusals can be tested against a real
 * stream. The record faults go on data connection 1 as its first record
 * after CONN_BIND, before any page of the migration has been sent, and
 * are encoded under the session's own key and sequence (lr_fault_inject);
 * the sender is then held until the destination answers, so nothing else
 * reaches it first. no-secret replaces the whole sender with a handshake
 * by hand whose proof comes from a secret the destination does not hold.
 */
#ifndef LR_FAULT_H
#define LR_FAULT_H

#include <stddef.h>
#include <stdint.h>
#include "linerate/tcp.h"
#include "migration/sender.h"

/* The state machine is where the fault goes: precopy begun, no page out yet. */
int lr_fault_ready(const struct migr_sender *s);
/* Writes the faulty record on data connection 1; 0 or -1 (the connection failed). */
int lr_fault_inject(struct migr_sender *s, struct lr_tcp *t, uint32_t fault, uint64_t npages);
/* A handshake proven with the wrong secret; returns the ERROR code the destination answered, or 0. */
uint32_t lr_fault_no_secret(struct lr_tcp *t, uint32_t mac_alg, int timeout_ms);

#endif
