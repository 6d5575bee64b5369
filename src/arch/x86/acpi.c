/* ACPI tables of the x86 board: RSDP, RSDT/XSDT, FADT (rev 6, full hardware model, no SMI), FACS, MADT
 * and a generated DSDT (PCI0 with _CRS/_PRT, COM1, \_S5_). ACPI 6.x 5.2 "ACPI System Description Tables".
 * Setup-time only, main thread. One builder (acpi_blob_build) lays the tables out in a host buffer with
 * every pointer field holding a buffer offset and a list of those fields and of the checksums; direct
 * boot relocates them to LAYOUT_ACPI_GPA here, firmware boot hands them to fw_cfg (acpi_fwcfg.c). */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/aml.h"
#include "arch/x86/layout.h"
#include "dev/acpi_pm.h"

#define ACPI_OEM_ID		"CKVM  "
#define ACPI_OEM_TABLE_ID	"CKVMACPI"
#define ACPI_CREATOR_ID		"CKVM"

/* FADT Flags (5.2.9 Table 5.10) and IAPC_BOOT_ARCH (5.2.9.3) */
#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PROC_C1		(1u << 2)
#define FADT_F_PWR_BUTTON	(1u << 4)	/* set: no fixed-feature power button */
#define FADT_F_SLP_BUTTON	(1u << 5)
#define FADT_F_FIX_RTC		(1u << 6)
#define FADT_F_TMR_VAL_EXT	(1u << 8)
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042		(1u << 1)
#define FADT_BOOT_NO_VGA	(1u << 2)

/* MADT structure types (5.2.12) and MPS INTI flags */
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_X2APIC		9
#define MADT_X2APIC_NMI		10
#define MADT_PCAT_COMPAT	1u
#define MADT_ENABLED		1u
#define INTI_ACTIVE_HIGH	0x1
#define INTI_LEVEL		0xc

#define GAS_SYSTEM_IO		1
#define PM1_EVT_LEN		4	/* PM1_STS + PM1_EN */
#define PM1_CNT_LEN		2
#define PM_TMR_LEN		4
#define ACPI_RESET_PORT		0x64	/* i8042 command port; 0xfe pulses the reset line */
#define ACPI_RESET_VALUE	0xfe

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return (uint8_t)-sum;
}

/* Reserve n zeroed bytes aligned to align (a power of two); offset in *off. */
static int acpi_alloc(struct acpi_blob *b, size_t n, size_t align, size_t *off)
{
	size_t at = (b->len + align - 1) & ~(align - 1);

	if (at > b->cap || n > b->cap - at)
		return -ENOSPC;
	*off = at;
	b->len = at + n;
	return 0;
}

/* A size-byte pointer field at buffer offset `at` that points to buffer offset target: it holds target
 * now and is relocated later by whoever places the buffer. */
static int acpi_ptr(struct acpi_blob *b, size_t at, uint8_t size, size_t target)
{
	if (b->nptr == ACPI_BLOB_MAX_PTRS)
		return -ENOSPC;			/* broken invariant: more pointers than the tables have */
	if (size == 8)
		acpi_put64(b->p + at, target);
	else
		acpi_put32(b->p + at, (uint32_t)target);
	b->ptr[b->nptr].off = (uint32_t)at;
	b->ptr[b->nptr].size = size;
	b->nptr++;
	return 0;
}

/* The checksum byte at `at` covers [start, start + len); recomputed after relocation, in list order. */
static int acpi_sum(struct acpi_blob *b, size_t at, size_t start, size_t len)
{
	if (b->nsum == ACPI_BLOB_MAX_SUMS)
		return -ENOSPC;
	b->sum[b->nsum].off = (uint32_t)at;
	b->sum[b->nsum].start = (uint32_t)start;
	b->sum[b->nsum].len = (uint32_t)len;
	b->nsum++;
	return 0;
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	acpi_put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	acpi_put32(t + 24, 1);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	acpi_put32(t + 32, 1);
}

