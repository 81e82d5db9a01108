/* The API's backend: what each endpoint reads from and does to the hypervisor. */
#include "net/api/mgmt.h"

#include <stdio.h>
#include <string.h>
#include "kernel/arch/x86/frames.h"
#include "kernel/arch/x86/time.h"
#include "kernel/lib/err.h"
#include "kernel/vmm/arch.h"
#include "kernel/vmm/throttle.h"
#include "kernel/vmm/vm.h"
#include "migration/hold.h"
#include "migration/hv_migr.h"
#include "net/api/api.h"
#include "net/api/api_server.h"
#include "net/net.h"

static struct vm *mgmt_vm;
static uint64_t mgmt_vm_created;
static struct api_backend mgmt_backend;
static struct api mgmt_api;
static const struct net_link_ops *mgmt_link;

static int mgmt_host_info(void *ctx, struct api_host_info *out)
{
	(void)ctx;
	memset(out, 0, sizeof(*out));
	out->uptime_ms = time_uptime_us() / 1000;
	out->mem_free_bytes = frames_free_bytes();
	out->mem_total_bytes = out->mem_free_bytes + (mgmt_vm ? mgmt_vm->ram_size : 0);
	out->cpus = 1;
	out->tsc_hz = time_tsc_hz();
	out->feature_count = vm_arch_features(out->features, API_FEATURES_MAX);
	out->nic_count = net_nic_info(out->nics, API_NICS_MAX);
	return HV_OK;
}

static enum api_vm_state mgmt_state(const struct vm *vm)
{
	if (vm->state == VM_STOPPED)
		return API_VM_STOPPED;
	if (vm->state == VM_FINISHED)
		return API_VM_FINISHED;
	return vm->paused ? API_VM_PAUSED : API_VM_RUNNING;
}

static int mgmt_vm_info(void *ctx, struct api_vm_info *out)
{
	struct vm *vm = mgmt_vm;
	unsigned i;

	(void)ctx;
	if (!vm)
		return HV_ENOENT;
	memset(out, 0, sizeof(*out));
	memcpy(out->uuid, vm->uuid, sizeof(out->uuid));
	out->state = mgmt_state(vm);
	snprintf(out->stop_reason, sizeof(out->stop_reason), "%s", vm->stop_reason);
	out->memory_bytes = vm->ram_size;
	out->runtime_ms = time_ticks_to_us(time_now() - mgmt_vm_created) / 1000;
	out->tsc_hz = time_tsc_hz();
	out->throttle_max = vm->throttle.max_pct;
	out->dirty_limit = vm->throttle.dirty_limit;
	out->dirty_rate = vm->dirty.logging ? dirty_rate_vm(vm) : 0;
	out->vcpu_count = vm->vcpu_count;
	for (i = 0; i < vm->vcpu_count; i++) {
		struct throttle_times t;

		throttle_get_times(&vm->vcpus[i], &t);
		out->vcpus[i] = (struct api_vcpu_info){
			.exits = vcpu_arch_exits(&vm->vcpus[i]),
			.throttle_pct = throttle_get_vcpu(&vm->vcpus[i]),
			.granted_ticks = t.granted,
			.throttled_ticks = t.throttled,
		};
		/* The VM-wide figure: the throttle every vCPU shares, or the largest when they differ. */
		if (out->vcpus[i].throttle_pct > out->throttle_pct)
			out->throttle_pct = out->vcpus[i].throttle_pct;
	}
	return HV_OK;
}

static int mgmt_set_throttle(void *ctx, int vcpu, unsigned pct)
{
	(void)ctx;
	if (!mgmt_vm || mgmt_vm->state != VM_RUNNING)
		return HV_EBUSY;
	if (vcpu < 0)
		return throttle_set_vm(mgmt_vm, pct);
	if ((unsigned)vcpu >= mgmt_vm->vcpu_count)
		return HV_EINVAL;
	return throttle_set_vcpu(&mgmt_vm->vcpus[vcpu], pct);
}

static int mgmt_set_dirty_limit(void *ctx, uint64_t pages_per_s)
{
	(void)ctx;
	if (!mgmt_vm || mgmt_vm->state != VM_RUNNING)
		return HV_EBUSY;
	if (pages_per_s == 0) {
		throttle_dirty_limit_stop(mgmt_vm);
		return HV_OK;
	}
	/* The limit acts on measured dirty rates: log-dirty mode must be on (a migration turns it on). */
	return mgmt_vm->dirty.logging ? throttle_dirty_limit_start(mgmt_vm, pages_per_s) : HV_EBUSY;
}

/* The API's names of the debug hold's phases, as the migration knows them. */
static const uint32_t mgmt_holds[] = {
	[API_HOLD_NONE] = MIGR_HOLD_NONE, [API_HOLD_SWITCHOVER] = MIGR_HOLD_SWITCHOVER,
	[API_HOLD_COMMIT] = MIGR_HOLD_COMMIT, [API_HOLD_READY] = MIGR_HOLD_READY, [API_HOLD_START] = MIGR_HOLD_START,
};

