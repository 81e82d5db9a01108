/* Mode strio: string port I/O, checked (strio.c). */
#ifndef GUEST_STRIO_H
#define GUEST_STRIO_H

/* Runs the checks on this vCPU and prints "guest: strio out ok" and "guest: strio in ok|BAD ...". */
void strio_run(void);

#endif