/* Record the table's checksum (header byte 9 over its whole length) for acpi_blob_seal(). */
static int acpi_seal(struct acpi_blob *b, size_t off)
{
	const uint8_t *t = b->p + off;
	uint32_t len = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;

	return acpi_sum(b, off + 9, off, len);
}

void acpi_blob_seal(struct acpi_blob *b)
{
	unsigned i;

	for (i = 0; i < b->nsum; i++) {
		b->p[b->sum[i].off] = 0;
		b->p[b->sum[i].off] = acpi_checksum(b->p + b->sum[i].start, b->sum[i].len);
	}
}

/* Generic Address Structure (5.2.3.2). */
static void acpi_gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0;
	p[3] = access;
	acpi_put64(p + 4, addr);
}

static int build_facs(struct acpi_blob *b, size_t *off)
{
	uint8_t *t;
	int ret = acpi_alloc(b, ACPI_FACS_LEN, 64, off);

	if (ret)
		return ret;
	t = b->p + *off;
	memcpy(t, "FACS", 4);
	acpi_put32(t + 4, ACPI_FACS_LEN);
	t[32] = 2;			/* version; no checksum in the FACS */
	return 0;
}

static int build_fadt(struct acpi_blob *b, const struct acpi_config *cfg, size_t facs, size_t dsdt,
		      size_t *off)
{
	uint16_t boot = FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_NO_VGA;
	uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON |
			 FADT_F_FIX_RTC;
	uint32_t pm = PORT_ACPI_PM_BASE;
	uint8_t *t;
	int ret = acpi_alloc(b, ACPI_FADT_LEN, 16, off);

	if (ret)
		return ret;
	t = b->p + *off;
	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	/* FIRMWARE_CTRL and DSDT: 32-bit (both loaders keep the tables below 4 GiB: X_FIRMWARE_CTRL
	 * stays 0); the pointers are filled in below, after the table's fields. */
	t[45] = 0;					/* Preferred_PM_Profile: unspecified */
	acpi_put16(t + 46, X86_SCI_IRQ);
	/* SMI_CMD = 0: no SMM; the system is in ACPI mode from reset (SCI_EN reads 1). */
	acpi_put32(t + 56, pm);				/* PM1a_EVT_BLK */
	acpi_put32(t + 64, pm + ACPI_PM_CNT_OFF);		/* PM1a_CNT_BLK */
	if (cfg->pm_timer)
		acpi_put32(t + 76, pm + ACPI_PM_TMR_REG_OFF);	/* PM_TMR_BLK */
	t[88] = PM1_EVT_LEN;
	t[89] = PM1_CNT_LEN;
	t[91] = cfg->pm_timer ? PM_TMR_LEN : 0;
	acpi_put16(t + 96, 101);				/* P_LVL2_LAT > 100: no C2 */
	acpi_put16(t + 98, 1001);				/* P_LVL3_LAT > 1000: no C3 */
	if (cfg->i8042) {
		boot |= FADT_BOOT_8042;
		flags |= FADT_F_RESET_REG_SUP;
		acpi_gas(t + 116, GAS_SYSTEM_IO, 8, 1, ACPI_RESET_PORT);
		t[128] = ACPI_RESET_VALUE;
	}
	if (cfg->pm_timer)
		flags |= FADT_F_TMR_VAL_EXT;
	acpi_put16(t + 109, boot);
	acpi_put32(t + 112, flags);
	t[131] = 0;					/* FADT minor version */
	acpi_gas(t + 148, GAS_SYSTEM_IO, 8 * PM1_EVT_LEN, 0, pm);
	acpi_gas(t + 172, GAS_SYSTEM_IO, 8 * PM1_CNT_LEN, 0, pm + ACPI_PM_CNT_OFF);
	if (cfg->pm_timer)
		acpi_gas(t + 208, GAS_SYSTEM_IO, 8 * PM_TMR_LEN, 0, pm + ACPI_PM_TMR_REG_OFF);
	memcpy(t + 268, "CKVM\0\0\0\0", 8);		/* Hypervisor Vendor Identity */
	ret = acpi_ptr(b, *off + 36, 4, facs);
	if (!ret)
		ret = acpi_ptr(b, *off + 40, 4, dsdt);
	if (!ret)
		ret = acpi_ptr(b, *off + 140, 8, dsdt);	/* X_DSDT */
	return ret ? ret : acpi_seal(b, *off);
}

