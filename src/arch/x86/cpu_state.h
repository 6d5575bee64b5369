/* x86 vCPU and VM state for snapshots and migration: what KVM holds for each vCPU (registers, FPU/
 * XSAVE, MSRs, LAPIC, events, TSC rate) and for the VM (PIC, IOAPIC, PIT2, kvm-clock), saved into
 * snapshot_fmt sections and checked in full before any of it reaches KVM. */
#ifndef CKVM_X86_CPU_STATE_H
#define CKVM_X86_CPU_STATE_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;
struct vm;
struct snap_writer;

#define X86_VCPU_STATE_VERSION	1
#define X86_VM_STATE_VERSION	1

/* Append section "vcpuN" (N = v->id) with everything KVM keeps for v. The vCPU is parked (paused,
 * its pending IN/MMIO read completed). 0 or -errno (logged). */
int x86_vcpu_state_save(struct vcpu *v, struct snap_writer *w);
/* Check a "vcpuN" payload's lengths and counts without touching KVM: 0 or -EINVAL with err set. */
int x86_vcpu_state_check(const void *data, size_t len, char *err, size_t errlen);
/* Apply a checked payload to a vCPU that has not run. 0 or -errno with err set (a lower TSC rate
 * than this host's, which KVM cannot set, is -ERANGE). */
int x86_vcpu_state_restore(struct vcpu *v, const void *data, size_t len, char *err, size_t errlen);

/* Section "vm": the in-kernel PIC master/slave, IOAPIC, PIT2 (with an irqchip) and kvm-clock. */
int x86_vm_state_save(struct vm *vm, struct snap_writer *w);
int x86_vm_state_check(const void *data, size_t len, char *err, size_t errlen);
/* Before the vCPUs run; the clock with KVM_CLOCK_REALTIME when both hosts offer it, so the guest's
 * clock accounts for the time it was stopped. */
int x86_vm_state_restore(struct vm *vm, const void *data, size_t len, char *err, size_t errlen);

#endif
