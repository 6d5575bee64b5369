/* ACPI tables and the AML emitter: byte-exact AML encodings, table checksums/lengths/pointers, MADT
 * contents for several CPU counts, FADT PM blocks, overflow errors. With ACPI_DUMP_DIR set, the tables
 * of a 4-vCPU machine are written there (dsdt.dat, facp.dat, apic.dat, facs.dat) for tests/acpi-iasl.sh. */
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/layout.h"
#include "dev/acpi_pm.h"
#include "test.h"

#define MEM_LEN 0x100000

static uint8_t *mem;
static struct guest_mem gm;

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table at gpa inside the ACPI area with a valid checksum and sane length, else NULL. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	if (gpa < LAYOUT_ACPI_GPA || gpa + ACPI_HDR_LEN > LAYOUT_ACPI_GPA + LAYOUT_ACPI_MAX)
		return NULL;
	t = gm_ptr(&gm, gpa, ACPI_HDR_LEN);
	len = rd32(t + 4);
	if (memcmp(t, sig, 4) || len < ACPI_HDR_LEN || gpa + len > LAYOUT_ACPI_GPA + LAYOUT_ACPI_MAX)
		return NULL;
	if (sum8(t, len) != 0)
		return NULL;
	return t;
}

/* Follow RSDP -> XSDT -> sig. */
static const uint8_t *find_table(uint64_t rsdp_gpa, const char *sig)
{
	const uint8_t *r = gm_ptr(&gm, rsdp_gpa, ACPI_RSDP_LEN), *x;
	uint32_t i, n;

	x = table_at(rd64(r + 24), "XSDT");
	if (!x)
		return NULL;
	n = (rd32(x + 4) - ACPI_HDR_LEN) / 8;
	for (i = 0; i < n; i++) {
		const uint8_t *t = gm_ptr(&gm, rd64(x + ACPI_HDR_LEN + 8 * i), 4);

		if (t && !memcmp(t, sig, 4))
			return table_at(rd64(x + ACPI_HDR_LEN + 8 * i), sig);
	}
	return NULL;
}

static const uint8_t *memfind(const uint8_t *h, size_t hl, const void *n, size_t nl)
{
	size_t i;

	for (i = 0; i + nl <= hl; i++)
		if (!memcmp(h + i, n, nl))
			return h + i;
	return NULL;
}

/* --- AML --- */

static void test_pkglen(void)
{
	uint8_t b[4];

	CHECK_EQ(aml_pkglen_encode(0x3f, b), 1);
	CHECK_EQ(b[0], 0x3f);
	CHECK_EQ(aml_pkglen_encode(0x40, b), 2);
	CHECK(b[0] == 0x40 && b[1] == 0x04);
	CHECK_EQ(aml_pkglen_encode(0xfff, b), 2);
	CHECK(b[0] == 0x4f && b[1] == 0xff);
	CHECK_EQ(aml_pkglen_encode(0x1000, b), 3);
	CHECK(b[0] == 0x80 && b[1] == 0x00 && b[2] == 0x01);
	CHECK_EQ(aml_pkglen_encode(0x12345, b), 3);
	CHECK(b[0] == 0x85 && b[1] == 0x34 && b[2] == 0x12);
	CHECK_EQ(aml_pkglen_encode(0x100000, b), 4);
	CHECK(b[0] == 0xc0 && b[1] == 0x00 && b[2] == 0x00 && b[3] == 0x01);
	CHECK_EQ(aml_pkglen_encode(1u << 28, b), 0);
}

/* A package whose body is n filler bytes: the length must pick the right encoding at the boundary. */
static void test_close_boundaries(void)
{
	static uint8_t buf[0x3000], fill[0x2000];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 0);
	aml_bytes(&a, fill, 61);		/* body 62 + 1 length byte = 63 */
	aml_close(&a);
	CHECK_EQ(aml_finish(&a), 0);
	CHECK_EQ(a.len, 64);
	CHECK(buf[0] == AML_PACKAGE_OP && buf[1] == 63 && buf[2] == 0);

	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 0);
	aml_bytes(&a, fill, 62);		/* body 63: 1 byte would make 64, so 2 bytes, 65 */
	aml_close(&a);
	CHECK_EQ(a.len, 66);
	CHECK(buf[1] == 0x41 && buf[2] == 0x04 && buf[3] == 0);

	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 0);
	aml_bytes(&a, fill, 0xffc);		/* body 0xffd: 2 bytes -> 0xfff */
	aml_close(&a);
	CHECK(buf[1] == 0x4f && buf[2] == 0xff);
	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 0);
	aml_bytes(&a, fill, 0xffd);		/* body 0xffe: 2 bytes would be 0x1000: 3 bytes, 0x1001 */
	aml_close(&a);
	CHECK(buf[1] == 0x81 && buf[2] == 0x00 && buf[3] == 0x01);
	CHECK_EQ(a.len, 1 + 3 + 0xffe);
}

