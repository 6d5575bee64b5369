/* Debugger control of the vCPUs (KVM API 4.58 KVM_SET_GUEST_DEBUG, 5 KVM_EXIT_DEBUG; Intel SDM vol. 3
 * 18.2 DR7). vm_debug_* run on the GDB stub's thread while the vCPUs are parked; vcpu_debug_point,
 * vcpu_debug_exit and vcpu_debug_emul_failure on each vCPU thread. */
#include "core/vcpu_debug.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/vcpu.h"
#include "core/vm_pause.h"
#include "core/vm.h"
#include "log.h"

#define CR0_PE		0x1ull
#define RFLAGS_VM	(1ull << 17)
#define DB_VECTOR	1
#define BP_VECTOR	3

int vm_debug_init(struct vm *vm, bool halt)
{
	struct vm_debug *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->cpu = calloc(vm->ncpus ? vm->ncpus : 1, sizeof(*d->cpu));
	d->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d->cpu || d->notify_fd < 0) {
		int ret = d->cpu ? -errno : -ENOMEM;

		if (d->notify_fd >= 0)
			close(d->notify_fd);
		free(d->cpu);
		free(d);
		return ret;
	}
	d->ncpus = vm->ncpus;
	d->halt = halt;
	d->ev_cpu = -1;
	vm->dbg = d;
	return 0;
}

void vm_debug_destroy(struct vm *vm)
{
	struct vm_debug *d = vm->dbg;

	if (!d)
		return;
	vm->dbg = NULL;
	close(d->notify_fd);
	free(d->cpu);
	free(d);
}

