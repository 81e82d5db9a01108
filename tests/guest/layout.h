/*
 * Memory layout constants of the test guest, shared by entry.S and C.
 * Safe to include from assembly.
 */
#ifndef GUEST_LAYOUT_H
#define GUEST_LAYOUT_H

#define GUEST_MAX_VCPUS 4          /* stacks reserved; == HV_MAX_VCPUS (checked in main.c) */
#define GUEST_STACK_SIZE 16384     /* bytes of stack per vCPU */

#endif
