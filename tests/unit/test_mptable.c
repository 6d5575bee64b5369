/* MP table: floating pointer and configuration table checksums, placement (EBDA or 0xf0000), processor
 * entries and BSP flag, IRQ0 override, PCI INTx entries matching the ACPI _PRT routing, bad inputs. */
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "test.h"

#define MEM_LEN 0x100000

static uint8_t *mem;
static struct guest_mem gm;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

struct mp_counts {
	int cpus, bsp, buses, ioapics, ints, lints;
	int irq0_pin, irq2_seen, pci_ok, pci;
};

/* Validate the tables in mem; returns the configuration table or NULL. */
static const uint8_t *mp_check(const struct acpi_config *cfg, uint64_t mpf_gpa, struct mp_counts *c)
{
	const uint8_t *f = gm_ptr(&gm, mpf_gpa, 16), *t, *e, *end;
	uint32_t mpc_gpa;
	uint16_t len, n, i;

	memset(c, 0, sizeof(*c));
	c->irq0_pin = -1;
	CHECK(f && !memcmp(f, "_MP_", 4));
	if (!f)
		return NULL;
	CHECK_EQ(sum8(f, 16), 0);
	CHECK(f[8] == 1 && f[9] == 4 && f[11] == 0);
	mpc_gpa = rd32(f + 4);
	t = gm_ptr(&gm, mpc_gpa, 44);
	CHECK(t && !memcmp(t, "PCMP", 4));
	if (!t)
		return NULL;
	len = (uint16_t)(t[4] | t[5] << 8);
	n = (uint16_t)(t[34] | t[35] << 8);
	CHECK(gm_ptr(&gm, mpc_gpa, len) != NULL);
	CHECK_EQ(sum8(t, len), 0);
	CHECK_EQ(t[6], 4);
	CHECK_EQ(rd32(t + 36), LAYOUT_LAPIC_GPA);
	e = t + 44;
	end = t + len;
	for (i = 0; i < n && e < end; i++) {
		switch (e[0]) {
		case 0:
			CHECK(e[1] == c->cpus && (e[3] & 1));
			if (e[3] & 2) {
				c->bsp++;
				CHECK_EQ(e[1], 0);
			}
			c->cpus++;
			e += 20;
			continue;
		case 1:
			c->buses++;
			break;
		case 2:
			CHECK(e[1] == x86_ioapic_id(cfg->ncpus) && e[3] == 1 && rd32(e + 4) == LAYOUT_IOAPIC_GPA);
			c->ioapics++;
			break;
		case 3:
			c->ints++;
			CHECK_EQ(e[6], x86_ioapic_id(cfg->ncpus));
			if (e[4] == MPTABLE_BUS_ISA && e[5] == 0)
				c->irq0_pin = e[7];
			if (e[4] == MPTABLE_BUS_ISA && e[5] == 2)
				c->irq2_seen = 1;
			if (e[4] == MPTABLE_BUS_PCI) {
				c->pci++;
				c->pci_ok += e[7] == x86_pci_intx_gsi(e[5] >> 2, e[5] & 3) &&
					     (cfg->pci_slot_mask & (1u << (e[5] >> 2)));
			}
			break;
		case 4:
			CHECK(e[6] == 0xff && ((e[1] == 3 && e[7] == 0) || (e[1] == 1 && e[7] == 1)));
			c->lints++;
			break;
		default:
			CHECK(!"unknown entry type");
			return NULL;
		}
		e += 8;
	}
	CHECK(e == end && i == n);
	return t;
}

