/* x86 vCPU state at power-on: segment/control registers for the boot mode the loader chose, boot
 * page tables and GDT, CPUID, LAPIC LINT pins, FPU. */
#ifndef CKVM_X86_CPU_H
#define CKVM_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/boot.h"
#include "core/guest_mem.h"

struct vcpu;
struct kvm_cpuid2;

/* Identity page tables (0..4 GiB, 2 MiB pages) and the boot GDT, in low guest memory. */
int x86_boot_tables_write(const struct guest_mem *gm);
/* Registers of the boot processor for the loader's entry mode. */
int x86_vcpu_boot_regs(struct vcpu *v, const struct boot_info *bi);
/* Per-vCPU state every vCPU needs: CPUID (built from 'cpuid' for this vCPU's APIC id), FPU, MSRs,
 * and with an in-kernel LAPIC, LINT0 = ExtINT and LINT1 = NMI. */
int x86_vcpu_init(struct vcpu *v, const struct kvm_cpuid2 *cpuid, int lapic);

/* Host CPU facts handed to the guest's CPUID: invariant TSC, and the brand string (0x80000002-4,
 * 12 words) which KVM reports as zeros. */
bool x86_host_invariant_tsc(void);
bool x86_host_cpu_brand(uint32_t brand[12]);

#endif
