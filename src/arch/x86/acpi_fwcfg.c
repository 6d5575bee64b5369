/* ACPI tables for firmware boot: acpi.c's tables handed to the BIOS as the fw_cfg files
 * "etc/acpi/rsdp" and "etc/acpi/tables" plus an "etc/table-loader" script, the way QEMU hands them to
 * SeaBIOS (its src/fw/romfile_loader.c runs the script; QEMU docs: hw/acpi/bios-linker-loader.c).
 * The firmware, not ckvm, decides where the tables land, so every pointer is patched by the loader.
 * Setup time only, main thread. */
#include "arch/x86/acpi.h"

#include <errno.h>

#include "dev/fw_cfg.h"
#include "dev/fw_cfg_loader.h"

#define FILE_RSDP	"etc/acpi/rsdp"
#define FILE_TABLES	"etc/acpi/tables"
#define FILE_LOADER	"etc/table-loader"

/* The FACS must sit on a 64-byte boundary (ACPI 5.2.10): the tables file is allocated with that
 * alignment and the builder starts the tables on it, so offsets aligned in the buffer stay aligned. */
#define TABLES_ALIGN	64
/* An OS looks for the RSDP on 16-byte boundaries of the BIOS area (5.2.5.1). */
#define RSDP_ALIGN	16

/* Which file a buffer offset belongs to, and the offset inside that file. */
static const char *file_of(const struct acpi_blob *b, size_t off, uint32_t *in_file)
{
	if (off < b->tables_off) {
		*in_file = (uint32_t)off;
		return FILE_RSDP;
	}
	*in_file = (uint32_t)(off - b->tables_off);
	return FILE_TABLES;
}

/* The script: allocate both files, then every pointer (all point into the tables file), then every
 * checksum in the builder's order, so each checksum is taken over patched pointers. */
static int build_script(struct fw_loader *l, const struct acpi_blob *b)
{
	const char *file, *end;
	uint32_t at, start;
	unsigned i;
	int ret;

	ret = fw_loader_allocate(l, FILE_TABLES, TABLES_ALIGN, FW_LOADER_ZONE_HIGH);
	if (!ret)
		ret = fw_loader_allocate(l, FILE_RSDP, RSDP_ALIGN, FW_LOADER_ZONE_FSEG);
	for (i = 0; i < b->nptr && !ret; i++) {
		file = file_of(b, b->ptr[i].off, &at);
		ret = fw_loader_add_pointer(l, file, FILE_TABLES, at, b->ptr[i].size);
	}
	for (i = 0; i < b->nsum && !ret; i++) {
		/* a checksum never straddles the RSDP and the tables (each covers one table) */
		end = file_of(b, (size_t)b->sum[i].start + b->sum[i].len - 1, &at);
		file = file_of(b, b->sum[i].start, &start);
		if (file != end || file != file_of(b, b->sum[i].off, &at))
			return -EINVAL;
		ret = fw_loader_add_checksum(l, file, at, start, b->sum[i].len);
	}
	return ret;
}

int acpi_add_fw_cfg(struct fw_cfg *f, const struct acpi_config *cfg)
{
	struct fw_loader l = { 0 };
	struct acpi_blob b;
	unsigned i;
	int ret;

	ret = acpi_blob_build(&b, cfg, TABLES_ALIGN);
	if (ret)
		return ret;
	/* The pointer fields hold buffer offsets; the loader adds the address of the tables file, so
	 * they must hold offsets into that file. Every target is a table, past tables_off. */
	for (i = 0; i < b.nptr; i++) {
		const uint8_t *p = b.p + b.ptr[i].off;
		uint64_t target = b.ptr[i].size == 8 ? acpi_get64(p) : acpi_get32(p);

		if (target < b.tables_off || target >= b.len) {
			ret = -EINVAL;		/* broken invariant: a pointer outside the tables */
			goto out;
		}
	}
	acpi_blob_relocate(&b, (uint64_t)0 - b.tables_off);
	acpi_blob_seal(&b);		/* consistent files: a reader that skips the script sees sums of 0 */
	ret = build_script(&l, &b);
	if (!ret)
		ret = fw_cfg_add_file(f, FILE_TABLES, b.p + b.tables_off, b.len - b.tables_off, NULL);
	if (!ret)
		ret = fw_cfg_add_file(f, FILE_RSDP, b.p, ACPI_RSDP_LEN, NULL);
	if (!ret)
		ret = fw_cfg_add_file(f, FILE_LOADER, l.buf, l.len, NULL);
out:
	fw_loader_free(&l);
	acpi_blob_free(&b);
	return ret;
}
