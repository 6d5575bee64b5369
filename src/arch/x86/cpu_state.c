/* x86 vCPU/VM state through KVM's state ioctls (KVM API: KVM_GET/SET_REGS, SREGS2, XSAVE2, XCRS,
 * MSRS with KVM_GET_MSR_INDEX_LIST, LAPIC, VCPU_EVENTS, DEBUGREGS, MP_STATE, TSC_KHZ; IRQCHIP, PIT2,
 * CLOCK). Runs on the thread that snapshots (API) or restores (main) while no vCPU is in KVM_RUN.
 * A payload is a fixed block, then the MSR entries, then the XSAVE area; its counts are checked
 * against its length before use, because it comes from a file. */
#include "arch/x86/cpu_state.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/snapshot_fmt.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "log.h"

#define MAX_MSRS	512
#define MAX_XSAVE	(1u << 20)	/* far above any XSAVE area (AMX's is ~11 KiB) */

enum {
	VS_SREGS2 = 1u << 0,	/* sregs2 is valid (with PDPTRs), else sregs */
	VS_XSAVE = 1u << 1,
	VS_XCRS = 1u << 2,
	VS_LAPIC = 1u << 3,
	VS_DEBUGREGS = 1u << 4,
	VS_TSC_KHZ = 1u << 5,
};

struct vcpu_fixed {
	uint32_t flags;
	uint32_t tsc_khz;
	uint32_t nmsrs;
	uint32_t xsave_len;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_sregs2 sregs2;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct kvm_mp_state mp;
};

enum { VM_IRQCHIP = 1u << 0, VM_PIT = 1u << 1 };

struct vm_fixed {
	uint32_t flags;
	uint32_t pad;
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};


static int cap(int fd, long c)
{
	int r = ioctl(fd, KVM_CHECK_EXTENSION, c);

	return r < 0 ? 0 : r;
}

/* The MSRs KVM saves for a vCPU, into a kvm_msrs with room for them. */
static struct kvm_msrs *msr_list(struct vm *vm)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + MAX_MSRS * sizeof(l->indices[0]));
	struct kvm_msrs *m = NULL;

	if (!l)
		return NULL;
	l->nmsrs = MAX_MSRS;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) == 0 && l->nmsrs <= MAX_MSRS &&
	    (m = calloc(1, sizeof(*m) + l->nmsrs * sizeof(m->entries[0])))) {
		m->nmsrs = l->nmsrs;
		for (uint32_t i = 0; i < l->nmsrs; i++)
			m->entries[i].index = l->indices[i];
	}
	free(l);
	return m;
}

/* KVM_GET_MSRS stops at the first MSR it cannot read; read past it one at a time, dropping those
 * (a listed MSR the vCPU's CPUID does not enable). Returns how many remain in m. */
static uint32_t msrs_read(int fd, struct kvm_msrs *m)
{
	union { struct kvm_msrs h; uint8_t b[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)]; } one;
	uint32_t i, n = 0;
	int r = ioctl(fd, KVM_GET_MSRS, m);

	if (r >= 0 && (uint32_t)r == m->nmsrs)
		return m->nmsrs;
	for (i = 0; i < m->nmsrs; i++) {
		memset(&one, 0, sizeof(one));
		one.h.nmsrs = 1;
		one.h.entries[0].index = m->entries[i].index;
		if (ioctl(fd, KVM_GET_MSRS, &one) == 1)
			m->entries[n++] = one.h.entries[0];
	}
	return m->nmsrs = n;
}

static int vm_xsave_len(struct vm *vm)
{
	int n = cap(vm->vm_fd, KVM_CAP_XSAVE2);

	if (n <= 0 && cap(vm->kvm_fd, KVM_CAP_XSAVE))
		n = (int)sizeof(struct kvm_xsave);
	return n > (int)MAX_XSAVE ? -EOVERFLOW : n;
}

