/* Pause/resume of the vCPUs (KVM API: "immediate_exit" in struct kvm_run, KVM_KVMCLOCK_CTRL).
 * vm_pause/vm_resume run on the API thread; vm_pause_point on each vCPU thread. One mutex and one
 * condition variable (the VM's own, which vm_stop broadcasts) serve the parked vCPUs, the pauser
 * and vm_wait_stop alike, so a stop always wakes a parked vCPU. */
#include "core/vm_pause.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <time.h>

#include "core/vcpu.h"
#include "core/vm.h"
#include "log.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct timespec vm_wait_deadline(int64_t ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000LL);
	ts.tv_nsec += (long)(ns % 1000000000LL);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static unsigned vcpus_started(const struct vm *vm)
{
	unsigned i, n = 0;

	for (i = 0; vm->vcpus && i < vm->ncpus; i++)
		n += vm->vcpus[i].started;
	return n;
}

int vm_pause(struct vm *vm, int64_t timeout_ns, uint64_t *latency_ns)
{
	int64_t t0 = now_ns(), waited;
	struct timespec until = vm_wait_deadline(timeout_ns);
	unsigned i, want;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	/* `started` only after the stop check: once stopping, main clears it without this lock. */
	want = vm->stop_reason == VM_STOP_NONE ? vcpus_started(vm) : 0;
	if (vm->stop_reason != VM_STOP_NONE)
		ret = -ESHUTDOWN;
	else if (!want)
		ret = -EAGAIN;
	else if (vm->pause.requested && vm->pause.parked == want)
		ret = 1;	/* already paused */
	if (ret) {
		pthread_mutex_unlock(&vm->lock);
		if (ret == 1 && latency_ns)
			*latency_ns = 0;
		return ret == 1 ? 0 : ret;
	}
	__atomic_store_n(&vm->pause.requested, true, __ATOMIC_RELEASE);
	/* After the request is visible: a vCPU either sees it before KVM_RUN, or is kicked out. Under
	 * the lock, so no stop (set under it) can have let main join a thread we signal. */
	for (i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
	while (vm->pause.parked < want && vm->stop_reason == VM_STOP_NONE && !ret)
		ret = -pthread_cond_timedwait(&vm->stopped, &vm->lock, &until);
	if (vm->pause.parked >= want) {
		ret = 0;
		waited = now_ns() - t0;
		vm->pause.pauses++;
		vm->pause.last_ns = (uint64_t)waited;
		if (latency_ns)
			*latency_ns = (uint64_t)waited;
	} else {
		/* Stopping, or a vCPU stuck in a device: withdraw, so that nobody waits for it. */
		ret = vm->stop_reason != VM_STOP_NONE ? -ESHUTDOWN : -ETIMEDOUT;
		__atomic_store_n(&vm->pause.requested, false, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->stopped);
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->pause.requested) {
		__atomic_store_n(&vm->pause.requested, false, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->stopped);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

bool vm_paused(struct vm *vm)
{
	bool p;

	pthread_mutex_lock(&vm->lock);
	p = vm->pause.requested;
	pthread_mutex_unlock(&vm->lock);
	return p;
}

/* The guest's kvm-clock gets PVCLOCK_GUEST_STOPPED on its next entry, which its soft-lockup and
 * RCU stall detectors check before complaining. EINVAL: the guest set up no kvm-clock here. */
static void clock_ctrl(struct vcpu *v)
{
	if (ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0) == 0) {
		pthread_mutex_lock(&v->vm->lock);
		v->vm->pause.clock_ctrl_ok++;
		pthread_mutex_unlock(&v->vm->lock);
	} else if (errno != EINVAL) {
		log_errno(LOG_DEBUG, NULL, -errno, "vCPU %u: KVM_KVMCLOCK_CTRL", v->id);
	}
}

/* The exit just handled may be an IN or an MMIO read whose value KVM writes into the guest's
 * register only on the next KVM_RUN: a state saved now would lose it. One KVM_RUN with
 * immediate_exit set completes it and returns EINTR without running guest code. A string I/O
 * crossing a page may exit again (return 0): handle that exit and repeat, a bounded number of times. */
static void complete_pending_io(struct vcpu *v)
{
	for (int i = 0; i < 16; i++) {
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		if (ioctl(v->fd, KVM_RUN, 0) < 0 || vcpu_handle_exit(v, v->run) != VCPU_CONTINUE)
			return;
	}
}

bool vm_pause_point(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool parked = false, stopping;

	if (!__atomic_load_n(&vm->pause.requested, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE))
		return false;
	if (__atomic_load_n(&vm->pause.requested, __ATOMIC_ACQUIRE))
		complete_pending_io(v);
	pthread_mutex_lock(&vm->lock);
	if (vm->pause.requested && vm->stop_reason == VM_STOP_NONE) {
		vm->pause.parked++;
		pthread_cond_broadcast(&vm->stopped);	/* the pauser counts parked vCPUs */
		while (vm->pause.requested && vm->stop_reason == VM_STOP_NONE)
			pthread_cond_wait(&vm->stopped, &vm->lock);
		vm->pause.parked--;
		parked = true;
	}
	stopping = vm->stop_reason != VM_STOP_NONE;
	/* A stop's kick must survive; a pause's kick (also one of a withdrawn pause) is used up. Under
	 * the lock: a new pause sets its request under it before it kicks. */
	if (!stopping && !vm->pause.requested)
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	if (parked && !stopping)
		clock_ctrl(v);
	return true;
}
