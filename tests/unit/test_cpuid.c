/* CPUID filter on a fake KVM_GET_SUPPORTED_CPUID table: KVM leaves with every feature on and each one
 * switched off, unsupported features never offered, per-vCPU APIC ids and topology, TSC leaf, CX16,
 * hypervisor bit, invariant TSC, capacity errors. */
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/cpuid.h"
#include "test.h"

#define F(x) (1u << KVM_FEATURE_##x)
/* What the fake "KVM" supports: no ASYNC_PF*, plus MSI_EXT_DEST_ID which we never offer. */
#define FAKE_KVM_FEATURES                                                                      \
	(F(CLOCKSOURCE) | F(NOP_IO_DELAY) | F(CLOCKSOURCE2) | F(STEAL_TIME) | F(PV_EOI) |       \
	 F(PV_UNHALT) | F(PV_TLB_FLUSH) | F(PV_SEND_IPI) | F(POLL_CONTROL) | F(PV_SCHED_YIELD) | \
	 F(MSI_EXT_DEST_ID) | F(CLOCKSOURCE_STABLE_BIT))

static struct kvm_cpuid2 *table_alloc(uint32_t n)
{
	struct kvm_cpuid2 *t = calloc(1, sizeof(*t) + n * sizeof(t->entries[0]));

	if (t)
		t->nent = n;
	return t;
}

static void add(struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx, bool sig_idx, uint32_t a, uint32_t b,
		uint32_t c, uint32_t d)
{
	struct kvm_cpuid_entry2 *e = &t->entries[t->nent++];

	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = sig_idx ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
	e->eax = a;
	e->ebx = b;
	e->ecx = c;
	e->edx = d;
}

static struct kvm_cpuid2 *fake_supported(bool amd)
{
	struct kvm_cpuid2 *t = table_alloc(32);

