/* Pause and resume of a running VM's vCPUs (issue 8 item 2): every vCPU is kicked out of KVM_RUN
 * (signal + immediate_exit, the stop path's kick) and parks on the VM's condition variable until
 * resumed or stopped. On resume each vCPU tells the guest's kvm-clock it was stopped
 * (KVM_KVMCLOCK_CTRL) before it enters the guest again. Devices are not paused here: the board
 * pauses them after this returns (board_api.c: devreg_pause) and resumes them before vm_resume. */
#ifndef CKVM_VM_PAUSE_H
#define CKVM_VM_PAUSE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vm;
struct vcpu;

/* The pause state inside struct vm; all fields under vm->lock. */
struct vm_pause {
	bool requested;		/* vCPUs must park */
	unsigned parked;	/* vCPUs parked now */
	uint64_t pauses;	/* completed pauses */
	uint64_t last_ns;	/* latency of the latest pause: request to the last vCPU parked */
	uint64_t clock_ctrl_ok;	/* KVM_KVMCLOCK_CTRL calls that succeeded (the guest has kvm-clock) */
};

/* Park every started vCPU; returns once all are parked (0, latency in *latency_ns when not NULL),
 * or -ETIMEDOUT after timeout_ns (the request is withdrawn, the VM runs on), -ESHUTDOWN when the
 * VM is stopping, -EAGAIN when no vCPU runs yet. Pausing a paused VM is a no-op. Any thread but a
 * vCPU thread. */
int vm_pause(struct vm *vm, int64_t timeout_ns, uint64_t *latency_ns);
/* The absolute time ns from now for waits on vm->stopped (CLOCK_REALTIME, the default condattr). */
struct timespec vm_wait_deadline(int64_t ns);
/* Let the parked vCPUs run again; a no-op when not paused. */
int vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);
/* vCPU thread, before each KVM_RUN: parks while a pause is requested. true when it parked (or
 * cleared a kick left by a withdrawn pause): the caller re-checks the stop state first. */
bool vm_pause_point(struct vcpu *v);

#endif