int x86_vcpu_state_save(struct vcpu *v, struct snap_writer *w)
{
	struct vm *vm = v->vm;
	struct vcpu_fixed f;
	struct kvm_msrs *m = msr_list(vm);
	int xlen = vm_xsave_len(vm), khz, ret = 0;
	char name[SNAP_NAME_MAX];
	uint8_t *p;

	memset(&f, 0, sizeof(f));
	if (!m || xlen < 0)
		return m ? xlen : -ENOMEM;
	f.nmsrs = msrs_read(v->fd, m);
#define GET(req, arg) do { if (!ret && ioctl(v->fd, req, arg) < 0) { ret = -errno; \
		log_errno(LOG_ERR, "snapshot", ret, "vCPU %u: " #req, v->id); } } while (0)
	GET(KVM_GET_REGS, &f.regs);
	GET(KVM_GET_SREGS, &f.sregs);
	if (cap(vm->kvm_fd, KVM_CAP_SREGS2)) {
		GET(KVM_GET_SREGS2, &f.sregs2);
		f.flags |= VS_SREGS2;
	}
	GET(KVM_GET_FPU, &f.fpu);
	if (cap(vm->kvm_fd, KVM_CAP_XCRS)) {
		GET(KVM_GET_XCRS, &f.xcrs);
		f.flags |= VS_XCRS;
	}
	if (vm->irqchip) {
		GET(KVM_GET_LAPIC, &f.lapic);
		f.flags |= VS_LAPIC;
	}
	GET(KVM_GET_VCPU_EVENTS, &f.events);
	if (cap(vm->kvm_fd, KVM_CAP_DEBUGREGS)) {
		GET(KVM_GET_DEBUGREGS, &f.dregs);
		f.flags |= VS_DEBUGREGS;
	}
	GET(KVM_GET_MP_STATE, &f.mp);
	if ((khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0)) > 0) {
		f.tsc_khz = (uint32_t)khz;
		f.flags |= VS_TSC_KHZ;
	}
	f.xsave_len = xlen > 0 ? (uint32_t)xlen : 0;
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	p = ret ? NULL : snap_section_begin(w, name, X86_VCPU_STATE_VERSION,
					    sizeof(f) + f.nmsrs * sizeof(m->entries[0]) + f.xsave_len);
	if (p && xlen > 0) {
		/* KVM_GET_XSAVE2 writes the whole area (more than struct kvm_xsave when AMX is on). */
		uint8_t *x = p + sizeof(f) + f.nmsrs * sizeof(m->entries[0]);

		if (ioctl(v->fd, cap(vm->vm_fd, KVM_CAP_XSAVE2) > 0 ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, x) < 0) {
			ret = -errno;
			log_errno(LOG_ERR, "snapshot", ret, "vCPU %u: KVM_GET_XSAVE", v->id);
		}
		f.flags |= VS_XSAVE;
	}
#undef GET
	if (p) {
		memcpy(p, &f, sizeof(f));
		memcpy(p + sizeof(f), m->entries, f.nmsrs * sizeof(m->entries[0]));
		snap_section_end(w, sizeof(f) + f.nmsrs * sizeof(m->entries[0]) + f.xsave_len);
	} else if (!ret) {
		ret = w->err;
	}
	free(m);
	return ret;
}

int x86_vcpu_state_check(const void *data, size_t len, char *err, size_t errlen)
{
	struct vcpu_fixed f;

	if (len < sizeof(f))
		return errf(err, errlen, -EINVAL, "vCPU state: %zu bytes, shorter than its fixed part", len);
	memcpy(&f, data, sizeof(f));
	if (f.nmsrs > MAX_MSRS || f.xsave_len > MAX_XSAVE)
		return errf(err, errlen, -EINVAL, "vCPU state: %u MSRs, %u XSAVE bytes", f.nmsrs, f.xsave_len);
	if (len != sizeof(f) + f.nmsrs * sizeof(struct kvm_msr_entry) + f.xsave_len)
		return errf(err, errlen, -EINVAL, "vCPU state: %zu bytes do not match its counts", len);
	if ((f.flags & VS_XSAVE) != (f.xsave_len ? VS_XSAVE : 0) ||
	    (f.xsave_len && f.xsave_len < sizeof(struct kvm_xsave)))
		return errf(err, errlen, -EINVAL, "vCPU state: XSAVE area of %u bytes", f.xsave_len);
	return 0;
}

