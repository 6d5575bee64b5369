/* Guest CPUID table from KVM's supported CPUID: per-vCPU APIC ids and a flat topology (one package,
 * one thread per core), hypervisor bit, KVM paravirt leaves 0x40000000/0x40000001/0x40000010.
 * Intel SDM vol. 2A "CPUID", AMD APM vol. 3 "CPUID", Documentation/virt/kvm/x86/cpuid.rst. Main thread. */
#include "arch/x86/cpuid.h"

#include <errno.h>
#include <string.h>

#define CPUID_1_ECX_CX16	(1u << 13)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_HTT		(1u << 28)
#define CPUID_80000007_EDX_INVTSC (1u << 8)
#define CPUID_VENDOR_AMD_EBX	0x68747541u	/* "Auth" */
#define CPUID_VENDOR_HYGON_EBX	0x6f677948u	/* "Hygo" */
#define CPUID_KVM_TIMING_LEAF	0x40000010u

struct cpuid_ctx {
	const struct cpuid_opts *o;
	uint32_t apic_id;
	unsigned id_bits;		/* bits of APIC id that number the cores */
	uint32_t id_span;		/* 1 << id_bits */
	bool amd;
	struct kvm_cpuid2 *out;
	uint32_t cap;
};

const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *t, uint32_t function,
					  uint32_t index)
{
	uint32_t i;

	for (i = 0; i < t->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &t->entries[i];

		if (e->function != function)
			continue;
		if (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index)
			return e;
	}
	return NULL;
}

static unsigned ceil_log2(uint32_t n)
{
	unsigned b = 0;

	while (b < 32 && (1ull << b) < n)
		b++;
	return b;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static int cpuid_put(struct cpuid_ctx *c, const struct kvm_cpuid_entry2 *e)
{
	if (c->out->nent >= c->cap)
		return -ENOSPC;
	c->out->entries[c->out->nent++] = *e;
	return 0;
}

/* Deterministic cache parameters (Intel leaf 4, AMD 0x8000001D): private L1/L2, shared L3. */
static void cpuid_cache_sharing(struct cpuid_ctx *c, struct kvm_cpuid_entry2 *e, bool cores_field)
{
	uint32_t level = (e->eax >> 5) & 7, share;

	if (!(e->eax & 0x1f))
		return;				/* null descriptor: no more caches */
	share = level >= 3 ? min_u32(c->id_span, 4096) : 1;
	e->eax = (e->eax & ~(0xfffu << 14)) | (share - 1) << 14;
	if (cores_field)
		e->eax = (e->eax & 0x03ffffffu) | (min_u32(c->id_span, 64) - 1) << 26;
}

static void cpuid_adjust(struct cpuid_ctx *c, struct kvm_cpuid_entry2 *e)
{
	const struct cpuid_opts *o = c->o;

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffffu) | (c->apic_id & 0xff) << 24 |
			 min_u32(c->id_span, 128) << 16;
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (o->clear_cx16)
			e->ecx &= ~CPUID_1_ECX_CX16;
		if (o->ncpus > 1)
			e->edx |= CPUID_1_EDX_HTT;
		else
			e->edx &= ~CPUID_1_EDX_HTT;
		break;
	case 4:
		cpuid_cache_sharing(c, e, true);
		break;
	case 0x80000007:
		if (o->host_invariant_tsc)
			e->edx |= CPUID_80000007_EDX_INVTSC;
		else
			e->edx &= ~CPUID_80000007_EDX_INVTSC;
		break;
	case 0x80000008:
		if (c->amd)		/* NC = cores - 1, ApicIdCoreIdSize */
			e->ecx = (e->ecx & ~0xf0ffu) | c->id_bits << 12 | min_u32(o->ncpus - 1, 255);
		break;
	case 0x8000001d:
		if (c->amd)
			cpuid_cache_sharing(c, e, false);
		break;
	default:
		break;
	}
}

/* Extended topology (0xB or 0x1F): level 0 SMT (1 thread), level 1 core (all vCPUs), then invalid. */
static int cpuid_put_topology(struct cpuid_ctx *c, uint32_t leaf)
{
	struct kvm_cpuid_entry2 e;
	uint32_t sub;
	int ret;

	for (sub = 0; sub < 3; sub++) {
		memset(&e, 0, sizeof(e));
		e.function = leaf;
		e.index = sub;
		e.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e.edx = c->apic_id;
		e.ecx = sub;
		if (sub == 0) {
			e.ebx = 1;
			e.ecx |= 1u << 8;	/* level type SMT */
		} else if (sub == 1) {
			e.eax = c->id_bits;
			e.ebx = c->o->ncpus & 0xffff;
			e.ecx |= 2u << 8;	/* level type core */
		}
		ret = cpuid_put(c, &e);
		if (ret)
			return ret;
	}
	return 0;
}

