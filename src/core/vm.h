/* One KVM virtual machine: the /dev/kvm and VM file descriptors, guest RAM slots, the in-kernel
 * interrupt controllers, GSI routing, the two buses, and the stop state every thread may set. */
#ifndef CKVM_VM_H
#define CKVM_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/guest_mem.h"
#include "core/vm_pause.h"
#include "core/vmm_ops.h"

struct vcpu;
struct vm_debug;
struct kvm_irq_routing;
struct kvm_run;

struct vm {
	int kvm_fd, vm_fd;
	int run_size;			/* mmap size of struct kvm_run */
	struct guest_mem gm;
	struct bus pio, mmio;
	struct vcpu *vcpus;
	unsigned ncpus;
	bool irqchip;			/* in-kernel PIC/IOAPIC/LAPIC + PIT */
	bool soft_kvm;			/* host KVM emulates ring 0 (no VT-x/SVM) */
	bool host_quirks;		/* work around the soft-KVM emulator's gaps */
	struct vmm_ops ops;		/* what devices see */
	/* Arch hook for KVM_EXIT_INTERNAL_ERROR/EMULATION: 0 = handled, resume; else stop. */
	int (*emul_failure)(struct vcpu *v, struct kvm_run *run);

	pthread_mutex_t lock;		/* stop state and GSI routing */
	pthread_cond_t stopped;
	enum vm_stop_reason stop_reason;	/* written under lock, atomically; vm_stop_reason() reads it */
	int stop_code;
	char stop_msg[256];
	struct vm_pause pause;		/* vm_pause.c; under lock, waits on stopped */

	struct vm_debug *dbg;		/* --gdb: core/vcpu_debug.c, else NULL */

	uint32_t *io_hist;		/* --verbose: exits per port (65536 entries), else NULL */

	struct kvm_irq_routing *routes;
	uint32_t next_gsi;
};

/* Open /dev/kvm and create the VM. 0 or -errno (with a logged reason). */
int vm_create(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Register every guest_mem region as a KVM memory slot. */
int vm_map_memory(struct vm *vm);
/* In-kernel IRQ chip (PIC + IOAPIC + LAPICs) and PIT, with TSS/identity-map pages. */
int vm_create_irqchip(struct vm *vm, uint64_t tss_gpa, uint64_t ident_gpa);
int vm_max_vcpus(const struct vm *vm);
/* Cap KVM's halt polling (ns); 0 turns it off, which suits more vCPUs than host CPUs. */
int vm_set_halt_poll(struct vm *vm, uint64_t max_ns);
/* First caller wins; later requests are ignored. Wakes vm_wait_stop(). msg may be NULL. */
void vm_stop(struct vm *vm, enum vm_stop_reason why, int code, const char *msg);
enum vm_stop_reason vm_stop_reason(struct vm *vm);
/* Block until some thread calls vm_stop(); returns the reason. */
enum vm_stop_reason vm_wait_stop(struct vm *vm);

/* The asynchronous signals that stop a VM cleanly (blocked in every thread, read from a signalfd):
 * SIGHUP, SIGINT, SIGTERM, and every other one whose default is to terminate: SIGUSR1/2, SIGALRM,
 * SIGVTALRM, SIGPROF, SIGXCPU, SIGIO, SIGPWR, SIGSTKFLT and the real-time signals. */
void vm_stop_signals(sigset_t *set);

/* A stop ends in bounded time: each step waits until a deadline on this clock (CLOCK_MONOTONIC, ns). */
int64_t vm_clock_ns(void);
/* pthread_join(t), giving up at deadline_ns: 0 joined, -ETIMEDOUT still running. */
int vm_join_until(pthread_t t, int64_t deadline_ns);

#endif
