/* MP floating pointer and configuration table: processors (BSP = APIC id 0), PCI and ISA buses, the
 * IOAPIC, I/O interrupt assignments (ISA IRQs, PCI INTx) and LINT0/LINT1 wiring.
 * Intel MultiProcessor Specification 1.4, chapter 4. Setup-time only, main thread. */
#include "arch/x86/mptable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/layout.h"

#define MPF_LEN			16
#define MPC_HDR_LEN		44
#define MPC_PROC_LEN		20
#define MPC_ENTRY_LEN		8	/* bus, IOAPIC, I/O and local interrupt entries */
#define EBDA_LEN		0x400

enum { MP_PROCESSOR = 0, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };

#define MP_CPU_EN		0x01
#define MP_CPU_BP		0x02
#define MP_APIC_VERSION		0x14
#define MP_IOAPIC_VERSION	0x11
#define MP_FLAG_HIGH_LEVEL	0x0d	/* polarity 01 active high, trigger 11 level */
#define MP_FLAG_LOW_LEVEL	0x0f	/* polarity 11 active low, trigger 11 level: PCI */

static int popcount32(uint32_t v)
{
	return __builtin_popcount(v);
}

static int mpc_nr_intsrc(const struct acpi_config *cfg)
{
	/* ISA 0..15 minus IRQ2 when IRQ0 takes pin 2, plus four pins per PCI slot. */
	return (cfg->no_irq0_override ? 16 : 15) + PCI_INTX_PINS * popcount32(cfg->pci_slot_mask);
}

static size_t mpc_len(const struct acpi_config *cfg)
{
	return MPC_HDR_LEN + (size_t)cfg->ncpus * MPC_PROC_LEN +
	       MPC_ENTRY_LEN * (2 + 1 + (size_t)mpc_nr_intsrc(cfg) + 2);
}

static uint8_t *mpc_int(uint8_t *e, uint8_t type, uint8_t itype, uint16_t flags, uint8_t bus,
			uint8_t irq, uint8_t dst, uint8_t pin)
{
	e[0] = type;
	e[1] = itype;
	acpi_put16(e + 2, flags);
	e[4] = bus;
	e[5] = irq;
	e[6] = dst;
	e[7] = pin;
	return e + MPC_ENTRY_LEN;
}

/* Fill the configuration table at t (len bytes, zeroed). Returns the entry count. */
static int mpc_fill(uint8_t *t, size_t len, const struct acpi_config *cfg)
{
	uint8_t ioapic = x86_ioapic_id(cfg->ncpus), *e = t + MPC_HDR_LEN;
	unsigned slot, pin;
	int i, count = 0;

	for (i = 0; i < cfg->ncpus; i++, count++) {
		e[0] = MP_PROCESSOR;
		e[1] = (uint8_t)i;
		e[2] = MP_APIC_VERSION;
		e[3] = (uint8_t)(MP_CPU_EN | (i == 0 ? MP_CPU_BP : 0));
		acpi_put32(e + 4, 0x600);		/* signature: family 6 */
		acpi_put32(e + 8, 0x201);		/* features: FPU, APIC */
		e += MPC_PROC_LEN;
	}
	e[0] = MP_BUS;
	e[1] = MPTABLE_BUS_PCI;
	memcpy(e + 2, "PCI   ", 6);
	e += MPC_ENTRY_LEN;
	e[0] = MP_BUS;
	e[1] = MPTABLE_BUS_ISA;
	memcpy(e + 2, "ISA   ", 6);
	e += MPC_ENTRY_LEN;
	e[0] = MP_IOAPIC;
	e[1] = ioapic;
	e[2] = MP_IOAPIC_VERSION;
	e[3] = 1;				/* enabled */
	acpi_put32(e + 4, (uint32_t)LAYOUT_IOAPIC_GPA);
	e += MPC_ENTRY_LEN;
	count += 3;
	for (i = 0; i < 16; i++) {
		uint8_t dst_pin = (uint8_t)i;

		if (!cfg->no_irq0_override) {
			if (i == 2)
				continue;	/* pin 2 belongs to IRQ0 */
			if (i == 0)
				dst_pin = 2;
		}
		e = mpc_int(e, MP_INTSRC, MP_INT, i == X86_SCI_IRQ ? MP_FLAG_HIGH_LEVEL : 0,
			    MPTABLE_BUS_ISA, (uint8_t)i, ioapic, dst_pin);
		count++;
	}
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		if (!(cfg->pci_slot_mask & (1u << slot)))
			continue;
		for (pin = 0; pin < PCI_INTX_PINS; pin++, count++)
			e = mpc_int(e, MP_INTSRC, MP_INT, MP_FLAG_LOW_LEVEL, MPTABLE_BUS_PCI,
				    (uint8_t)(slot << 2 | pin), ioapic,
				    (uint8_t)x86_pci_intx_gsi(slot, pin));
	}
	e = mpc_int(e, MP_LINTSRC, MP_EXTINT, 0, MPTABLE_BUS_ISA, 0, 0xff, 0);
	e = mpc_int(e, MP_LINTSRC, MP_NMI, 0, MPTABLE_BUS_ISA, 0, 0xff, 1);
	count += 2;
	if ((size_t)(e - t) != len)
		return -EINVAL;			/* broken invariant: mpc_len() disagrees */

	memcpy(t, "PCMP", 4);
	acpi_put16(t + 4, (uint16_t)len);
	t[6] = 4;				/* spec revision 1.4 */
	memcpy(t + 8, "CKVM    ", 8);
	memcpy(t + 16, "CKVM        ", 12);
	acpi_put16(t + 34, (uint16_t)count);
	acpi_put32(t + 36, (uint32_t)LAYOUT_LAPIC_GPA);
	t[7] = 0;
	t[7] = acpi_checksum(t, len);
	return count;
}

int mptable_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *mpf_gpa)
{
	uint8_t ebda[EBDA_LEN] = { 0 }, *mpc;
	uint64_t mpc_gpa;
	size_t len;
	int ret;

	if (!cfg || cfg->ncpus < 1 || cfg->ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	len = mpc_len(cfg);
	if (len > MPTABLE_HIGH_MAX)
		return -ENOSPC;
	if (!gm_ptr(gm, LAYOUT_EBDA_GPA, EBDA_LEN))
		return -EFAULT;
	if (len <= EBDA_LEN - MPF_LEN) {
		mpc_gpa = LAYOUT_EBDA_GPA + MPF_LEN;
		mpc = ebda + MPF_LEN;
	} else {
		mpc_gpa = MPTABLE_HIGH_GPA;
		mpc = calloc(1, len);
		if (!mpc)
			return -ENOMEM;
	}
	ret = mpc_fill(mpc, len, cfg);
	if (ret >= 0 && mpc != ebda + MPF_LEN)
		ret = gm_write(gm, mpc_gpa, mpc, len);
	if (mpc != ebda + MPF_LEN)
		free(mpc);
	if (ret < 0)
		return ret;

	memcpy(ebda, "_MP_", 4);
	acpi_put32(ebda + 4, (uint32_t)mpc_gpa);
	ebda[8] = 1;				/* length in 16-byte units */
	ebda[9] = 4;				/* spec revision 1.4 */
	/* Feature bytes 0: a configuration table is present; IMCR absent (virtual wire mode). */
	ebda[10] = acpi_checksum(ebda, MPF_LEN);
	ret = gm_write(gm, LAYOUT_EBDA_GPA, ebda, EBDA_LEN);
	if (ret)
		return ret;
	*mpf_gpa = LAYOUT_EBDA_GPA;
	return 0;
}