static void test_integers(void)
{
	static const struct { uint64_t v; uint8_t enc[9]; size_t n; } c[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0xffff, { 0x0b, 0xff, 0xff }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xfec00000, { 0x0c, 0x00, 0x00, 0xc0, 0xfe }, 5 },
		{ 0x100000000ULL, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
		{ UINT64_MAX, { 0xff }, 1 },
		{ UINT64_MAX - 1, { 0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9 },
	};
	uint8_t buf[16];
	struct aml a;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, c[i].v);
		CHECK_EQ(a.len, c[i].n);
		CHECK(!memcmp(buf, c[i].enc, c[i].n));
	}
}

static void test_names(void)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "_SB");
	CHECK(a.len == 4 && !memcmp(buf, "_SB_", 4));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "\\_SB.PCI0");
	CHECK(a.len == 10 && !memcmp(buf, "\\\x2e_SB_PCI0", 10));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "\\_SB.PCI0.COM1");
	CHECK(a.len == 15 && !memcmp(buf, "\\\x2f\x03_SB_PCI0COM1", 15));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "^^S5");
	CHECK(a.len == 6 && !memcmp(buf, "^^S5__", 6));
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "\\");
	CHECK(a.len == 2 && buf[0] == '\\' && buf[1] == 0);
	CHECK_EQ(aml_finish(&a), 0);

	static const char *const bad[] = { "1ABC", "ABCDE", "a", "_SB.", "_SB..X", "\\.X", "A-B" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_namestring(&a, bad[i]);
		CHECK_EQ(aml_finish(&a), -EINVAL);
	}
	CHECK_EQ(aml_eisaid("PNP0A03"), 0x030ad041);
	CHECK_EQ(aml_eisaid("PNP0501"), 0x0105d041);
	CHECK_EQ(aml_eisaid("PNP0A0"), 0);
	CHECK_EQ(aml_eisaid("pnp0A03"), 0);
	CHECK_EQ(aml_eisaid("PNP0A0G"), 0);
}

static void test_constructs(void)
{
	static const uint8_t method[] = { 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f };
	static const uint8_t res[] = { 0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x00,
				       0x08, 0x22, 0x10, 0x00, 0x79, 0x00 };
	static const uint8_t dev[] = { 0x5b, 0x82, 0x0f, 'C', 'O', 'M', '1', 0x08, '_', 'H', 'I', 'D',
				       0x0c, 0x41, 0xd0, 0x05, 0x01 };
	static const uint8_t str[] = { 0x0d, 'a', 'b', 0x00 };
	uint8_t buf[128], rb[64];
	struct aml a, r;

	aml_init(&a, buf, sizeof(buf));
	aml_method_open(&a, "_STA", 0, 0);
	aml_return_integer(&a, 0x0f);
	aml_close(&a);
	CHECK(aml_finish(&a) == 0 && a.len == sizeof(method) && !memcmp(buf, method, sizeof(method)));

	aml_init(&r, rb, sizeof(rb));
	aml_res_io(&r, 0x3f8, 0x3f8, 0, 8);
	aml_res_irq(&r, 1u << 4);
	aml_init(&a, buf, sizeof(buf));
	aml_restemplate(&a, &r);
	CHECK(aml_finish(&a) == 0 && a.len == sizeof(res) && !memcmp(buf, res, sizeof(res)));

	aml_init(&a, buf, sizeof(buf));
	aml_device_open(&a, "COM1");
	aml_name_eisaid(&a, "_HID", "PNP0501");
	aml_close(&a);
	CHECK(aml_finish(&a) == 0 && a.len == sizeof(dev) && !memcmp(buf, dev, sizeof(dev)));

	aml_init(&a, buf, sizeof(buf));
	aml_string(&a, "ab");
	CHECK(a.len == 4 && !memcmp(buf, str, 4));

	/* Descriptor sizes: WordBus 16, WordIO 16, DWordMemory 26, Memory32Fixed 12. */
	aml_init(&r, rb, sizeof(rb));
	aml_res_word_bus(&r, 0, 0xff);
	CHECK(r.len == 16 && rb[0] == 0x88 && rb[1] == 13 && rb[3] == 2 && rb[14] == 0x00 && rb[15] == 0x01);
	aml_init(&r, rb, sizeof(rb));
	aml_res_dword_memory(&r, 0xc0000000, 0xdfffffff, 0);
	CHECK(r.len == 26 && rb[0] == 0x87 && rb[1] == 23 && rd32(rb + 10) == 0xc0000000 &&
	      rd32(rb + 14) == 0xdfffffff && rd32(rb + 22) == 0x20000000);
	aml_init(&r, rb, sizeof(rb));
	aml_res_memory32_fixed(&r, 0xfec00000, 0x1000, 1);
	CHECK(r.len == 12 && rb[0] == 0x86 && rb[3] == 1 && rd32(rb + 4) == 0xfec00000);
}

