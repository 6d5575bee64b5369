/* vCPU threads and the exit table: each KVM_RUN exit is dispatched by reason to a small handler. */
#ifndef CKVM_VCPU_H
#define CKVM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"

struct vm;
struct kvm_run;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	unsigned long exits;
	unsigned long exits_by_reason[64];	/* statistics, printed by vcpus_log_stats */
	struct bus_cache pio_cache, mmio_cache;	/* this thread's last bus lookups (exit path) */
};

enum { VCPU_CONTINUE = 0, VCPU_STOP = 1 };

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
/* Dispatch one exit through the exit table: VCPU_CONTINUE or VCPU_STOP (the VM's stop state set). */
int vcpu_handle_exit(struct vcpu *v, struct kvm_run *run);
/* Start one thread per vCPU. */
int vcpus_start(struct vm *vm);
/* Kick every vCPU out of KVM_RUN (again and again) and join the threads until deadline_ns
 * (vm_clock_ns); returns how many are still running (stuck in a device, e.g. a disk reset waiting
 * for a hung back-end). Calling it again retries those. */
unsigned vcpus_stop(struct vm *vm, int64_t deadline_ns);
/* Make a started vCPU leave KVM_RUN (or not enter it) once: immediate_exit + signal. Any thread. */
void vcpu_kick(struct vcpu *v);
/* Debug log: exits per reason over all vCPUs and the busiest I/O ports (with vm->io_hist). */
void vcpus_log_stats(struct vm *vm);

#endif
