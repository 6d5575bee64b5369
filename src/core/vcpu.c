/* vCPU run loop and exit table (KVM API "kvm_run" exits). One thread per vCPU runs vcpu_thread();
 * the handlers are plain functions of (vcpu, kvm_run) so unit tests feed them fabricated exits. */
#include "core/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/vm.h"
#include "core/vm_pause.h"
#include "core/vcpu_debug.h"
#include "log.h"

/* Kicks a vCPU thread out of KVM_RUN. SIGURG because its default action is to ignore it: one sent
 * from outside is as harmless as a kick, and SIGUSR1/SIGUSR2 stay free to stop ckvm like other
 * terminating signals do. Only vCPU threads unblock it. */
#define SIG_KICK SIGURG
#define KICK_EVERY_NS	50000000LL	/* re-kick a vCPU that has not left yet (a kick can land early) */

typedef int (*exit_fn)(struct vcpu *v, struct kvm_run *run);

static int exit_io(struct vcpu *v, struct kvm_run *run)
{
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t size = run->io.size, i;

	if (size != 1 && size != 2 && size != 4)
		return VCPU_CONTINUE;
	if (v->vm->io_hist)	/* --verbose only */
		__atomic_add_fetch(&v->vm->io_hist[run->io.port], 1, __ATOMIC_RELAXED);
	for (i = 0; i < run->io.count; i++, data += size)
		bus_access(&v->vm->pio, &v->pio_cache, run->io.port, data, size,
			   run->io.direction == KVM_EXIT_IO_OUT);
	return VCPU_CONTINUE;
}

static int exit_mmio(struct vcpu *v, struct kvm_run *run)
{
	uint32_t len = run->mmio.len;

	if (len == 0 || len > sizeof(run->mmio.data))
		return VCPU_CONTINUE;
	bus_access(&v->vm->mmio, &v->mmio_cache, run->mmio.phys_addr, run->mmio.data, len,
		   run->mmio.is_write);
	return VCPU_CONTINUE;
}

/* Only without an in-kernel LAPIC does HLT reach us: a raw guest is done. */
static int exit_hlt(struct vcpu *v, struct kvm_run *run)
{
	(void)run;
	vm_stop(v->vm, VM_STOP_POWEROFF, 0, "guest halted");
	return VCPU_STOP;
}

static int exit_shutdown(struct vcpu *v, struct kvm_run *run)
{
	char msg[64];

	(void)run;
	snprintf(msg, sizeof(msg), "vCPU %u: triple fault (shutdown)", v->id);
	vm_stop(v->vm, VM_STOP_CRASH, 0, msg);
	return VCPU_STOP;
}

static int exit_system_event(struct vcpu *v, struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_stop(v->vm, VM_STOP_POWEROFF, 0, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_stop(v->vm, VM_STOP_REBOOT, 0, NULL);
		break;
	default:
		vm_stop(v->vm, VM_STOP_CRASH, 0, "guest crash system event");
		break;
	}
	return VCPU_STOP;
}

static int exit_internal_error(struct vcpu *v, struct kvm_run *run)
{
	char msg[128];

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && v->vm->dbg &&
	    vcpu_debug_emul_failure(v, run) == 0)
		return VCPU_CONTINUE;	/* a planted int3 (--gdb) */
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION && v->vm->emul_failure &&
	    v->vm->emul_failure(v, run) == 0)
		return VCPU_CONTINUE;
	if (vm_stop_reason(v->vm) != VM_STOP_NONE)
		return VCPU_STOP;
	snprintf(msg, sizeof(msg), "vCPU %u: KVM internal error, suberror %u", v->id,
		 run->internal.suberror);
	vm_stop(v->vm, VM_STOP_CRASH, 0, msg);
	return VCPU_STOP;
}

static int exit_fail_entry(struct vcpu *v, struct kvm_run *run)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "vCPU %u: VM entry failed, reason 0x%llx", v->id,
		 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	vm_stop(v->vm, VM_STOP_CRASH, 0, msg);
	return VCPU_STOP;
}

static int exit_ignore(struct vcpu *v, struct kvm_run *run)
{
	(void)v;
	(void)run;
	return VCPU_CONTINUE;
}

static const exit_fn exit_table[] = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_HLT] = exit_hlt,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = exit_system_event,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_INTR] = exit_ignore,
	[KVM_EXIT_DEBUG] = vcpu_debug_exit,	/* ignored unless --gdb */
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_ignore,
};