static int cpuid_put_kvm(struct cpuid_ctx *c, const struct kvm_cpuid2 *supported)
{
	const struct kvm_cpuid_entry2 *kf = cpuid_find(supported, KVM_CPUID_FEATURES, 0);
	struct kvm_cpuid_entry2 e;
	uint32_t sig[3];
	int ret;

	memset(&e, 0, sizeof(e));
	memcpy(sig, KVM_SIGNATURE, sizeof(sig));
	e.function = KVM_CPUID_SIGNATURE;
	e.eax = c->o->tsc_khz ? CPUID_KVM_TIMING_LEAF : KVM_CPUID_FEATURES;
	e.ebx = sig[0];
	e.ecx = sig[1];
	e.edx = sig[2];
	ret = cpuid_put(c, &e);
	if (ret)
		return ret;

	memset(&e, 0, sizeof(e));
	e.function = KVM_CPUID_FEATURES;
	e.eax = (kf ? kf->eax : 0) & CPUID_KVM_FEATURES_DEFAULT & ~c->o->kvm_features_off;
	ret = cpuid_put(c, &e);
	if (ret || !c->o->tsc_khz)
		return ret;

	memset(&e, 0, sizeof(e));
	e.function = CPUID_KVM_TIMING_LEAF;
	e.eax = c->o->tsc_khz;
	e.ebx = CPUID_KVM_LAPIC_BUS_KHZ;
	return cpuid_put(c, &e);
}

/* AMD extended APIC id / compute unit leaf: core id = APIC id, one thread per core, one node. */
static int cpuid_put_amd_topology(struct cpuid_ctx *c)
{
	struct kvm_cpuid_entry2 e;

	memset(&e, 0, sizeof(e));
	e.function = 0x8000001e;
	e.eax = c->apic_id;
	e.ebx = c->apic_id & 0xff;
	return cpuid_put(c, &e);
}

int cpuid_build(const struct kvm_cpuid2 *supported, const struct cpuid_opts *o, uint32_t vcpu_id,
		struct kvm_cpuid2 *out)
{
	const struct kvm_cpuid_entry2 *leaf0;
	struct cpuid_ctx c;
	bool topo_b = false, topo_1f = false;
	uint32_t i;
	int ret = 0;

	if (!supported || !o || !out || !o->ncpus || vcpu_id >= o->ncpus)
		return -EINVAL;
	leaf0 = cpuid_find(supported, 0, 0);
	c = (struct cpuid_ctx){
		.o = o, .apic_id = vcpu_id, .id_bits = ceil_log2(o->ncpus), .out = out, .cap = out->nent,
		.amd = leaf0 && (leaf0->ebx == CPUID_VENDOR_AMD_EBX || leaf0->ebx == CPUID_VENDOR_HYGON_EBX),
	};
	c.id_span = c.id_bits < 31 ? 1u << c.id_bits : 1u << 31;
	out->nent = 0;
	out->padding = 0;
	for (i = 0; i < supported->nent && !ret; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];

		if (e.function >= KVM_CPUID_SIGNATURE && e.function <= KVM_CPUID_SIGNATURE + 0xff)
			continue;		/* hypervisor leaves are ours */
		if (e.function == 0xb || e.function == 0x1f) {
			bool *done = e.function == 0xb ? &topo_b : &topo_1f;

			if (!*done)
				ret = cpuid_put_topology(&c, e.function);
			*done = true;
			continue;
		}
		if (e.function == 0x8000001e && c.amd) {
			ret = cpuid_put_amd_topology(&c);
			continue;
		}
		if (e.function >= 0x80000002 && e.function <= 0x80000004 && o->brand) {
			const uint32_t *w = o->brand + 4 * (e.function - 0x80000002);

			e.eax = w[0];
			e.ebx = w[1];
			e.ecx = w[2];
			e.edx = w[3];
		}
		cpuid_adjust(&c, &e);
		ret = cpuid_put(&c, &e);
	}
	if (!ret)
		ret = cpuid_put_kvm(&c, supported);
	if (ret)
		out->nent = 0;
	return ret;
}