/* The TSC rate: the same is fine; another one KVM must set, and this host's KVM (no TSC scaling,
 * KVM_CAP_TSC_CONTROL 0) can only keep or raise it. */
static int tsc_rate(struct vcpu *v, uint32_t want_khz, char *err, size_t errlen)
{
	int have = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);

	if (have <= 0 || (uint32_t)have == want_khz)
		return 0;
	if (ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)want_khz) == 0)
		return 0;
	return errf(err, errlen, -ERANGE, "the snapshot's TSC runs at %u kHz, this host's at %d kHz, "
		    "and KVM here cannot set the snapshot's rate (%s)", want_khz, have, strerror(errno));
}

int x86_vcpu_state_restore(struct vcpu *v, const void *data, size_t len, char *err, size_t errlen)
{
	const uint8_t *p = data;
	struct vcpu_fixed f;
	struct kvm_msrs *m = NULL;
	const char *what = NULL;
	int ret;

	if ((ret = x86_vcpu_state_check(data, len, err, errlen)))
		return ret;
	memcpy(&f, p, sizeof(f));
	if (f.xsave_len && f.xsave_len != (uint32_t)vm_xsave_len(v->vm))
		return errf(err, errlen, -EINVAL, "vCPU %u: XSAVE area of %u bytes, this host's is %d "
			    "(a different CPU)", v->id, f.xsave_len, vm_xsave_len(v->vm));
	if ((f.flags & VS_LAPIC) != (v->vm->irqchip ? VS_LAPIC : 0))
		return errf(err, errlen, -EINVAL, "vCPU %u: the snapshot %s an in-kernel LAPIC", v->id,
			    v->vm->irqchip ? "has no" : "has");
	if ((f.flags & VS_TSC_KHZ) && (ret = tsc_rate(v, f.tsc_khz, err, errlen)))
		return ret;
	if (!(m = calloc(1, sizeof(*m) + f.nmsrs * sizeof(m->entries[0]))))
		return errf(err, errlen, -ENOMEM, "out of memory");
	m->nmsrs = f.nmsrs;
	memcpy(m->entries, p + sizeof(f), f.nmsrs * sizeof(m->entries[0]));
	/* QEMU's order: special registers before the MSRs (EFER, APIC base), the LAPIC before the MSRs
	 * (TSC deadline needs its mode), the MP state and events last. */
#define SET(req, arg) do { if (!what && ioctl(v->fd, req, arg) < 0) { ret = -errno; what = #req; } } \
	while (0)
	if (f.flags & VS_SREGS2)
		SET(KVM_SET_SREGS2, &f.sregs2);
	else
		SET(KVM_SET_SREGS, &f.sregs);
	SET(KVM_SET_REGS, &f.regs);
	SET(KVM_SET_FPU, &f.fpu);
	if (f.flags & VS_XSAVE)
		SET(KVM_SET_XSAVE, p + sizeof(f) + f.nmsrs * sizeof(m->entries[0]));
	if (f.flags & VS_XCRS)
		SET(KVM_SET_XCRS, &f.xcrs);
	if (f.flags & VS_LAPIC)
		SET(KVM_SET_LAPIC, &f.lapic);
	if (!what) {
		int n = ioctl(v->fd, KVM_SET_MSRS, m);

		if (n < 0 || (uint32_t)n != m->nmsrs) {
			ret = n < 0 ? -errno : -EINVAL;
			snprintf(err, errlen, "vCPU %u: KVM_SET_MSRS refused MSR 0x%x", v->id,
				 n >= 0 && (uint32_t)n < m->nmsrs ? m->entries[n].index : 0);
			what = "";
		}
	}
	SET(KVM_SET_MP_STATE, &f.mp);
	f.events.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			  KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	SET(KVM_SET_VCPU_EVENTS, &f.events);
	if (f.flags & VS_DEBUGREGS)
		SET(KVM_SET_DEBUGREGS, &f.dregs);
#undef SET
	free(m);
	if (what && *what)
		errf(err, errlen, ret, "vCPU %u: %s: %s", v->id, what, strerror(-ret));
	return what ? ret : 0;
}