static void test_aml_errors(void)
{
	uint8_t buf[8];
	struct aml a;
	int i;

	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0x100000000ULL);	/* 9 bytes into 8 */
	CHECK_EQ(aml_finish(&a), -ENOSPC);
	i = (int)a.len;
	aml_integer(&a, 0);			/* sticky: nothing more is written */
	CHECK_EQ(a.len, i);
	CHECK(a.len <= sizeof(buf));

	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 1);
	CHECK_EQ(aml_finish(&a), -EINVAL);	/* unclosed */
	aml_close(&a);
	aml_close(&a);				/* one close too many */
	CHECK_EQ(aml_finish(&a), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	for (i = 0; i < AML_MAX_DEPTH + 1; i++)
		aml_scope_open(&a, "\\");
	CHECK(aml_finish(&a) != 0);

	/* Closing needs room to insert the length byte. */
	aml_init(&a, buf, 3);
	aml_package_open(&a, 1);
	aml_integer(&a, 5);
	aml_close(&a);
	CHECK_EQ(aml_finish(&a), -ENOSPC);
	aml_init(&a, buf, sizeof(buf));
	aml_method_open(&a, "FOO", 8, 0);
	CHECK_EQ(aml_finish(&a), -EINVAL);
	aml_init(&a, buf, sizeof(buf));
	aml_package_open(&a, 256);
	CHECK_EQ(aml_finish(&a), -EINVAL);
}

/* --- tables --- */

