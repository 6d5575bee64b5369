/* Debugger control of the vCPUs (KVM API: KVM_SET_GUEST_DEBUG, KVM_EXIT_DEBUG): halt every vCPU,
 * read and write a halted vCPU's registers, run them again (all, or one single-stepping), hardware
 * execution breakpoints in DR0-DR3, and the software breakpoints' addresses so a vCPU can tell a
 * planted int3 from the guest's own. The GDB stub (src/osdev/gdb_stub.c) is its only user; it sees
 * no KVM structure and makes no ioctl itself. The halt state lives under vm->lock and parks vCPUs on
 * vm->stopped, like vm_pause, so a VM stop always wakes a halted vCPU. */
#ifndef CKVM_VCPU_DEBUG_H
#define CKVM_VCPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_run;

#define VM_DEBUG_HW_BPS	4	/* DR0-DR3 */
#define VM_DEBUG_SW_BPS	64	/* planted int3s the stub keeps at once */

enum vm_debug_event {
	VM_DEBUG_EV_NONE,
	VM_DEBUG_EV_STEP,	/* a single step ended */
	VM_DEBUG_EV_HW_BP,	/* DR0-DR3 hit */
	VM_DEBUG_EV_SW_BP,	/* a planted int3 reached */
	VM_DEBUG_EV_OTHER,	/* a debug exit that is none of these (a guest int3 on VT-x/SVM) */
};

/* One vCPU's state as the debugger sees it: what the GDB x86-64 register set needs. */
struct vcpu_dbg_regs {
	uint64_t gpr[16];	/* GDB's order: rax rbx rcx rdx rsi rdi rbp rsp r8..r15 */
	uint64_t rip, rflags;
	uint16_t sel[6];	/* cs ss ds es fs gs */
	uint64_t seg_base[6];
	uint8_t cpl;		/* CS.DPL once protected: 3 = user mode */
	uint64_t cr0, cr2, cr3, cr4, efer;
	uint8_t st[8][10];	/* x87 registers, 80 bits each */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
};

struct vm_debug_vcpu {
	bool hold;		/* stay parked while the VM runs (another vCPU steps) */
	bool step;		/* single-step on the next entry */
	unsigned applied_gen;	/* the guest-debug settings this vCPU gave KVM */
};

struct vm_debug {
	bool halt;		/* every vCPU parks (vm->lock; read atomically by vCPUs) */
	unsigned parked;	/* vCPUs parked now (vm->lock) */
	unsigned gen;		/* bumped when the debug settings change: vCPUs re-apply them */
	int notify_fd;		/* eventfd: a vCPU reported an event (the stub polls it) */
	int ev_cpu;		/* the first vCPU with an event since the last resume, or -1 */
	enum vm_debug_event ev;
	unsigned hw_mask;	/* DR0-DR3 in use */
	uint64_t hw_addr[VM_DEBUG_HW_BPS];	/* linear addresses */
	unsigned n_sw;
	uint64_t sw_addr[VM_DEBUG_SW_BPS];	/* linear addresses with a planted int3 */
	unsigned ncpus;
	struct vm_debug_vcpu *cpu;
};

/* Set up vm->dbg before the vCPUs start; halt: they park before their first instruction.
 * 0 or -errno. */
int vm_debug_init(struct vm *vm, bool halt);
/* After the vCPU threads are gone. */
void vm_debug_destroy(struct vm *vm);

/* Stub thread. Park every vCPU: 0 when all are, -ESHUTDOWN when the VM stops, -ETIMEDOUT. */
int vm_debug_halt(struct vm *vm, int64_t timeout_ns);
/* Stub thread, all halted: run again. step_cpu >= 0: only that vCPU runs, one instruction; else
 * every vCPU whose bit is in run_mask runs (the others stay parked). Clears the last event. */
void vm_debug_resume(struct vm *vm, int step_cpu, uint64_t run_mask);
/* Stub thread: the event that halted the VM (ev_cpu -1 when none, e.g. after a Ctrl-C). */
enum vm_debug_event vm_debug_event(struct vm *vm, int *cpu);
/* Stub thread, all halted: the breakpoint tables; applied at the next resume. */
int vm_debug_set_hw(struct vm *vm, const uint64_t *addr, unsigned mask);
int vm_debug_set_sw(struct vm *vm, const uint64_t *addr, unsigned n);

/* Stub thread, the vCPU halted: its registers; set writes back what get read (changed). */
int vcpu_debug_get_regs(struct vcpu *v, struct vcpu_dbg_regs *r);
int vcpu_debug_set_regs(struct vcpu *v, const struct vcpu_dbg_regs *r);

/* vCPU thread, before KVM_RUN: parks while halted or held, applies changed debug settings. true
 * when it parked (the caller re-checks the stop state). */
bool vcpu_debug_point(struct vcpu *v);
/* vCPU thread: KVM_EXIT_DEBUG. Records the event and halts the VM; VCPU_CONTINUE. */
int vcpu_debug_exit(struct vcpu *v, struct kvm_run *run);
/* vCPU thread: an emulation failure at a planted int3 (a software KVM cannot run int3 at ring 0)
 * is the breakpoint: 0 when it was one (the VM halts), -ENOENT when it is not ours. */
int vcpu_debug_emul_failure(struct vcpu *v, struct kvm_run *run);

#endif
