/*
 * How a migration ends on the sender short of success: failed (before
 * COMMIT the VM runs here again), cancelled by the operator, or resolved by
 * the operator after COMMIT went unconfirmed. See sender.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include "kernel/lib/err.h"
#include "migration/sender.h"
#include "migration/sender_priv.h"

int migr_sender_fail(struct migr_sender *s, uint32_t code, const char *fmt, ...)
{
	va_list ap;
	uint32_t c;

	if (s->status != MIGR_SEND_RUNNING)
		return HV_EINVAL;
	s->prog.error = code;
	va_start(ap, fmt);
	vsnprintf(s->prog.detail, sizeof(s->prog.detail), fmt, ap);
	va_end(ap);
	if (s->committed) {
		s->status = MIGR_SEND_COMMITTED_UNCONFIRMED;
		return HV_EINVAL;
	}
	s->p.throttle.ops->release(s->p.throttle.ctx);
	s->p.dirty.ops->stop(s->p.dirty.ctx);
	if (s->paused)
		s->p.vm->resume(s->p.vm_ctx);
	s->paused = 0;
	if (s->link[0].up && !s->link[0].failed) {
		migr_link_queue_error(&s->link[0], code, s->prog.detail);
		(void)migr_link_flush(&s->link[0], &s->p.transport);
	}
	for (c = 0; c <= s->granted; c++)
		s->p.transport.ops->close(s->p.transport.ctx, c);
	s->status = MIGR_SEND_FAILED;
	return HV_EINVAL;
}

void migr_sender_cancel(struct migr_sender *s)
{
	/* After COMMIT the VM is B's: a cancel changes nothing. */
	if (!s->committed)
		(void)migr_sender_fail(s, MIGR_ERR_CANCELLED, "cancelled by the operator");
}

int migr_sender_resolve(struct migr_sender *s, int resume)
{
	if (s->status != MIGR_SEND_COMMITTED_UNCONFIRMED)
		return HV_EINVAL;
	s->p.dirty.ops->stop(s->p.dirty.ctx);
	if (resume) {
		if (s->p.vm->resume(s->p.vm_ctx) < 0)
			return HV_EIO;
		s->paused = 0;
		s->status = MIGR_SEND_FAILED;
	} else {
		s->p.vm->release(s->p.vm_ctx);
		s->status = MIGR_SEND_DONE;
	}
	return HV_OK;
}
