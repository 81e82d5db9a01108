/* The two roles of ferry-migrate; each returns the process's exit code (README.md). */
#ifndef LR_RUN_H
#define LR_RUN_H

#include <stdint.h>
#include "linerate/opts.h"

#define LR_EXIT_OK 0
#define LR_EXIT_FAILED 1   /* the migration failed, or its check did not match */
#define LR_EXIT_REFUSED 3  /* a --fault run: the destination refused, as it must */

int lr_send(const struct lr_opts *o);
int lr_recv(const struct lr_opts *o);

/* CPU seconds of the calling thread, or of the whole process. */
double lr_cpu_thread(void);
double lr_cpu_process(void);
uint64_t lr_now_us(void);
/* "ferry-migrate: ..." on stderr. */
void lr_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