static void check_tables(int ncpus, bool timer)
{
	struct acpi_config cfg = { .ncpus = ncpus, .i8042 = true, .pm_timer = timer };
	const uint8_t *rsdp, *rsdt, *xsdt, *fadt, *madt, *dsdt, *facs, *e, *end;
	int lapics = 0, x2apics = 0, ioapics = 0, isos = 0, nmis = 0;
	uint64_t rsdp_gpa = 0;
	static const uint8_t s5[] = { '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, ACPI_PM_SLP_TYP_S5,
				      0x0a, ACPI_PM_SLP_TYP_S5, 0x00, 0x00 };

	memset(mem, 0xaa, MEM_LEN);
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), 0);
	CHECK_EQ(rsdp_gpa, LAYOUT_ACPI_GPA);
	CHECK_EQ(rsdp_gpa & 15, 0);
	rsdp = gm_ptr(&gm, rsdp_gpa, ACPI_RSDP_LEN);
	CHECK(!memcmp(rsdp, "RSD PTR ", 8));
	CHECK_EQ(sum8(rsdp, 20), 0);
	CHECK_EQ(sum8(rsdp, ACPI_RSDP_LEN), 0);
	CHECK_EQ(rsdp[15], 2);
	CHECK_EQ(rd32(rsdp + 20), ACPI_RSDP_LEN);

	rsdt = table_at(rd32(rsdp + 16), "RSDT");
	xsdt = table_at(rd64(rsdp + 24), "XSDT");
	CHECK(rsdt && xsdt);
	if (!rsdt || !xsdt)
		return;
	CHECK_EQ(rd32(xsdt + 4), ACPI_HDR_LEN + 16);
	CHECK_EQ(rd32(rsdt + ACPI_HDR_LEN), rd64(xsdt + ACPI_HDR_LEN));
	CHECK_EQ(rd32(rsdt + ACPI_HDR_LEN + 4), rd64(xsdt + ACPI_HDR_LEN + 8));

	fadt = find_table(rsdp_gpa, "FACP");
	madt = find_table(rsdp_gpa, "APIC");
	CHECK(fadt && madt);
	if (!fadt || !madt)
		return;
	CHECK_EQ(rd32(fadt + 4), ACPI_FADT_LEN);
	CHECK_EQ(fadt[8], 6);
	CHECK_EQ(fadt[46], 9);				/* SCI_INT */
	CHECK_EQ(rd32(fadt + 48), 0);			/* SMI_CMD */
	CHECK_EQ(rd32(fadt + 56), PORT_ACPI_PM_BASE);
	CHECK_EQ(rd32(fadt + 64), PORT_ACPI_PM_BASE + 4);
	CHECK_EQ(rd32(fadt + 76), timer ? PORT_ACPI_PM_BASE + 8 : 0);
	CHECK(fadt[88] == 4 && fadt[89] == 2 && fadt[91] == (timer ? 4 : 0));
	CHECK(rd32(fadt + 112) & 1);			/* WBINVD */
	CHECK(!(rd32(fadt + 112) & (1u << 20)));	/* not HW_REDUCED */
	CHECK_EQ(!!(rd32(fadt + 112) & (1u << 8)), timer);
	CHECK(fadt[109] & 2);				/* 8042 */
	CHECK(fadt[148] == 1 && fadt[149] == 32 && rd64(fadt + 152) == PORT_ACPI_PM_BASE);
	CHECK(fadt[172] == 1 && fadt[173] == 16 && rd64(fadt + 176) == PORT_ACPI_PM_BASE + 4);
	CHECK(fadt[116] == 1 && rd64(fadt + 120) == 0x64 && fadt[128] == 0xfe);
	CHECK_EQ(rd64(fadt + 140), rd32(fadt + 40));
	dsdt = table_at(rd64(fadt + 140), "DSDT");
	CHECK(dsdt != NULL);
	facs = gm_ptr(&gm, rd32(fadt + 36), ACPI_FACS_LEN);
	CHECK(facs && !memcmp(facs, "FACS", 4) && rd32(facs + 4) == ACPI_FACS_LEN);
	CHECK_EQ(rd32(fadt + 36) & 63, 0);
	if (dsdt) {
		CHECK(memfind(dsdt, rd32(dsdt + 4), s5, sizeof(s5)) != NULL);
		CHECK(memfind(dsdt, rd32(dsdt + 4), "PCI0", 4) != NULL);
		CHECK(memfind(dsdt, rd32(dsdt + 4), "_PRT", 4) != NULL);
		CHECK(memfind(dsdt, rd32(dsdt + 4), "COM1", 4) != NULL);
	}

	CHECK_EQ(madt[8], 5);
	CHECK_EQ(rd32(madt + 36), LAYOUT_LAPIC_GPA);
	CHECK_EQ(rd32(madt + 40), 1);			/* PCAT_COMPAT */
	e = madt + 44;
	end = madt + rd32(madt + 4);
	while (e + 2 <= end && e[1] >= 2 && e + e[1] <= end) {
		switch (e[0]) {
		case 0:
			CHECK(e[1] == 8 && e[3] == lapics && rd32(e + 4) == 1);
			lapics++;
			break;
		case 1:
			CHECK(e[2] == (ncpus < 0xfe ? ncpus : 0xfe) && rd32(e + 4) == LAYOUT_IOAPIC_GPA &&
			      rd32(e + 8) == 0);
			ioapics++;
			break;
		case 2:
			CHECK((e[3] == 0 && rd32(e + 4) == 2) ||
			      (e[3] == 9 && rd32(e + 4) == 9 && e[8] == 0x0d));
			isos++;
			break;
		case 4:
			CHECK(e[2] == 0xff && e[5] == 1);
			nmis++;
			break;
		case 9:
			CHECK(rd32(e + 4) == (uint32_t)(255 + x2apics));
			x2apics++;
			break;
		}
		e += e[1];
	}
	CHECK(e == end);
	CHECK_EQ(lapics, ncpus < 255 ? ncpus : 255);
	CHECK_EQ(x2apics, ncpus < 255 ? 0 : ncpus - 255);
	CHECK_EQ(ioapics, 1);
	CHECK_EQ(isos, 2);
	CHECK_EQ(nmis, 1);
	/* Nothing outside the ACPI area was touched. */
	CHECK(mem[LAYOUT_ACPI_GPA - 1] == 0xaa && mem[LAYOUT_ACPI_GPA + LAYOUT_ACPI_MAX] == 0xaa);
}

