/* Guest CPUID: a pure filter from KVM_GET_SUPPORTED_CPUID's table to one vCPU's KVM_SET_CPUID2 table
 * (APIC ids and topology, hypervisor bit, KVM paravirt leaves, TSC frequency leaf). No ioctls here. */
#ifndef CKVM_X86_CPUID_H
#define CKVM_X86_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include <asm/kvm_para.h>
#include <linux/kvm.h>

/* Leaves cpuid_build() may add beyond the supported table (0x40000000/1/10, 0xB/0x1F subleaves,
 * 0x8000001E): allocate out with supported->nent + CPUID_EXTRA_ENTRIES entries. */
#define CPUID_EXTRA_ENTRIES	16

/* The KVM paravirt features (KVM_FEATURE_* bit numbers, <asm/kvm_para.h>) we offer when KVM supports
 * them; kvm_features_off removes any of them. */
#define CPUID_KVM_FEATURES_DEFAULT                                                    \
	(1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_NOP_IO_DELAY |              \
	 1u << KVM_FEATURE_CLOCKSOURCE2 | 1u << KVM_FEATURE_ASYNC_PF |                 \
	 1u << KVM_FEATURE_STEAL_TIME | 1u << KVM_FEATURE_PV_EOI |                     \
	 1u << KVM_FEATURE_PV_UNHALT | 1u << KVM_FEATURE_PV_TLB_FLUSH |                \
	 1u << KVM_FEATURE_ASYNC_PF_VMEXIT | 1u << KVM_FEATURE_PV_SEND_IPI |           \
	 1u << KVM_FEATURE_POLL_CONTROL | 1u << KVM_FEATURE_PV_SCHED_YIELD |           \
	 1u << KVM_FEATURE_ASYNC_PF_INT | 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT)

#define CPUID_KVM_LAPIC_BUS_KHZ	1000000	/* KVM's APIC bus runs at 1 GHz */

struct cpuid_opts {
	uint32_t ncpus;			/* vCPUs in the VM: one package, one thread per core */
	uint32_t kvm_features_off;	/* bitmask of (1 << KVM_FEATURE_x) to hide */
	uint32_t tsc_khz;		/* KVM_GET_TSC_KHZ; 0: no 0x40000010 timing leaf */
	bool host_invariant_tsc;	/* host TSC is invariant: set 0x80000007 EDX[8], else clear it */
	bool clear_cx16;		/* hide CMPXCHG16B (leaf 1 ECX[13]), e.g. on software-KVM hosts */
	const uint32_t *brand;		/* 12 words for leaves 0x80000002-4 (EAX..EDX each), or NULL */
};

/* Build vCPU vcpu_id's table (APIC id = vcpu_id). On entry out->nent is the capacity of
 * out->entries; on success it is the number of entries written.
 * 0; -EINVAL (bad arguments, vcpu_id >= ncpus); -ENOSPC (capacity too small). */
int cpuid_build(const struct kvm_cpuid2 *supported, const struct cpuid_opts *o, uint32_t vcpu_id,
		struct kvm_cpuid2 *out);

/* Entry for (function, index) in a table, or NULL; index is ignored for leaves without
 * KVM_CPUID_FLAG_SIGNIFCANT_INDEX. */
const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *t, uint32_t function,
					  uint32_t index);

#endif
