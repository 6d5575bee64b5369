/* ACPI through fw_cfg's table-loader (arch/x86/acpi_fwcfg.c): the files are read back through the
 * device's ports, the "etc/table-loader" script is executed here by a small interpreter with
 * SeaBIOS's semantics (src/fw/romfile_loader.c: ALLOCATE copies a file into a zone, ADD_POINTER adds
 * an allocated file's address to a field, ADD_CHECKSUM subtracts the range's byte sum), and the
 * placed tables are then found the way an OS finds them (RSDP scan of the BIOS area) and compared with
 * the direct-boot tables of the same machine. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "dev/fw_cfg.h"
#include "test.h"

#define MEM_LEN		0x1000000	/* 16 MiB of fake guest memory */
#define FSEG_START	0xf1230		/* where the fake firmware's F-segment heap starts (unaligned) */
#define FSEG_END	0x100000
#define HIGH_START	0xabc010	/* and its high heap */
#define ENTRY_LEN	128
#define NAME_LEN	56
#define MAX_FILES	8

static uint8_t *mem;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* --- the guest side of fw_cfg, through the port interface --- */
static void sel(struct fw_cfg *f, uint16_t key)
{
	uint8_t b[2] = { (uint8_t)key, (uint8_t)(key >> 8) };

	fw_cfg_bus_ops.write(f, 0, b, 2);
}

static void rd(struct fw_cfg *f, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fw_cfg_bus_ops.read(f, 1, (uint8_t *)buf + i, 1);
}

struct file {
	char name[NAME_LEN];
	uint8_t *data;
	uint32_t size;
	uint16_t key;
	uint64_t gpa;		/* 0 until allocated */
};

struct files {
	struct file f[MAX_FILES];
	int n;
};

/* Read the directory and every file whose name starts with "etc/", as SeaBIOS's qemu_cfg_init does. */
static void read_files(struct fw_cfg *f, struct files *fs)
{
	uint8_t b[4], ent[64];
	uint32_t count, i;

	memset(fs, 0, sizeof(*fs));
	sel(f, FW_CFG_FILE_DIR);
	rd(f, b, 4);
	count = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	CHECK(count >= 3 && count <= MAX_FILES);
	for (i = 0; i < count && i < MAX_FILES; i++) {
		rd(f, ent, sizeof(ent));
		struct file *x = &fs->f[fs->n++];

		x->size = (uint32_t)ent[0] << 24 | (uint32_t)ent[1] << 16 | (uint32_t)ent[2] << 8 | ent[3];
		x->key = (uint16_t)(ent[4] << 8 | ent[5]);
		memcpy(x->name, ent + 8, NAME_LEN);
		x->name[NAME_LEN - 1] = 0;
	}
	for (int k = 0; k < fs->n; k++) {
		struct file *x = &fs->f[k];

		x->data = calloc(1, x->size ? x->size : 1);
		sel(f, x->key);
		rd(f, x->data, x->size);
	}
}

static void free_files(struct files *fs)
{
	for (int k = 0; k < fs->n; k++)
		free(fs->f[k].data);
	fs->n = 0;
}

static struct file *lookup(struct files *fs, const uint8_t *name)
{
	if (memchr(name, 0, NAME_LEN) == NULL)
		return NULL;		/* SeaBIOS: a name must end inside its 56 bytes */
	for (int k = 0; k < fs->n; k++)
		if (!strcmp(fs->f[k].name, (const char *)name))
			return &fs->f[k];
	return NULL;
}

static struct file *by_name(struct files *fs, const char *name)
{
	uint8_t b[NAME_LEN] = { 0 };

	memcpy(b, name, strlen(name));
	return lookup(fs, b);
}

static uint64_t fseg_next, high_next;

