/* Work-arounds for software KVM (kvm_pvm): its instruction emulator stops the VM on int3, fwait,
 * clac/stac and a few others; we finish those instructions here. Runs on the faulting vCPU thread. */
#include "arch/x86/quirks.h"

#include <cpuid.h>
#include <errno.h>
#include <asm/kvm_para.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/vcpu.h"
#include "core/vm.h"
#include "log.h"

#define RFLAGS_AC (1ULL << 18)
#define BP_VECTOR 3

/* nofsgsbase: an NMI (an RCU stall's backtrace when a vCPU starves) enters paranoid_entry, which
 * with FSGSBASE reads the per-CPU base with LSL, an instruction the emulator cannot run. */
const char quirks_linux_cmdline[] =
	"noxsave noreplace-smp rodata=off nofsgsbase clearcpuid=smap,popcnt,ssse3,erms,fsrm,rep_good";

const uint32_t quirks_kvm_features_off =
	1u << KVM_FEATURE_PV_SEND_IPI | 1u << KVM_FEATURE_PV_SCHED_YIELD | 1u << KVM_FEATURE_PV_UNHALT;

bool quirks_host_is_soft_kvm(void)
{
	unsigned a, b, c, d;

	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return true;
	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	if (c & (1u << 5))			/* VMX */
		return false;
	if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2)))	/* SVM */
		return false;
	return true;
}

static bool is_prefix(uint8_t b)
{
	switch (b) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return (b & 0xf0) == 0x40;	/* REX */
	}
}

enum quirk_action quirks_decode(const uint8_t *insn, size_t n, size_t *len)
{
	size_t i = 0;

	while (i < n && i < 14 && is_prefix(insn[i]))
		i++;
	if (i >= n)
		return QUIRK_NONE;
	if (insn[i] == 0xcc) {
		*len = i + 1;
		return QUIRK_INT3;
	}
	if (insn[i] == 0x9b) {
		*len = i + 1;
		return QUIRK_SKIP;
	}
	if (i + 2 < n && insn[i] == 0x0f && insn[i + 1] == 0x01 &&
	    (insn[i + 2] == 0xca || insn[i + 2] == 0xcb)) {
		*len = i + 3;
		return insn[i + 2] == 0xca ? QUIRK_CLAC : QUIRK_STAC;
	}
	return QUIRK_NONE;
}

/* Instruction bytes: from the exit when KVM provides them, else read at RIP through the guest's
 * page tables (KVM_TRANSLATE) and the checked guest-memory accessor. */
static size_t fetch_insn(struct vcpu *v, struct kvm_run *run, uint64_t rip, uint8_t *buf, size_t max)
{
	struct kvm_translation tr = { .linear_address = rip };
	size_t n;

	if (run->emulation_failure.ndata >= 2 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) &&
	    run->emulation_failure.insn_size) {
		n = run->emulation_failure.insn_size;
		if (n > max)
			n = max;
		memcpy(buf, run->emulation_failure.insn_bytes, n);
		return n;
	}
	if (ioctl(v->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return 0;
	for (n = max; n > 0; n--)
		if (gm_read(&v->vm->gm, buf, tr.physical_address, n) == 0)
			return n;
	return 0;
}

int quirks_emulation_failure(struct vcpu *v, struct kvm_run *run)
{
	struct kvm_regs regs;
	struct kvm_vcpu_events ev;
	uint8_t insn[16];
	char msg[160];
	size_t n, len = 0, i;
	int off;
	enum quirk_action act = QUIRK_NONE;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return -errno;
	n = fetch_insn(v, run, regs.rip, insn, sizeof(insn) - 1);
	if (v->vm->host_quirks)
		act = quirks_decode(insn, n, &len);
	switch (act) {
	case QUIRK_INT3:
		regs.rip += len;
		if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
			return -errno;
		ev.exception.injected = 1;
		ev.exception.nr = BP_VECTOR;
		ev.exception.has_error_code = 0;
		ev.flags = 0;
		return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
	case QUIRK_CLAC:
	case QUIRK_STAC:
		regs.rflags = act == QUIRK_STAC ? regs.rflags | RFLAGS_AC : regs.rflags & ~RFLAGS_AC;
		/* fall through */
	case QUIRK_SKIP:
		regs.rip += len;
		return ioctl(v->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
	case QUIRK_NONE:
		break;
	}
	off = snprintf(msg, sizeof(msg), "vCPU %u: instruction KVM cannot emulate at rip 0x%llx:",
		       v->id, (unsigned long long)regs.rip);
	for (i = 0; i < n && off > 0 && (size_t)off < sizeof(msg) - 4; i++)
		off += snprintf(msg + off, sizeof(msg) - (size_t)off, " %02x", insn[i]);
	if (!n)
		snprintf(msg + off, sizeof(msg) - (size_t)off, " (bytes unavailable)");
	vm_stop(v->vm, VM_STOP_CRASH, 0, msg);
	return -EFAULT;
}