int x86_vm_state_save(struct vm *vm, struct snap_writer *w)
{
	struct vm_fixed f;
	int ret = 0;

	memset(&f, 0, sizeof(f));
	if (vm->irqchip) {
		f.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
		f.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
		f.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &f.pic_master) < 0 ||
		    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &f.pic_slave) < 0 ||
		    ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &f.ioapic) < 0)
			ret = -errno;
		f.flags |= VM_IRQCHIP;
		if (!ret && ioctl(vm->vm_fd, KVM_GET_PIT2, &f.pit) == 0)
			f.flags |= VM_PIT;
	}
	if (!ret && ioctl(vm->vm_fd, KVM_GET_CLOCK, &f.clock) < 0)
		ret = -errno;
	if (ret) {
		log_errno(LOG_ERR, "snapshot", ret, "VM state (irqchip, PIT, clock)");
		return ret;
	}
	return snap_section_add(w, "vm", X86_VM_STATE_VERSION, &f, sizeof(f));
}

int x86_vm_state_check(const void *data, size_t len, char *err, size_t errlen)
{
	struct vm_fixed f;

	if (len != sizeof(f))
		return errf(err, errlen, -EINVAL, "VM state: %zu bytes, expected %zu", len, sizeof(f));
	memcpy(&f, data, sizeof(f));
	if (f.flags & ~(uint32_t)(VM_IRQCHIP | VM_PIT) || ((f.flags & VM_PIT) && !(f.flags & VM_IRQCHIP)))
		return errf(err, errlen, -EINVAL, "VM state: unknown flags 0x%x", f.flags);
	if ((f.flags & VM_IRQCHIP) && (f.pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
				       f.pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
				       f.ioapic.chip_id != KVM_IRQCHIP_IOAPIC))
		return errf(err, errlen, -EINVAL, "VM state: interrupt controllers out of order");
	return 0;
}

int x86_vm_state_restore(struct vm *vm, const void *data, size_t len, char *err, size_t errlen)
{
	struct vm_fixed f;
	struct kvm_clock_data c = { 0 };
	int ret, adj;

	if ((ret = x86_vm_state_check(data, len, err, errlen)))
		return ret;
	memcpy(&f, data, sizeof(f));
	if (!!(f.flags & VM_IRQCHIP) != vm->irqchip)
		return errf(err, errlen, -EINVAL, "the snapshot %s in-kernel interrupt controllers",
			    vm->irqchip ? "has no" : "has");
	if ((f.flags & VM_IRQCHIP) && (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &f.pic_master) < 0 ||
				       ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &f.pic_slave) < 0 ||
				       ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &f.ioapic) < 0))
		return errf(err, errlen, -errno, "KVM_SET_IRQCHIP: %s", strerror(errno));
	if ((f.flags & VM_PIT) && ioctl(vm->vm_fd, KVM_SET_PIT2, &f.pit) < 0)
		return errf(err, errlen, -errno, "KVM_SET_PIT2: %s", strerror(errno));
	/* KVM_CLOCK_REALTIME: KVM adds the wall time since the save, so the guest sees the gap as time
	 * that passed (its timers fire, its clock is right) rather than a clock that stood still. */
	c.clock = f.clock.clock;
	adj = cap(vm->kvm_fd, KVM_CAP_ADJUST_CLOCK);
	if ((f.clock.flags & KVM_CLOCK_REALTIME) && (adj & KVM_CLOCK_REALTIME)) {
		c.flags = KVM_CLOCK_REALTIME;
		c.realtime = f.clock.realtime;
	}
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0 &&
	    !(c.flags && (c.flags = 0, ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) == 0)))
		return errf(err, errlen, -errno, "KVM_SET_CLOCK: %s", strerror(errno));
	return 0;
}