/* Run the script in memory; the number of commands that SeaBIOS would have rejected. */
static int run_loader(struct files *fs, const struct file *script)
{
	int errors = 0;

	CHECK(script->size % ENTRY_LEN == 0);
	for (uint32_t at = 0; at + ENTRY_LEN <= script->size; at += ENTRY_LEN) {
		const uint8_t *e = script->data + at;
		uint32_t cmd = le32(e);
		struct file *a = lookup(fs, e + 4), *s;

		if (cmd == 1) {			/* ALLOCATE file[56] align zone */
			uint32_t align = le32(e + 4 + NAME_LEN);
			uint8_t zone = e[8 + NAME_LEN];
			uint64_t *next = zone == 2 ? &fseg_next : zone == 1 ? &high_next : NULL;

			if (!a || a->gpa || !next || !align || (align & (align - 1))) {
				errors++;
				continue;
			}
			a->gpa = (*next + align - 1) & ~(uint64_t)(align - 1);
			*next = a->gpa + a->size;
			if (zone == 2 && *next > FSEG_END) {
				errors++;
				continue;
			}
			memcpy(mem + a->gpa, a->data, a->size);
		} else if (cmd == 2) {		/* ADD_POINTER dest[56] src[56] offset size */
			uint32_t off = le32(e + 4 + 2 * NAME_LEN);
			uint8_t size = e[8 + 2 * NAME_LEN];
			uint64_t v = 0;

			s = lookup(fs, e + 4 + NAME_LEN);
			if (!a || !s || !a->gpa || !s->gpa || (size != 1 && size != 2 && size != 4 &&
			    size != 8) || off + size < off || off + size > a->size) {
				errors++;
				continue;
			}
			memcpy(&v, mem + a->gpa + off, size);	/* little-endian host, as the guest */
			v += s->gpa;
			memcpy(mem + a->gpa + off, &v, size);
		} else if (cmd == 3) {		/* ADD_CHECKSUM file[56] offset start length */
			uint32_t off = le32(e + 4 + NAME_LEN), start = le32(e + 8 + NAME_LEN);
			uint32_t len = le32(e + 12 + NAME_LEN);

			if (!a || !a->gpa || off >= a->size || start + len < start || start + len > a->size) {
				errors++;
				continue;
			}
			mem[a->gpa + off] = (uint8_t)(mem[a->gpa + off] - sum8(mem + a->gpa + start, len));
		} else {
			errors++;		/* ckvm emits no other command */
		}
	}
	return errors;
}

/* A table at gpa with the signature, a sane length inside memory and a byte sum of 0, else NULL. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint32_t len;

	if (gpa < 0x1000 || gpa + ACPI_HDR_LEN > MEM_LEN)
		return NULL;
	t = mem + gpa;
	len = le32(t + 4);
	if (memcmp(t, sig, 4) || len < ACPI_HDR_LEN || gpa + len > MEM_LEN || sum8(t, len))
		return NULL;
	return t;
}

/* The OS's search (ACPI 5.2.5.1): "RSD PTR " on a 16-byte boundary of 0xe0000-0xfffff with a valid
 * 20-byte checksum. */
static uint64_t find_rsdp(void)
{
	for (uint64_t gpa = 0xe0000; gpa < 0x100000; gpa += 16)
		if (!memcmp(mem + gpa, "RSD PTR ", 8) && !sum8(mem + gpa, 20))
			return gpa;
	return 0;
}

/* The direct-boot tables of the same machine, for comparison. */
static uint8_t *direct_mem;
static struct guest_mem direct_gm;

static const uint8_t *direct_table(const struct acpi_config *cfg, const char *sig)
{
	uint64_t rsdp = 0;
	const uint8_t *x, *fadt = NULL;

	memset(&direct_gm, 0, sizeof(direct_gm));
	if (gm_add_region(&direct_gm, 0, 0x100000, direct_mem) || acpi_build(&direct_gm, cfg, &rsdp))
		return NULL;
	x = direct_mem + le64(direct_mem + rsdp + 24);
	for (uint32_t i = 0; i < (le32(x + 4) - ACPI_HDR_LEN) / 8; i++) {
		const uint8_t *t = direct_mem + le64(x + ACPI_HDR_LEN + 8 * i);

		if (!memcmp(t, sig, 4))
			return t;
		if (!memcmp(t, "FACP", 4))
			fadt = t;
	}
	if (!strcmp(sig, "DSDT") && fadt)
		return direct_mem + le64(fadt + 140);
	return NULL;
}