static size_t madt_len(int ncpus, bool iso0)
{
	size_t n = ACPI_HDR_LEN + 8 + 12 + 10 + 6, x2 = 0;
	int i;

	for (i = 0; i < ncpus; i++)
		if (i < 0xff)
			n += 8;
		else
			x2++;
	if (iso0)
		n += 10;
	return n + x2 * 16 + (x2 ? 12 : 0);
}

static uint8_t *madt_iso(uint8_t *e, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	e[0] = MADT_ISO;
	e[1] = 10;
	e[2] = 0;			/* bus: ISA */
	e[3] = irq;
	acpi_put32(e + 4, gsi);
	acpi_put16(e + 8, flags);
	return e + 10;
}

static int build_madt(struct acpi_blob *b, const struct acpi_config *cfg, size_t *off)
{
	size_t len = madt_len(cfg->ncpus, !cfg->no_irq0_override);
	uint8_t *t, *e;
	int i, ret = acpi_alloc(b, len, 16, off);

	if (ret)
		return ret;
	t = b->p + *off;
	acpi_header(t, "APIC", (uint32_t)len, 5);
	acpi_put32(t + 36, (uint32_t)LAYOUT_LAPIC_GPA);
	acpi_put32(t + 40, MADT_PCAT_COMPAT);
	e = t + 44;
	for (i = 0; i < cfg->ncpus; i++) {
		if (i < 0xff) {
			e[0] = MADT_LAPIC;
			e[1] = 8;
			e[2] = (uint8_t)i;		/* ACPI processor UID */
			e[3] = (uint8_t)i;		/* APIC id */
			acpi_put32(e + 4, MADT_ENABLED);
			e += 8;
		} else {
			e[0] = MADT_X2APIC;
			e[1] = 16;
			acpi_put32(e + 4, (uint32_t)i);	/* x2APIC id */
			acpi_put32(e + 8, MADT_ENABLED);
			acpi_put32(e + 12, (uint32_t)i);	/* UID */
			e += 16;
		}
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = x86_ioapic_id(cfg->ncpus);
	acpi_put32(e + 4, (uint32_t)LAYOUT_IOAPIC_GPA);
	acpi_put32(e + 8, 0);				/* GSI base */
	e += 12;
	if (!cfg->no_irq0_override)
		e = madt_iso(e, 0, 2, 0);
	e = madt_iso(e, X86_SCI_IRQ, X86_SCI_IRQ, INTI_ACTIVE_HIGH | INTI_LEVEL);
	e[0] = MADT_LAPIC_NMI;
	e[1] = 6;
	e[2] = 0xff;					/* all processors */
	acpi_put16(e + 3, 0);
	e[5] = 1;					/* LINT1 */
	e += 6;
	if (cfg->ncpus > 0xff) {
		e[0] = MADT_X2APIC_NMI;
		e[1] = 12;
		acpi_put32(e + 4, 0xffffffff);
		e[8] = 1;
		e += 12;
	}
	if ((size_t)(e - t) != len)
		return -EINVAL;			/* broken invariant: madt_len() disagrees */
	return acpi_seal(b, *off);
}

static void dsdt_pci0(struct aml *a, const struct acpi_config *cfg)
{
	uint64_t mmio_end = cfg->pci_mmio_end ? cfg->pci_mmio_end : LAYOUT_PCI_MMIO_GPA + LAYOUT_PCI_MMIO_SIZE;

	uint8_t rbuf[256];
	struct aml r;
	unsigned slot, pin;

	aml_device_open(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A03");	/* conventional PCI: config via 0xcf8, no ECAM/MCFG */
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);

	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_word_bus(&r, 0x00, 0xff);
	aml_res_io(&r, PORT_PCI_CONFIG, PORT_PCI_CONFIG, 1, 8);
	aml_res_word_io(&r, 0x0000, PORT_PCI_CONFIG - 1);
	aml_res_word_io(&r, 0x0d00, 0xffff);
	aml_res_dword_memory(&r, (uint32_t)LAYOUT_PCI_MMIO_GPA, (uint32_t)(mmio_end - 1), 0);
	aml_name(a, "_CRS");
	aml_restemplate(a, &r);

	/* _PRT (6.2.13): Package { Address = slot << 16 | 0xffff, Pin, Source = 0, GSI } */
	aml_name(a, "_PRT");
	aml_package_open(a, PCI_MAX_SLOTS * PCI_INTX_PINS);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		for (pin = 0; pin < PCI_INTX_PINS; pin++) {
			aml_package_open(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, x86_pci_intx_gsi(slot, pin));
			aml_close(a);
		}
	aml_close(a);
	aml_close(a);		/* PCI0 */
}

static void dsdt_com1(struct aml *a)
{
	uint8_t rbuf[64];
	struct aml r;

	aml_device_open(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_integer(a, "_UID", 1);
	aml_init(&r, rbuf, sizeof(rbuf));
	aml_res_io(&r, PORT_COM1, PORT_COM1, 0, 8);
	aml_res_irq(&r, 1u << IRQ_COM1);
	aml_name(a, "_CRS");
	aml_restemplate(a, &r);
	aml_close(a);
}

static int build_dsdt(struct acpi_blob *b, const struct acpi_config *cfg, size_t *off)
{
	struct aml a;
	uint8_t *t;
	int ret = acpi_alloc(b, ACPI_HDR_LEN, 16, off);

	if (ret)
		return ret;
	t = b->p + *off;
	aml_init(&a, t + ACPI_HDR_LEN, b->cap - b->len);

	/* \_S5_: SLP_TYPa, SLP_TYPb, reserved, reserved (7.4.2) */
	aml_name(&a, "\\_S5");
	aml_package_open(&a, 4);
	aml_integer(&a, ACPI_PM_SLP_TYP_S5);
	aml_integer(&a, ACPI_PM_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_close(&a);

	aml_scope_open(&a, "\\_SB");
	dsdt_pci0(&a, cfg);
	dsdt_com1(&a);
	aml_close(&a);

	ret = aml_finish(&a);
	if (ret)
		return ret == -E2BIG ? -ENOSPC : ret;
	b->len += a.len;
	acpi_header(t, "DSDT", (uint32_t)(ACPI_HDR_LEN + a.len), 2);
	return acpi_seal(b, *off);
}

/* RSDT (32-bit entries) and XSDT (64-bit entries) listing the same tables. */
static int build_sdt(struct acpi_blob *b, const char *sig, unsigned width, const size_t *tabs, int n,
		     size_t *off)
{
	uint32_t len = ACPI_HDR_LEN + width * (unsigned)n;
	uint8_t *t;
	int i, ret = acpi_alloc(b, len, 16, off);

	if (ret)
		return ret;
	t = b->p + *off;
	acpi_header(t, sig, len, 1);
	for (i = 0; i < n && !ret; i++)
		ret = acpi_ptr(b, *off + ACPI_HDR_LEN + width * (unsigned)i, (uint8_t)width, tabs[i]);
	return ret ? ret : acpi_seal(b, *off);
}

/* The RSDP (5.2.5.3) at buffer offset 0: both checksums are recorded after every table's. */
static int build_rsdp(struct acpi_blob *b, size_t rsdt, size_t xsdt)
{
	uint8_t *r = b->p;
	int ret;

	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, ACPI_OEM_ID, 6);
	r[15] = 2;					/* revision: ACPI 2.0+ */
	acpi_put32(r + 20, ACPI_RSDP_LEN);
	ret = acpi_ptr(b, 16, 4, rsdt);
	if (!ret)
		ret = acpi_ptr(b, 24, 8, xsdt);
	if (!ret)
		ret = acpi_sum(b, 8, 0, 20);		/* ACPI 1.0 checksum: first 20 bytes */
	if (!ret)
		ret = acpi_sum(b, 32, 0, ACPI_RSDP_LEN);	/* extended checksum, covers byte 8 too */
	return ret;
}

void acpi_blob_free(struct acpi_blob *b)
{
	free(b->p);
	b->p = NULL;
}

void acpi_blob_relocate(struct acpi_blob *b, uint64_t delta)
{
	unsigned i;

	for (i = 0; i < b->nptr; i++) {
		uint8_t *f = b->p + b->ptr[i].off;

		if (b->ptr[i].size == 8)
			acpi_put64(f, acpi_get64(f) + delta);
		else
			acpi_put32(f, (uint32_t)(acpi_get32(f) + delta));
	}
}

int acpi_blob_build(struct acpi_blob *b, const struct acpi_config *cfg, size_t tables_align)
{
	size_t rsdp = 0, rsdt = 0, xsdt = 0, facs = 0, fadt = 0, madt = 0, dsdt = 0, tabs[2];
	int ret;

	memset(b, 0, sizeof(*b));
	if (!cfg || cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS ||
	    !tables_align || (tables_align & (tables_align - 1)))
		return -EINVAL;
	b->cap = LAYOUT_ACPI_MAX;
	b->p = calloc(1, b->cap);
	if (!b->p)
		return -ENOMEM;
	ret = acpi_alloc(b, ACPI_RSDP_LEN, 16, &rsdp);
	if (!ret)
		ret = acpi_alloc(b, 0, tables_align, &b->tables_off);
	if (!ret)
		ret = build_dsdt(b, cfg, &dsdt);
	if (!ret)
		ret = build_facs(b, &facs);
	if (!ret)
		ret = build_fadt(b, cfg, facs, dsdt, &fadt);
	if (!ret)
		ret = build_madt(b, cfg, &madt);
	tabs[0] = fadt;
	tabs[1] = madt;
	if (!ret)
		ret = build_sdt(b, "RSDT", 4, tabs, 2, &rsdt);
	if (!ret)
		ret = build_sdt(b, "XSDT", 8, tabs, 2, &xsdt);
	if (!ret)
		ret = build_rsdp(b, rsdt, xsdt);
	if (ret) {
		acpi_blob_free(b);
		return ret;
	}
	acpi_blob_seal(b);
	return 0;
}

int acpi_build(const struct guest_mem *gm, const struct acpi_config *cfg, uint64_t *rsdp_gpa)
{
	struct acpi_blob b;
	int ret;

	if (!cfg || cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (!gm_ptr(gm, LAYOUT_ACPI_GPA, LAYOUT_ACPI_MAX))
		return -EFAULT;
	ret = acpi_blob_build(&b, cfg, 16);
	if (ret)
		return ret;
	acpi_blob_relocate(&b, LAYOUT_ACPI_GPA);
	acpi_blob_seal(&b);
	/* Clear the whole area so stale bytes never look like a table. */
	ret = gm_write(gm, LAYOUT_ACPI_GPA, b.p, b.cap);
	acpi_blob_free(&b);
	if (ret)
		return ret;
	*rsdp_gpa = LAYOUT_ACPI_GPA;		/* the RSDP is at offset 0 */
	return 0;
}