	t->nent = 0;
	if (amd)
		add(t, 0, 0, false, 0x10, 0x68747541, 0x444d4163, 0x69746e65);	/* AuthenticAMD */
	else
		add(t, 0, 0, false, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);	/* GenuineIntel */
	add(t, 1, 0, false, 0x000806f8, 0x00000800, (1u << 13) | (1u << 0) | (1u << 21),
	    (1u << 0) | (1u << 9));
	add(t, 4, 0, true, 0x1c004121, 1, 2, 3);	/* L1d, host: 8 threads share it */
	add(t, 4, 1, true, 0x1c004122, 1, 2, 3);	/* L1i */
	add(t, 4, 2, true, 0x1c00c143, 1, 2, 3);	/* L2 */
	add(t, 4, 3, true, 0x1c03c163, 1, 2, 3);	/* L3 */
	add(t, 4, 4, true, 0, 0, 0, 0);
	add(t, 0xb, 0, true, 1, 2, 0x100, 7);		/* host topology must not leak */
	add(t, 0xb, 1, true, 5, 16, 0x201, 7);
	add(t, 0x40000000, 0, false, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(t, 0x40000001, 0, false, FAKE_KVM_FEATURES, 0, 0, 0);
	add(t, 0x80000000, 0, false, 0x80000021, 0, 0, 0);
	add(t, 0x80000002, 0, false, 0, 0, 0, 0);	/* KVM reports the brand as zeros */
	add(t, 0x80000003, 0, false, 0, 0, 0, 0);
	add(t, 0x80000004, 0, false, 0, 0, 0, 0);
	add(t, 0x80000007, 0, false, 0, 0, 0, 1u << 8);
	add(t, 0x80000008, 0, false, 0x3030, 0, 0x0000700f, 0);
	if (amd) {
		add(t, 0x8000001d, 3, true, 0x0003c163, 0, 0, 0);
		add(t, 0x8000001e, 0, false, 0x55, 0x0107, 0x0301, 0);
	}
	return t;
}

static const struct kvm_cpuid_entry2 *get(const struct kvm_cpuid2 *t, uint32_t fn, uint32_t idx)
{
	return cpuid_find(t, fn, idx);
}

static int count_fn(const struct kvm_cpuid2 *t, uint32_t fn)
{
	uint32_t i;
	int n = 0;

	for (i = 0; i < t->nent; i++)
		n += t->entries[i].function == fn;
	return n;
}

static int build(const struct kvm_cpuid2 *sup, const struct cpuid_opts *o, uint32_t vcpu,
		 struct kvm_cpuid2 *out)
{
	out->nent = 32 + CPUID_EXTRA_ENTRIES;
	return cpuid_build(sup, o, vcpu, out);
}

static void test_kvm_leaves(void)
{
	struct kvm_cpuid2 *sup = fake_supported(false), *out = table_alloc(32 + CPUID_EXTRA_ENTRIES);
	struct cpuid_opts o = { .ncpus = 1 };
	const uint32_t want = FAKE_KVM_FEATURES & CPUID_KVM_FEATURES_DEFAULT;
	const struct kvm_cpuid_entry2 *e;
	char sig[13] = { 0 };
	unsigned bit;

	CHECK_EQ(build(sup, &o, 0, out), 0);
	e = get(out, KVM_CPUID_SIGNATURE, 0);
	CHECK(e != NULL);
	if (!e)
		goto out;
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	CHECK(!memcmp(sig, "KVMKVMKVM\0\0\0", 12));
	CHECK_EQ(e->eax, KVM_CPUID_FEATURES);
	CHECK_EQ(count_fn(out, KVM_CPUID_SIGNATURE), 1);
	CHECK_EQ(count_fn(out, KVM_CPUID_FEATURES), 1);
	CHECK_EQ(count_fn(out, 0x40000010), 0);
	e = get(out, KVM_CPUID_FEATURES, 0);
	CHECK_EQ(e->eax, want);
	CHECK(e->eax & F(CLOCKSOURCE_STABLE_BIT));
	CHECK(e->eax & F(PV_UNHALT));
	CHECK(!(e->eax & F(ASYNC_PF)));			/* not supported by the fake KVM */
	CHECK(!(e->eax & F(ASYNC_PF_INT)));
	CHECK(!(e->eax & F(MSI_EXT_DEST_ID)));		/* supported but not ours to offer */
	CHECK_EQ(e->edx, 0);

	for (bit = 0; bit < 32; bit++) {
		if (!(CPUID_KVM_FEATURES_DEFAULT & (1u << bit)))
			continue;
		o.kvm_features_off = 1u << bit;
		CHECK_EQ(build(sup, &o, 0, out), 0);
		CHECK_EQ(get(out, KVM_CPUID_FEATURES, 0)->eax, want & ~(1u << bit));
	}
	o.kvm_features_off = ~0u;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK_EQ(get(out, KVM_CPUID_FEATURES, 0)->eax, 0);

	/* TSC frequency leaf. */
	o.kvm_features_off = 0;
	o.tsc_khz = 2345678;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK_EQ(get(out, KVM_CPUID_SIGNATURE, 0)->eax, 0x40000010);
	e = get(out, 0x40000010, 0);
	CHECK(e && e->eax == 2345678 && e->ebx == 1000000);

	/* A KVM without the features leaf offers nothing. */
	sup->entries[10].function = 0x40000002;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK_EQ(get(out, KVM_CPUID_FEATURES, 0)->eax, 0);
	CHECK_EQ(count_fn(out, 0x40000002), 0);
out:
	free(sup);
	free(out);
}

static void test_leaf1(void)
{
	struct kvm_cpuid2 *sup = fake_supported(false), *out = table_alloc(32 + CPUID_EXTRA_ENTRIES);
	struct cpuid_opts o = { .ncpus = 6 };
	const struct kvm_cpuid_entry2 *e;
	uint32_t v;

	for (v = 0; v < 6; v++) {
		CHECK_EQ(build(sup, &o, v, out), 0);
		e = get(out, 1, 0);
		CHECK_EQ(e->ebx >> 24, v);
		CHECK_EQ((e->ebx >> 16) & 0xff, 8);		/* APIC id space: next power of two */
		CHECK_EQ(e->ebx & 0xffff, 0x0800);		/* CLFLUSH size kept */
		CHECK(e->ecx & (1u << 31));			/* hypervisor */
		CHECK(e->ecx & (1u << 13));			/* CX16 kept by default */
		CHECK(e->ecx & (1u << 21));
		CHECK(e->edx & (1u << 28));			/* HTT: more than one logical CPU */
		CHECK_EQ(get(out, 0xb, 0)->edx, v);
		CHECK_EQ(get(out, 0xb, 1)->edx, v);
		CHECK_EQ(get(out, 0xb, 2)->edx, v);
	}
	e = get(out, 0xb, 0);
	CHECK(e->eax == 0 && e->ebx == 1 && e->ecx == 0x100);
	e = get(out, 0xb, 1);
	CHECK(e->eax == 3 && e->ebx == 6 && e->ecx == 0x201);
	e = get(out, 0xb, 2);
	CHECK(e->eax == 0 && e->ebx == 0 && e->ecx == 2);
	CHECK_EQ(count_fn(out, 0xb), 3);
	/* Leaf 4: cores field = 8 - 1, L1/L2 private, L3 shared by the 8-id span. */
	CHECK_EQ(get(out, 4, 0)->eax, (7u << 26) | 0x121);
	CHECK_EQ(get(out, 4, 2)->eax, (7u << 26) | 0x143);
	CHECK_EQ(get(out, 4, 3)->eax, (7u << 26) | (7u << 14) | 0x163);
	CHECK_EQ(get(out, 4, 4)->eax, 0);

	o.clear_cx16 = true;
	o.ncpus = 1;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	e = get(out, 1, 0);
	CHECK(!(e->ecx & (1u << 13)));
	CHECK(e->ecx & 1);
	CHECK(!(e->edx & (1u << 28)));
	CHECK_EQ(get(out, 0xb, 1)->eax, 0);

	/* Invariant TSC follows the host flag. */
	o.host_invariant_tsc = false;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK_EQ(get(out, 0x80000007, 0)->edx & (1u << 8), 0);
	o.host_invariant_tsc = true;
	sup->entries[12].edx = 0;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK(get(out, 0x80000007, 0)->edx & (1u << 8));
	/* Intel: 0x80000008 ECX untouched. */
	CHECK_EQ(get(out, 0x80000008, 0)->ecx, 0x700f);
	free(sup);
	free(out);
}

static void test_amd(void)
{
	struct kvm_cpuid2 *sup = fake_supported(true), *out = table_alloc(32 + CPUID_EXTRA_ENTRIES);
	struct cpuid_opts o = { .ncpus = 3 };
	const struct kvm_cpuid_entry2 *e;

	CHECK_EQ(build(sup, &o, 2, out), 0);
	e = get(out, 0x8000001e, 0);
	CHECK(e && e->eax == 2 && e->ebx == 2 && e->ecx == 0);
	CHECK_EQ(count_fn(out, 0x8000001e), 1);
	CHECK_EQ(get(out, 0x80000008, 0)->ecx, (2u << 12) | 2);
	CHECK_EQ(get(out, 0x8000001d, 3)->eax, (3u << 14) | 0x163);
	CHECK_EQ(get(out, 1, 0)->ebx >> 24, 2);
	free(sup);
	free(out);
}

static void test_brand(void)
{
	struct kvm_cpuid2 *sup = fake_supported(false), *out = table_alloc(32 + CPUID_EXTRA_ENTRIES);
	static const char name[48] = "Test CPU @ 1.00GHz";
	uint32_t brand[12];
	struct cpuid_opts o = { .ncpus = 1 };
	char got[49] = { 0 };
	int i;

	memcpy(brand, name, sizeof(brand));
	CHECK_EQ(build(sup, &o, 0, out), 0);
	CHECK_EQ(get(out, 0x80000002, 0)->eax, 0);		/* no brand given: passed through */
	o.brand = brand;
	CHECK_EQ(build(sup, &o, 0, out), 0);
	for (i = 0; i < 3; i++) {
		const struct kvm_cpuid_entry2 *e = get(out, 0x80000002 + (uint32_t)i, 0);

		memcpy(got + 16 * i, &e->eax, 4);
		memcpy(got + 16 * i + 4, &e->ebx, 4);
		memcpy(got + 16 * i + 8, &e->ecx, 4);
		memcpy(got + 16 * i + 12, &e->edx, 4);
	}
	CHECK_STR(got, name);
	free(sup);
	free(out);
}

static void test_errors(void)
{
	struct kvm_cpuid2 *sup = fake_supported(false), *out = table_alloc(32 + CPUID_EXTRA_ENTRIES);
	struct cpuid_opts o = { .ncpus = 2 };

	CHECK_EQ(build(sup, &o, 2, out), -EINVAL);
	o.ncpus = 0;
	CHECK_EQ(build(sup, &o, 0, out), -EINVAL);
	o.ncpus = 2;
	CHECK_EQ(build(NULL, &o, 0, out), -EINVAL);
	CHECK_EQ(build(sup, NULL, 0, out), -EINVAL);
	/* Exactly enough room, then one entry short. */
	CHECK_EQ(build(sup, &o, 1, out), 0);
	{
		uint32_t need = out->nent;

		out->nent = need;
		CHECK_EQ(cpuid_build(sup, &o, 1, out), 0);
		out->nent = need - 1;
		CHECK_EQ(cpuid_build(sup, &o, 1, out), -ENOSPC);
		CHECK_EQ(out->nent, 0);
		out->nent = 0;
		CHECK_EQ(cpuid_build(sup, &o, 1, out), -ENOSPC);
	}
	/* The output never exceeds supported + CPUID_EXTRA_ENTRIES. */
	CHECK_EQ(build(sup, &o, 1, out), 0);
	CHECK(out->nent <= sup->nent + CPUID_EXTRA_ENTRIES);
	free(sup);
	free(out);
}

int main(void)
{
	RUN(test_kvm_leaves);
	RUN(test_leaf1);
	RUN(test_amd);
	RUN(test_brand);
	RUN(test_errors);
	return test_summary();
}