static void test_tables(void)
{
	static const int n[] = { 1, 2, 4, 64, 254, 255, 300 };
	size_t i;

	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		check_tables(n[i], i & 1);
}

static void test_prt(void)
{
	struct acpi_config cfg = { .ncpus = 1 };
	const uint8_t *dsdt, *p;
	uint64_t rsdp_gpa;
	/* Package { 0x0003FFFF, 1 (INTB), Zero, GSI 16 + (3 + 1) % 8 = 20 } */
	static const uint8_t ent[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00, 0x01, 0x00,
				       0x0a, 20 };

	CHECK_EQ(x86_pci_intx_gsi(0, 0), 16);
	CHECK_EQ(x86_pci_intx_gsi(7, 1), 16);
	CHECK_EQ(x86_pci_intx_gsi(31, 3), 18);
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), 0);
	dsdt = find_table(rsdp_gpa, "FACP");
	CHECK(dsdt != NULL);
	if (!dsdt)
		return;
	dsdt = table_at(rd64(dsdt + 140), "DSDT");
	CHECK(dsdt != NULL);
	if (!dsdt)
		return;
	p = memfind(dsdt, rd32(dsdt + 4), ent, sizeof(ent));
	CHECK(p != NULL);
}

static void test_errors(void)
{
	struct acpi_config cfg = { .ncpus = 0 };
	struct guest_mem small = { 0 };
	uint64_t rsdp_gpa = 0x1234;

	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), -EINVAL);
	cfg.ncpus = -1;
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), -EINVAL);
	cfg.ncpus = ACPI_MAX_CPUS + 1;
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), -EINVAL);
	CHECK_EQ(acpi_build(&gm, NULL, &rsdp_gpa), -EINVAL);
	/* 4096 CPUs need 61 KiB of MADT: with the DSDT the tables exceed 64 KiB. Memory untouched. */
	memset(mem, 0xaa, MEM_LEN);
	cfg.ncpus = ACPI_MAX_CPUS;
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), -ENOSPC);
	CHECK(mem[LAYOUT_ACPI_GPA] == 0xaa && mem[LAYOUT_ACPI_GPA + 0x8000] == 0xaa);
	CHECK_EQ(rsdp_gpa, 0x1234);
	/* Guest RAM that ends before the ACPI area. */
	CHECK_EQ(gm_add_region(&small, 0, 0x80000, mem), 0);
	cfg.ncpus = 1;
	CHECK_EQ(acpi_build(&small, &cfg, &rsdp_gpa), -EFAULT);
}

static void dump(const char *dir, const char *name, const uint8_t *t, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(t, 1, len, f), len);
	fclose(f);
}

static void test_dump(void)
{
	struct acpi_config cfg = { .ncpus = 4, .i8042 = true, .pm_timer = true };
	const char *dir = getenv("ACPI_DUMP_DIR");
	const uint8_t *fadt, *madt, *dsdt, *facs;
	uint64_t rsdp_gpa;

	if (!dir)
		return;
	CHECK_EQ(acpi_build(&gm, &cfg, &rsdp_gpa), 0);
	fadt = find_table(rsdp_gpa, "FACP");
	madt = find_table(rsdp_gpa, "APIC");
	CHECK(fadt && madt);
	if (!fadt || !madt)
		return;
	dsdt = table_at(rd64(fadt + 140), "DSDT");
	facs = gm_ptr(&gm, rd32(fadt + 36), ACPI_FACS_LEN);
	CHECK(dsdt && facs);
	if (!dsdt || !facs)
		return;
	dump(dir, "facp.dat", fadt, rd32(fadt + 4));
	dump(dir, "apic.dat", madt, rd32(madt + 4));
	dump(dir, "dsdt.dat", dsdt, rd32(dsdt + 4));
	dump(dir, "facs.dat", facs, ACPI_FACS_LEN);
}

int main(void)
{
	mem = calloc(1, MEM_LEN);
	if (!mem || gm_add_region(&gm, 0, MEM_LEN, mem))
		return 1;
	RUN(test_pkglen);
	RUN(test_close_boundaries);
	RUN(test_integers);
	RUN(test_names);
	RUN(test_constructs);
	RUN(test_aml_errors);
	RUN(test_tables);
	RUN(test_prt);
	RUN(test_errors);
	RUN(test_dump);
	free(mem);
	return test_summary();
}