int vcpu_handle_exit(struct vcpu *v, struct kvm_run *run)
{
	char msg[64];

	v->exits++;
	v->exits_by_reason[run->exit_reason & 63]++;
	if (run->exit_reason < sizeof(exit_table) / sizeof(exit_table[0]) && exit_table[run->exit_reason])
		return exit_table[run->exit_reason](v, run);
	snprintf(msg, sizeof(msg), "vCPU %u: unhandled KVM exit reason %u", v->id, run->exit_reason);
	vm_stop(v->vm, VM_STOP_HOST_ERROR, 0, msg);
	return VCPU_STOP;
}

int vcpu_create(struct vm *vm, unsigned id, struct vcpu *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "KVM_CREATE_VCPU %u", id);
		return ret;
	}
	v->run = mmap(NULL, (size_t)vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		ret = -errno;
		v->run = NULL;
		close(v->fd);
		v->fd = -1;
		return ret;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, (size_t)v->vm->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	sigset_t set;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	sandbox_enter(SANDBOX_VCPU);
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	if (v->id == 0)
		log_timeline("first KVM_RUN (vCPU 0)");
	while (vm_stop_reason(vm) == VM_STOP_NONE) {
		if (vm_pause_point(v))
			continue;
		if (vm->dbg && vcpu_debug_point(v))
			continue;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_errno(LOG_ERR, NULL, -errno, "vCPU %u: KVM_RUN", v->id);
			vm_stop(vm, VM_STOP_HOST_ERROR, 0, "KVM_RUN failed");
			break;
		}
		if (vcpu_handle_exit(v, v->run) == VCPU_STOP)
			break;
	}
	return NULL;
}

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit covers a kick that lands before the thread enters KVM_RUN. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(v->thread, SIG_KICK);
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpus_start(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set;
	unsigned i;

	sigaction(SIG_KICK, &sa, NULL);
	/* Only vCPU threads take the kick signal; they unblock it themselves. */
	sigemptyset(&set);
	sigaddset(&set, SIG_KICK);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < vm->ncpus; i++) {
		int ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);

		if (ret) {
			vm_stop(vm, VM_STOP_HOST_ERROR, 0, "cannot start vCPU thread");
			return -ret;
		}
		vm->vcpus[i].started = true;
	}
	return 0;
}

static void vcpus_kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		if (vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
}

unsigned vcpus_stop(struct vm *vm, int64_t deadline_ns)
{
	unsigned i, left;

	vm_stop(vm, VM_STOP_USER, 0, NULL);	/* no-op if already stopping */
	for (;;) {
		int64_t slice = vm_clock_ns() + KICK_EVERY_NS;

		vcpus_kick(vm);
		left = 0;
		for (i = 0; i < vm->ncpus; i++) {
			struct vcpu *v = &vm->vcpus[i];

			if (v->started && vm_join_until(v->thread, slice < deadline_ns ? slice : deadline_ns))
				left++;
			else
				v->started = false;
		}
		if (!left || vm_clock_ns() >= deadline_ns)
			return left;
	}
}

void vcpus_log_stats(struct vm *vm)
{
	static const char *const names[] = {
		[KVM_EXIT_IO] = "io", [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_HLT] = "hlt",
		[KVM_EXIT_INTR] = "intr", [KVM_EXIT_INTERNAL_ERROR] = "internal-error",
		[KVM_EXIT_SHUTDOWN] = "shutdown", [KVM_EXIT_SYSTEM_EVENT] = "system-event",
	};
	unsigned long total[64] = { 0 };
	unsigned i, r;

	for (i = 0; i < vm->ncpus; i++)
		for (r = 0; r < 64; r++)
			total[r] += vm->vcpus[i].exits_by_reason[r];
	for (r = 0; r < 64; r++)
		if (total[r])
			log_debug(NULL, "exits: %-14s %lu", r < sizeof(names) / sizeof(names[0]) &&
				  names[r] ? names[r] : "other", total[r]);
	for (i = 0; vm->io_hist && i < 8; i++) {
		uint32_t best = 0, port = 0;

		for (r = 0; r < 65536; r++)
			if (vm->io_hist[r] > best) {
				best = vm->io_hist[r];
				port = r;
			}
		if (!best)
			break;
		log_debug(NULL, "exits: port 0x%04x     %u", port, best);
		vm->io_hist[port] = 0;
	}
}