/* Build for cfg, load as the firmware would, and check everything an OS follows. */
static void load_and_check(const struct acpi_config *cfg)
{
	struct fw_cfg *f = NULL;
	struct fw_cfg_config fc = { 0 };
	struct files fs;
	struct file *tables, *rsdpf, *script;
	const uint8_t *r, *rsdt, *xsdt, *fadt = NULL, *madt = NULL, *dsdt, *facs, *d;
	uint64_t rsdp;
	uint32_t n, i, lapics = 0;

	memset(mem, 0, MEM_LEN);
	fseg_next = FSEG_START;
	high_next = HIGH_START;
	CHECK_EQ(fw_cfg_create(&f, &fc), 0);
	if (!f)
		return;
	CHECK_EQ(acpi_add_fw_cfg(f, cfg), 0);
	read_files(f, &fs);
	tables = by_name(&fs, "etc/acpi/tables");
	rsdpf = by_name(&fs, "etc/acpi/rsdp");
	script = by_name(&fs, "etc/table-loader");
	CHECK(tables && rsdpf && script);
	if (!tables || !rsdpf || !script)
		goto out;
	CHECK_EQ(rsdpf->size, ACPI_RSDP_LEN);
	CHECK_EQ(run_loader(&fs, script), 0);
	CHECK(tables->gpa && tables->gpa % 64 == 0);
	CHECK(rsdpf->gpa >= 0xe0000 && rsdpf->gpa < 0x100000 && rsdpf->gpa % 16 == 0);

	rsdp = find_rsdp();
	CHECK_EQ(rsdp, rsdpf->gpa);
	if (!rsdp)
		goto out;
	r = mem + rsdp;
	CHECK_EQ(sum8(r, ACPI_RSDP_LEN), 0);
	CHECK_EQ(r[15], 2);
	rsdt = table_at(le32(r + 16), "RSDT");
	xsdt = table_at(le64(r + 24), "XSDT");
	CHECK(rsdt && xsdt);
	if (!rsdt || !xsdt)
		goto out;
	n = (le32(xsdt + 4) - ACPI_HDR_LEN) / 8;
	CHECK_EQ(n, 2);
	CHECK_EQ((le32(rsdt + 4) - ACPI_HDR_LEN) / 4, n);
	for (i = 0; i < n; i++) {
		uint64_t gpa = le64(xsdt + ACPI_HDR_LEN + 8 * i);

		CHECK_EQ(le32(rsdt + ACPI_HDR_LEN + 4 * i), gpa);
		CHECK(gpa >= tables->gpa && gpa < tables->gpa + tables->size);
		if (table_at(gpa, "FACP"))
			fadt = mem + gpa;
		if (table_at(gpa, "APIC"))
			madt = mem + gpa;
	}
	CHECK(fadt && madt);
	if (!fadt || !madt)
		goto out;
	dsdt = table_at(le64(fadt + 140), "DSDT");
	CHECK(dsdt != NULL);
	CHECK_EQ(le32(fadt + 40), le64(fadt + 140));
	facs = mem + le32(fadt + 36);
	CHECK(le32(fadt + 36) % 64 == 0 && !memcmp(facs, "FACS", 4));

	/* Every vCPU in the MADT (type 0 below APIC id 255, type 9 above). */
	for (const uint8_t *e = madt + 44; e < madt + le32(madt + 4) && e[1]; e += e[1])
		if (e[0] == 0 || e[0] == 9)
			lapics++;
	CHECK_EQ(lapics, cfg->ncpus);

	/* The same tables as direct boot: MADT and DSDT byte for byte, the FADT but for its
	 * pointers and checksum. */
	d = direct_table(cfg, "APIC");
	CHECK(d && !memcmp(d, madt, le32(madt + 4)));
	d = direct_table(cfg, "DSDT");
	CHECK(d && dsdt && le32(d + 4) == le32(dsdt + 4) && !memcmp(d, dsdt, le32(dsdt + 4)));
	d = direct_table(cfg, "FACP");
	CHECK(d != NULL);
	if (d) {
		for (i = 0; i < ACPI_FADT_LEN; i++)
			if (i != 9 && !(i >= 36 && i < 44) && !(i >= 140 && i < 148) && d[i] != fadt[i])
				break;
		CHECK_EQ(i, ACPI_FADT_LEN);
	}
out:
	free_files(&fs);
	fw_cfg_destroy(f);
}

static void test_load_1cpu(void)
{
	struct acpi_config c = { .ncpus = 1, .i8042 = true, .pm_timer = true };

	load_and_check(&c);
}

static void test_load_2cpu(void)
{
	struct acpi_config c = { .ncpus = 2, .i8042 = true, .pm_timer = true };

	load_and_check(&c);
}

static void test_load_x2apic(void)
{
	struct acpi_config c = { .ncpus = 300, .no_irq0_override = true };

	load_and_check(&c);
}

/* --bios: the DSDT's PCI0 _CRS reaches up to SeaBIOS's BARs below the IOAPIC (DWordMemory maximum
 * 0xfebfffff instead of the direct-boot window's 0xdfffffff). */