static void test_small(void)
{
	static const int n[] = { 1, 2, 4, 16 };
	struct acpi_config cfg = { 0 };
	struct mp_counts c;
	uint64_t mpf_gpa = 0;
	size_t i;

	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		memset(mem, 0xaa, MEM_LEN);
		cfg.ncpus = n[i];
		CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), 0);
		CHECK_EQ(mpf_gpa, LAYOUT_EBDA_GPA);
		CHECK(mp_check(&cfg, mpf_gpa, &c) == mem + LAYOUT_EBDA_GPA + 16);
		CHECK_EQ(c.cpus, n[i]);
		CHECK_EQ(c.bsp, 1);
		CHECK_EQ(c.buses, 2);
		CHECK_EQ(c.ioapics, 1);
		CHECK_EQ(c.ints, 15);
		CHECK_EQ(c.irq0_pin, 2);
		CHECK_EQ(c.irq2_seen, 0);
		CHECK_EQ(c.lints, 2);
		CHECK(mem[LAYOUT_EBDA_GPA - 1] == 0xaa && mem[MPTABLE_HIGH_GPA] == 0xaa);
	}
}

static void test_no_override_and_pci(void)
{
	struct acpi_config cfg = { .ncpus = 2, .no_irq0_override = true, .pci_slot_mask = 0x80000016 };
	struct mp_counts c;
	uint64_t mpf_gpa;

	CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), 0);
	CHECK(mp_check(&cfg, mpf_gpa, &c) != NULL);
	CHECK_EQ(c.irq0_pin, 0);
	CHECK_EQ(c.irq2_seen, 1);
	CHECK_EQ(c.ints, 16 + 4 * 4);
	CHECK_EQ(c.pci, 16);
	CHECK_EQ(c.pci_ok, 16);
}

/* Too big for the EBDA KiB: the table moves to 0xf0000. */
static void test_high(void)
{
	struct acpi_config cfg = { .ncpus = 64, .pci_slot_mask = 0xffffffff };
	struct mp_counts c;
	uint64_t mpf_gpa;

	memset(mem, 0xaa, MEM_LEN);
	CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), 0);
	CHECK_EQ(mpf_gpa, LAYOUT_EBDA_GPA);
	CHECK(mp_check(&cfg, mpf_gpa, &c) == mem + MPTABLE_HIGH_GPA);
	CHECK_EQ(c.cpus, 64);
	CHECK_EQ(c.bsp, 1);
	CHECK_EQ(c.pci_ok, 128);
	cfg.ncpus = MPTABLE_MAX_CPUS;
	CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), 0);
	CHECK(mp_check(&cfg, mpf_gpa, &c) != NULL);
	CHECK_EQ(c.cpus, MPTABLE_MAX_CPUS);
}

static void test_errors(void)
{
	struct acpi_config cfg = { .ncpus = 0 };
	struct guest_mem small = { 0 };
	uint64_t mpf_gpa = 7;

	CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), -EINVAL);
	cfg.ncpus = MPTABLE_MAX_CPUS + 1;
	CHECK_EQ(mptable_build(&gm, &cfg, &mpf_gpa), -EINVAL);
	CHECK_EQ(mptable_build(&gm, NULL, &mpf_gpa), -EINVAL);
	CHECK_EQ(mpf_gpa, 7);
	/* RAM ends inside the EBDA: the floating pointer's KiB is not all RAM. */
	CHECK_EQ(gm_add_region(&small, 0, LAYOUT_EBDA_GPA + 0x100, mem), 0);
	cfg.ncpus = 1;
	CHECK_EQ(mptable_build(&small, &cfg, &mpf_gpa), -EFAULT);
	/* EBDA present but 0xf0000 is not: a big table cannot be placed. */
	memset(&small, 0, sizeof(small));
	CHECK_EQ(gm_add_region(&small, 0, 0xa0000, mem), 0);
	cfg.ncpus = 100;
	CHECK_EQ(mptable_build(&small, &cfg, &mpf_gpa), -EFAULT);
	CHECK_EQ(mpf_gpa, 7);
}

int main(void)
{
	mem = calloc(1, MEM_LEN);
	if (!mem || gm_add_region(&gm, 0, MEM_LEN, mem))
		return 1;
	RUN(test_small);
	RUN(test_no_override_and_pci);
	RUN(test_high);
	RUN(test_errors);
	free(mem);
	return test_summary();
}