/* vm->lock held: ask every vCPU to park; a vCPU in KVM_RUN is kicked out. */
static void halt_locked(struct vm *vm, int except)
{
	__atomic_store_n(&vm->dbg->halt, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->ncpus; i++)
		if ((int)i != except && vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
}

int vm_debug_halt(struct vm *vm, int64_t timeout_ns)
{
	struct vm_debug *d = vm->dbg;
	struct timespec until = vm_wait_deadline(timeout_ns);
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	halt_locked(vm, -1);
	/* Every vCPU, started or not: one not started yet parks as it starts (halt is set). */
	while (d->parked < vm->ncpus && vm->stop_reason == VM_STOP_NONE && !ret)
		ret = -pthread_cond_timedwait(&vm->stopped, &vm->lock, &until);
	if (vm->stop_reason != VM_STOP_NONE)
		ret = -ESHUTDOWN;
	else if (d->parked >= vm->ncpus)
		ret = 0;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

void vm_debug_resume(struct vm *vm, int step_cpu, uint64_t run_mask)
{
	struct vm_debug *d = vm->dbg;
	uint64_t drain;

	/* Events reported before this resume are stale now. */
	(void)!read(d->notify_fd, &drain, sizeof(drain));
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < d->ncpus; i++) {
		d->cpu[i].step = (int)i == step_cpu;
		__atomic_store_n(&d->cpu[i].hold, step_cpu >= 0 ? (int)i != step_cpu :
				 !(i < 64 && (run_mask >> i) & 1), __ATOMIC_RELEASE);
	}
	d->ev_cpu = -1;
	d->ev = VM_DEBUG_EV_NONE;
	__atomic_add_fetch(&d->gen, 1, __ATOMIC_RELEASE);	/* vCPUs peek at it without the lock */
	__atomic_store_n(&d->halt, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vm->stopped);
	pthread_mutex_unlock(&vm->lock);
}

enum vm_debug_event vm_debug_event(struct vm *vm, int *cpu)
{
	enum vm_debug_event ev;

	pthread_mutex_lock(&vm->lock);
	*cpu = vm->dbg->ev_cpu;
	ev = vm->dbg->ev;
	pthread_mutex_unlock(&vm->lock);
	return ev;
}

int vm_debug_set_hw(struct vm *vm, const uint64_t *addr, unsigned mask)
{
	if (mask >> VM_DEBUG_HW_BPS)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	memcpy(vm->dbg->hw_addr, addr, sizeof(vm->dbg->hw_addr));
	vm->dbg->hw_mask = mask;
	__atomic_add_fetch(&vm->dbg->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vm_debug_set_sw(struct vm *vm, const uint64_t *addr, unsigned n)
{
	if (n > VM_DEBUG_SW_BPS)
		return -EINVAL;
	pthread_mutex_lock(&vm->lock);
	memcpy(vm->dbg->sw_addr, addr, n * sizeof(*addr));
	__atomic_store_n(&vm->dbg->n_sw, n, __ATOMIC_RELEASE);
	__atomic_add_fetch(&vm->dbg->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

/* ---- registers (stub thread, the vCPU parked: KVM serialises vCPU ioctls anyway) ---- */

int vcpu_debug_get_regs(struct vcpu *v, struct vcpu_dbg_regs *r)
{
	struct kvm_regs kr;
	struct kvm_sregs ks;
	struct kvm_fpu kf;
	const struct kvm_segment *seg[6];

	if (ioctl(v->fd, KVM_GET_REGS, &kr) < 0 || ioctl(v->fd, KVM_GET_SREGS, &ks) < 0 ||
	    ioctl(v->fd, KVM_GET_FPU, &kf) < 0)
		return -errno;
	memset(r, 0, sizeof(*r));
	r->gpr[0] = kr.rax; r->gpr[1] = kr.rbx; r->gpr[2] = kr.rcx; r->gpr[3] = kr.rdx;
	r->gpr[4] = kr.rsi; r->gpr[5] = kr.rdi; r->gpr[6] = kr.rbp; r->gpr[7] = kr.rsp;
	r->gpr[8] = kr.r8; r->gpr[9] = kr.r9; r->gpr[10] = kr.r10; r->gpr[11] = kr.r11;
	r->gpr[12] = kr.r12; r->gpr[13] = kr.r13; r->gpr[14] = kr.r14; r->gpr[15] = kr.r15;
	r->rip = kr.rip;
	r->rflags = kr.rflags;
	seg[0] = &ks.cs; seg[1] = &ks.ss; seg[2] = &ks.ds; seg[3] = &ks.es; seg[4] = &ks.fs;
	seg[5] = &ks.gs;
	for (int i = 0; i < 6; i++) {
		r->sel[i] = seg[i]->selector;
		r->seg_base[i] = seg[i]->base;
	}
	/* The privilege level as KVM computes it (SS.DPL); real mode is 0, virtual-8086 mode 3. */
	r->cpl = !(ks.cr0 & CR0_PE) ? 0 : (kr.rflags & RFLAGS_VM) ? 3 : ks.ss.dpl;
	r->cr0 = ks.cr0; r->cr2 = ks.cr2; r->cr3 = ks.cr3; r->cr4 = ks.cr4; r->efer = ks.efer;
	for (int i = 0; i < 8; i++) {
		memcpy(r->st[i], kf.fpr[i], 10);
		/* KVM keeps the FXSAVE abridged tag (1 = valid); GDB shows the full word (3 = empty). */
		r->ftag |= (kf.ftwx >> i & 1 ? 0u : 3u) << (2 * i);
	}
	r->fctrl = kf.fcw;
	r->fstat = kf.fsw;
	r->fioff = (uint32_t)kf.last_ip;
	r->fiseg = (uint32_t)(kf.last_ip >> 32) & 0xffff;
	r->fooff = (uint32_t)kf.last_dp;
	r->foseg = (uint32_t)(kf.last_dp >> 32) & 0xffff;
	r->fop = kf.last_opcode;
	memcpy(r->xmm, kf.xmm, sizeof(r->xmm));
	r->mxcsr = kf.mxcsr;
	return 0;
}

int vcpu_debug_set_regs(struct vcpu *v, const struct vcpu_dbg_regs *r)
{
	struct kvm_regs kr;
	struct kvm_fpu kf;

	if (ioctl(v->fd, KVM_GET_FPU, &kf) < 0)
		return -errno;
	memset(&kr, 0, sizeof(kr));
	kr.rax = r->gpr[0]; kr.rbx = r->gpr[1]; kr.rcx = r->gpr[2]; kr.rdx = r->gpr[3];
	kr.rsi = r->gpr[4]; kr.rdi = r->gpr[5]; kr.rbp = r->gpr[6]; kr.rsp = r->gpr[7];
	kr.r8 = r->gpr[8]; kr.r9 = r->gpr[9]; kr.r10 = r->gpr[10]; kr.r11 = r->gpr[11];
	kr.r12 = r->gpr[12]; kr.r13 = r->gpr[13]; kr.r14 = r->gpr[14]; kr.r15 = r->gpr[15];
	kr.rip = r->rip;
	/* Bit 1 always reads 1; the trap flag is the stub's to set (KVM_GUESTDBG_SINGLESTEP). */
	kr.rflags = (r->rflags | 0x2) & ~0x100ull;
	for (int i = 0; i < 8; i++)
		memcpy(kf.fpr[i], r->st[i], 10);
	kf.fcw = (uint16_t)r->fctrl;
	kf.fsw = (uint16_t)r->fstat;
	kf.ftwx = 0;
	for (int i = 0; i < 8; i++)
		if ((r->ftag >> (2 * i) & 3) != 3)
			kf.ftwx |= (uint8_t)(1u << i);
	kf.last_opcode = (uint16_t)r->fop;
	memcpy(kf.xmm, r->xmm, sizeof(kf.xmm));
	kf.mxcsr = r->mxcsr;
	/* Segments and control registers are not written: a selector alone does not make a
	 * descriptor, and the stub refuses those writes. */
	if (ioctl(v->fd, KVM_SET_REGS, &kr) < 0 || ioctl(v->fd, KVM_SET_FPU, &kf) < 0)
		return -errno;
	return 0;
}

/* ---- vCPU thread ---- */

/* The settings of this vCPU as KVM wants them; called with vm->lock held. */
static void guest_debug_of(const struct vm *vm, const struct vm_debug_vcpu *c,
			   struct kvm_guest_debug *g)
{
	const struct vm_debug *d = vm->dbg;

	memset(g, 0, sizeof(*g));
	if (c->step)
		g->control |= KVM_GUESTDBG_SINGLESTEP;
	if (d->hw_mask) {
		g->control |= KVM_GUESTDBG_USE_HW_BP;
		for (int i = 0; i < VM_DEBUG_HW_BPS; i++) {
			if (!(d->hw_mask >> i & 1))
				continue;
			g->arch.debugreg[i] = d->hw_addr[i];
			/* Gn enable; R/W 00 (execute) and LEN 00, as execution breakpoints need. */
			g->arch.debugreg[7] |= 2ull << (2 * i);
		}
	}
	/* A software KVM never exits on int3 (it fails to emulate it: vcpu_debug_emul_failure);
	 * with VT-x/SVM KVM intercepts #BP for us. */
	if (d->n_sw && !vm->soft_kvm)
		g->control |= KVM_GUESTDBG_USE_SW_BP;
	if (g->control)
		g->control |= KVM_GUESTDBG_ENABLE;
}

bool vcpu_debug_point(struct vcpu *v)
{
	struct vm *vm = v->vm;
	struct vm_debug *d = vm->dbg;
	struct vm_debug_vcpu *c = &d->cpu[v->id];
	struct kvm_guest_debug g;
	bool parked = false, apply;
	unsigned gen;

	if (!__atomic_load_n(&d->halt, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&c->hold, __ATOMIC_ACQUIRE) == false &&
	    c->applied_gen == __atomic_load_n(&d->gen, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&vm->lock);
	while ((d->halt || c->hold) && vm->stop_reason == VM_STOP_NONE) {
		if (!parked) {
			parked = true;
			d->parked++;
			pthread_cond_broadcast(&vm->stopped);	/* vm_debug_halt counts */
		}
		pthread_cond_wait(&vm->stopped, &vm->lock);
	}
	if (parked)
		d->parked--;
	gen = d->gen;
	apply = c->applied_gen != gen;
	if (apply)
		guest_debug_of(vm, c, &g);
	/* A kick meant for the halt is used up; a stop's must survive (vm_pause_point does the same). */
	if (parked && vm->stop_reason == VM_STOP_NONE && !vm->pause.requested)
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->lock);
	if (apply) {
		if (ioctl(v->fd, KVM_SET_GUEST_DEBUG, &g) < 0)
			log_errno(LOG_WARN, "gdb", -errno, "vCPU %u: KVM_SET_GUEST_DEBUG", v->id);
		c->applied_gen = gen;
	}
	return parked;
}

/* vCPU thread: record ev (the first one since the resume wins) and halt every vCPU. */
static void report(struct vcpu *v, enum vm_debug_event ev)
{
	struct vm *vm = v->vm;
	struct vm_debug *d = vm->dbg;
	uint64_t one = 1;

	pthread_mutex_lock(&vm->lock);
	if (d->ev_cpu < 0) {
		d->ev_cpu = (int)v->id;
		d->ev = ev;
	}
	halt_locked(vm, (int)v->id);
	pthread_mutex_unlock(&vm->lock);
	(void)!write(d->notify_fd, &one, sizeof(one));
}

static bool is_planted(struct vm *vm, uint64_t lin)
{
	bool ours = false;

	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->dbg->n_sw && !ours; i++)
		ours = vm->dbg->sw_addr[i] == lin;
	pthread_mutex_unlock(&vm->lock);
	return ours;
}

/* VT-x/SVM with KVM_GUESTDBG_USE_SW_BP: an int3 of the guest's own (Linux patches text with them)
 * goes back to the guest as the #BP it would have been; KVM re-injects it as a software exception
 * from the int3 at RIP. */
static int reinject_bp(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return VCPU_CONTINUE;
	ev.exception.injected = 1;
	ev.exception.nr = BP_VECTOR;
	ev.exception.has_error_code = 0;
	ev.flags = 0;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		log_errno(LOG_WARN, "gdb", -errno, "vCPU %u: re-injecting the guest's #BP", v->id);
	return VCPU_CONTINUE;
}

int vcpu_debug_exit(struct vcpu *v, struct kvm_run *run)
{
	struct vm_debug *d = v->vm->dbg;
	enum vm_debug_event ev = VM_DEBUG_EV_OTHER;

	if (!d)
		return VCPU_CONTINUE;	/* nobody asked for debug exits */
	if (run->debug.arch.exception == DB_VECTOR)
		/* DR6.BS is not reliable on every KVM: what this vCPU was asked to do tells. */
		ev = d->cpu[v->id].step ? VM_DEBUG_EV_STEP : VM_DEBUG_EV_HW_BP;
	else if (run->debug.arch.exception == BP_VECTOR && !is_planted(v->vm, run->debug.arch.pc))
		return reinject_bp(v);
	else if (run->debug.arch.exception == BP_VECTOR)
		ev = VM_DEBUG_EV_SW_BP;
	report(v, ev);
	return VCPU_CONTINUE;
}

int vcpu_debug_emul_failure(struct vcpu *v, struct kvm_run *run)
{
	struct vm_debug *d = v->vm->dbg;
	struct kvm_regs kr;
	struct kvm_sregs ks;
	uint64_t lin;

	(void)run;
	if (!d || !__atomic_load_n(&d->n_sw, __ATOMIC_ACQUIRE))
		return -ENOENT;
	if (ioctl(v->fd, KVM_GET_REGS, &kr) < 0 || ioctl(v->fd, KVM_GET_SREGS, &ks) < 0)
		return -ENOENT;
	lin = ks.cs.base + kr.rip;
	if (!(ks.efer & (1u << 10)) || !ks.cs.l)	/* outside 64-bit code linear addresses are 32 bits */
		lin &= 0xffffffffull;
	if (!is_planted(v->vm, lin))
		return -ENOENT;
	report(v, VM_DEBUG_EV_SW_BP);
	return 0;
}