static void test_fw_window(void)
{
	struct acpi_config c = { .ncpus = 2, .pci_mmio_end = 0xfec00000 };
	static const uint8_t fw_max[4] = { 0xff, 0xff, 0xbf, 0xfe }, direct_max[4] = { 0xff, 0xff, 0xff, 0xdf };
	struct acpi_blob b;
	bool fw = false, direct = false;

	CHECK_EQ(acpi_blob_build(&b, &c, 64), 0);
	for (size_t i = 0; b.p && i + 4 <= b.len; i++) {
		fw |= !memcmp(b.p + i, fw_max, 4);
		direct |= !memcmp(b.p + i, direct_max, 4);
	}
	CHECK(fw && !direct);
	acpi_blob_free(&b);
	c.pci_mmio_end = 0;
	fw = direct = false;
	CHECK_EQ(acpi_blob_build(&b, &c, 64), 0);
	for (size_t i = 0; b.p && i + 4 <= b.len; i++) {
		fw |= !memcmp(b.p + i, fw_max, 4);
		direct |= !memcmp(b.p + i, direct_max, 4);
	}
	CHECK(!fw && direct);
	acpi_blob_free(&b);
}

/* The script alone: every command SeaBIOS knows, names terminated, the RSDP in the F segment. */
static void test_script_shape(void)
{
	struct acpi_config c = { .ncpus = 4, .i8042 = true };
	struct fw_cfg *f = NULL;
	struct fw_cfg_config fc = { 0 };
	struct files fs;
	struct file *script;
	int alloc = 0, ptr = 0, sum = 0;

	CHECK_EQ(fw_cfg_create(&f, &fc), 0);
	CHECK_EQ(acpi_add_fw_cfg(f, &c), 0);
	read_files(f, &fs);
	script = by_name(&fs, "etc/table-loader");
	CHECK(script != NULL);
	for (uint32_t at = 0; script && at < script->size; at += ENTRY_LEN) {
		const uint8_t *e = script->data + at;

		alloc += le32(e) == 1;
		ptr += le32(e) == 2;
		sum += le32(e) == 3;
		if (le32(e) == 1 && !strcmp((const char *)e + 4, "etc/acpi/rsdp"))
			CHECK_EQ(e[8 + NAME_LEN], 2);		/* FSEG */
		if (le32(e) == 1 && !strcmp((const char *)e + 4, "etc/acpi/tables"))
			CHECK_EQ(e[8 + NAME_LEN], 1);		/* HIGH */
	}
	CHECK_EQ(alloc, 2);
	CHECK_EQ(ptr, 9);	/* RSDP 2, RSDT 2, XSDT 2, FADT 3 */
	CHECK_EQ(sum, 7);	/* DSDT FADT MADT RSDT XSDT, RSDP twice */
	free_files(&fs);
	fw_cfg_destroy(f);
}

static void test_errors(void)
{
	struct acpi_config bad = { .ncpus = 0 }, big = { .ncpus = ACPI_MAX_CPUS + 1 };
	struct acpi_config c = { .ncpus = 2 };
	struct fw_cfg *f = NULL;
	struct fw_cfg_config fc = { 0 };
	struct acpi_blob b;

	CHECK_EQ(fw_cfg_create(&f, &fc), 0);
	CHECK_EQ(acpi_add_fw_cfg(f, &bad), -EINVAL);
	CHECK_EQ(acpi_add_fw_cfg(f, &big), -EINVAL);
	CHECK_EQ(acpi_add_fw_cfg(f, &c), 0);
	CHECK_EQ(acpi_add_fw_cfg(f, &c), -EEXIST);	/* the files are there already */
	fw_cfg_destroy(f);
	CHECK_EQ(acpi_blob_build(&b, &c, 3), -EINVAL);	/* alignment not a power of two */
	CHECK_EQ(acpi_blob_build(&b, &c, 0), -EINVAL);
}

int main(void)
{
	mem = calloc(1, MEM_LEN);
	direct_mem = calloc(1, 0x100000);
	if (!mem || !direct_mem)
		return 1;
	RUN(test_load_1cpu);
	RUN(test_load_2cpu);
	RUN(test_load_x2apic);
	RUN(test_fw_window);
	RUN(test_script_shape);
	RUN(test_errors);
	free(mem);
	free(direct_mem);
	return test_summary();
}