static int mgmt_send_migration(void *ctx, const struct api_send_migration *m)
{
	const struct migr_hv_send_req r = {
		.ip = m->destination.ip,
		.port = m->destination.port,
		.connections = m->connections,
		.downtime_ms = (uint32_t)m->downtime_ms,
		.bandwidth = m->bandwidth,
		.max_throttle = m->max_throttle,
		.timeout_ms = m->timeout_ms,
		.abort_on_timeout = m->on_timeout == API_ON_TIMEOUT_ABORT,
		.confirm_timeout_ms = m->confirm_timeout_ms,
		.reply_timeout_ms = m->reply_timeout_ms,
		.pause_retries = m->pause_retries,
		.hold_phase = mgmt_holds[m->hold.phase],
		.hold_ms = m->hold.ms,
	};

	(void)ctx;
	return migr_hv_send(&r);
}

/* The listen address names the migration NIC: only its port is ours to choose. */
static int mgmt_receive_migration(void *ctx, const struct api_receive_migration *m)
{
	const struct migr_hv_recv_req r = {
		.port = m->listen.port,
		.connections = m->connections,
		.commit_timeout_ms = m->commit_timeout_ms,
		.idle_timeout_ms = m->idle_timeout_ms,
		.hold_phase = mgmt_holds[m->hold.phase],
		.hold_ms = m->hold.ms,
	};

	(void)ctx;
	return migr_hv_receive(&r);
}

static int mgmt_migration_cancel(void *ctx)
{
	(void)ctx;
	return migr_hv_cancel();
}

static int mgmt_migration_status(void *ctx, struct api_migration_status *out)
{
	struct migr_hv_status s;

	(void)ctx;
	migr_hv_status(&s);
	*out = (struct api_migration_status){
		.role = migr_hv_role_str(s.role),
		.state = migr_hv_state_str(s.state),
		.phase = s.phase,
		.policy = s.policy,
		.failure = s.failure,
		.peer_failure = s.peer_failure,
		.pass = s.pass,
		.connections = s.connections,
		.throttle_pct = s.throttle_pct,
		.peak_throttle_pct = s.peak_throttle_pct,
		.bytes_sent = s.bytes_sent,
		.pages_sent = s.pages_sent,
		.zero_pages = s.zero_pages,
		.remaining_bytes = s.remaining_bytes,
		.in_flight_bytes = s.in_flight_bytes,
		.dirty_rate = s.dirty_rate,
		.bandwidth = s.bandwidth,
		.dirty_limit = s.dirty_limit,
		.expected_downtime_ms = s.expected_downtime_ms,
		.downtime_ms = s.downtime_ms,
		.elapsed_ms = s.elapsed_ms,
		.pages_written = s.pages_written,
		.bytes_in = s.bytes_in,
		.attempts = s.attempts,
		.pauses_called_off = s.pauses_called_off,
		.called_off_ms = s.called_off_ms,
		.page_bytes_sent = s.page_bytes_sent,
		.memory_first_ms = s.memory_first_ms,
		.memory_last_ms = s.memory_last_ms,
		.goodput = s.goodput,
	};
	return HV_OK;
}

static int mgmt_migration_resolve(void *ctx, enum api_resolve action)
{
	(void)ctx;
	return migr_hv_resolve(action == API_RESOLVE_RESUME);
}

static int mgmt_link_listen(void *ctx, uint16_t port)
{
	(void)ctx;
	return mgmt_link->listen(port);
}

static int mgmt_link_test(void *ctx, const struct api_link_test *t)
{
	(void)ctx;
	return mgmt_link->start(t->peer.ip, t->peer.port, t->connections);
}

static int mgmt_link_status(void *ctx, struct net_link_status *out)
{
	(void)ctx;
	mgmt_link->status(out);
	return HV_OK;
}

void mgmt_set_vm(struct vm *vm)
{
	mgmt_vm = vm;
	mgmt_vm_created = time_now();
}

int mgmt_start(const struct mgmt_params *p, struct vm *vm)
{
	mgmt_vm = vm;
	mgmt_vm_created = time_now();
	mgmt_backend = (struct api_backend){
		.host_info = mgmt_host_info,
		.vm_info = mgmt_vm_info,
		.set_throttle = mgmt_set_throttle,
		.set_dirty_limit = mgmt_set_dirty_limit,
		.send_migration = mgmt_send_migration,
		.receive_migration = mgmt_receive_migration,
		.migration_cancel = mgmt_migration_cancel,
		.migration_status = mgmt_migration_status,
		.migration_resolve = mgmt_migration_resolve,
		.link_listen = p->link ? mgmt_link_listen : NULL,
		.link_test = p->link ? mgmt_link_test : NULL,
		.link_status = p->link ? mgmt_link_status : NULL,
	};
	mgmt_link = p->link;
	mgmt_api = (struct api){
		.token = p->token,
		.token_len = strlen(p->token),
		.version = API_VERSION,
		.be = &mgmt_backend,
	};
	return api_server_start(&mgmt_api, net_mgmt_netif(), p->port);
}
