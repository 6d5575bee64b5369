/* Firmware boot (--bios): SeaBIOS's 128 KiB bios.bin as RAM at 0xe0000 (its own slot) plus a read-only
 * copy below 4 GiB for the reset vector; fw_cfg (QEMU docs/specs/fw_cfg.rst) with what SeaBIOS reads in
 * src/fw/paravirt.c; port 0x92; the primary ATA channel with a PCI IDE function (src/hw/ata.c).
 * Main thread, during setup; the devices then run on vCPU threads. */
#include "arch/x86/board_fw.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "arch/x86/acpi.h"
#include "arch/x86/board.h"
#include "arch/x86/board_devices.h"
#include "arch/x86/layout.h"
#include "backend/blk_file.h"
#include "dev/ata.h"
#include "dev/ata_pci.h"
#include "dev/fw_cfg.h"
#include "dev/pci.h"
#include "dev/port92.h"
#include "log.h"

/* KVM slots beyond the RAM regions' (which take 0 .. GM_MAX_REGIONS - 1) */
#define SLOT_FW_LOW	(GM_MAX_REGIONS + 0)
#define SLOT_RAM_TAIL	(GM_MAX_REGIONS + 1)	/* the RAM after the low image, 1 MiB up */
#define SLOT_FW_HIGH	(GM_MAX_REGIONS + 2)

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int board_fw_e820(const struct e820_table *t, uint8_t *buf, size_t cap)
{
	size_t len = (size_t)t->nr * FW_E820_ENTRY_LEN;

	if (t->nr < 0 || len > cap)
		return -ENOSPC;
	for (int i = 0; i < t->nr; i++) {
		uint8_t *p = buf + (size_t)i * FW_E820_ENTRY_LEN;

		put_le(p, t->e[i].addr, 8);
		put_le(p + 8, t->e[i].size, 8);
		put_le(p + 16, t->e[i].type, 4);
	}
	return (int)len;
}

int board_fw_bootorder(const struct vm_config *cfg, const int *disk_slot, int ide_slot, char *buf,
		       size_t cap)
{
	size_t len = 0;
	int i, n, ide = 0;

	if (!cap)
		return -ENOSPC;
	buf[0] = '\0';
	if (cfg->floppy) {	/* drive A: first, as on a PC */
		n = snprintf(buf, cap, "/rom@" FW_FLOPPY_FILE "\n");
		if (n < 0 || (size_t)n >= cap)
			return -ENOSPC;
		len = (size_t)n;
	}
	for (i = 0; i < cfg->ndisks; i++) {
		if (cfg->disks[i].ide)
			n = snprintf(buf + len, cap - len, FW_PCI_ROOT "/ide@%x/drive@0/disk@%x\n",
				     (unsigned)ide_slot, (unsigned)ide++);
		else
			n = snprintf(buf + len, cap - len, FW_PCI_ROOT "/scsi@%x/disk@0,0\n",
				     (unsigned)disk_slot[i]);
		if (n < 0 || (size_t)n >= cap - len)
			return -ENOSPC;
		len += (size_t)n;
	}
	return (int)len;
}

int board_fw_load(struct board *b)
{
	int ret = board_map_file("firmware", b->cfg->bios, &b->bios_map, &b->bios_len);

	if (ret)
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	if (b->bios_len != LAYOUT_FW_SIZE) {
		log_err(NULL, "--bios %s: %zu bytes; ckvm runs 128 KiB SeaBIOS images (bios.bin)",
			b->cfg->bios, b->bios_len);
		return board_bad_input(b, -EINVAL);
	}
	return 0;
}

static int set_slot(struct board *b, uint32_t slot, uint64_t gpa, uint64_t len, void *hva, bool ro)
{
	struct kvm_userspace_memory_region mr = {
		.slot = slot,
		.flags = ro ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = len,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	int ret = 0;

	if (len && ioctl(b->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "memory slot %u at 0x%llx", slot, (unsigned long long)gpa);
	}
	return ret;
}

int board_fw_map_memory(struct board *b)
{
	const struct guest_mem *gm = &b->vm.gm;
	const uint64_t lo = LAYOUT_FW_LOW_GPA, hi = LAYOUT_FW_LOW_GPA + LAYOUT_FW_SIZE;
	bool ro = ioctl(b->vm.vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	int i, ret;

	/* The low image lives in RAM (gm_ptr reaches it: fw_cfg DMA puts the ACPI tables the firmware
	 * allocates in the F segment there); only KVM sees it as a slot of its own. */
	if (gm_write(gm, lo, b->bios_map, LAYOUT_FW_SIZE)) {
		log_err(NULL, "--bios: no RAM at 0x%llx", (unsigned long long)lo);
		return -EINVAL;
	}
	for (i = 0; i < gm->nr; i++) {
		const struct gm_region *r = &gm->r[i];

		if (r->gpa > lo || r->gpa + r->len < hi) {
			if ((ret = set_slot(b, (uint32_t)i, r->gpa, r->len, r->hva, false)))
				return ret;
			continue;
		}
		if ((ret = set_slot(b, (uint32_t)i, r->gpa, lo - r->gpa, r->hva, false)) ||
		    (ret = set_slot(b, SLOT_FW_LOW, lo, LAYOUT_FW_SIZE, r->hva + (lo - r->gpa), false)) ||
		    (ret = set_slot(b, SLOT_RAM_TAIL, hi, r->gpa + r->len - hi, r->hva + (hi - r->gpa),
				    false)))
			return ret;
	}
	b->bios_rom = mmap(NULL, LAYOUT_FW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->bios_rom == MAP_FAILED) {
		b->bios_rom = NULL;
		log_errno(LOG_ERR, NULL, -ENOMEM, "firmware copy");
		return -ENOMEM;
	}
	memcpy(b->bios_rom, b->bios_map, LAYOUT_FW_SIZE);
	mprotect(b->bios_rom, LAYOUT_FW_SIZE, PROT_READ);
	/* Without read-only slots a guest write would land in the copy: harmless (it is ours alone and
	 * nothing reads it back but the guest), so only said at debug level. */
	if (!ro)
		log_debug(NULL, "KVM has no read-only memory: the firmware's high copy is writable");
	return set_slot(b, SLOT_FW_HIGH, LAYOUT_FW_HIGH_GPA, LAYOUT_FW_SIZE, b->bios_rom, ro);
}


int board_fw_ide_create(struct board *b)
{
	const struct vm_config *cfg = b->cfg;
	struct ata_config ac = { .vmm = &b->vm.ops, .gsi = IRQ_ATA };
	int i, n = 0, ret = 0;

	for (i = 0; i < cfg->ndisks && n < 2; i++) {
		if (!cfg->disks[i].ide)
			continue;
		if ((ret = blk_file_open(&ac.drive[n], cfg->disks[i].path, cfg->disks[i].readonly)))
			break;	/* it said why in one line */
		n++;
	}
	if (!n || ret) {
		for (i = 0; i < n; i++)
			blk_close(ac.drive[i]);
		return ret == -ENOMEM ? ret : ret ? board_bad_input(b, ret) : 0;
	}
	if ((ret = ata_create(&b->ata, &ac))) {
		for (i = 0; i < n; i++)
			blk_close(ac.drive[i]);
		log_errno(LOG_ERR, NULL, ret, "IDE disks");
		return ret == -EINVAL ? board_bad_input(b, ret) : ret;	/* EINVAL: smaller than a sector */
	}
	if ((ret = board_own(b, ata_device(b->ata))) ||
	    (ret = board_pio_add(b, PORT_ATA_CMD, ATA_NR_CMD_PORTS, &ata_cmd_bus_ops, b->ata, "ide0")) ||
	    (ret = board_pio_add(b, PORT_ATA_CTL, ATA_NR_CTL_PORTS, &ata_ctl_bus_ops, b->ata, "ide0-ctl")))
		return ret;
	if ((ret = ata_pci_create(&b->ata_pci)) || (ret = board_own(b, ata_pci_device(b->ata_pci))) ||
	    (ret = pci_add_device(b->pci, ata_pci_dev(b->ata_pci))))
		log_errno(LOG_ERR, NULL, ret, "PCI IDE function");
	return ret;
}

/* --floppy: SeaBIOS copies a "floppyimg/" file into high RAM as drive A: (src/hw/ramdisk.c); fw_cfg
 * keeps its own copy, so the file is unmapped again at once. */
static int floppy_add(struct board *b, struct fw_cfg *f)
{
	void *map = NULL;
	size_t len = 0;
	int ret = board_map_file("floppy", b->cfg->floppy, &map, &len);

	if (ret)
		return ret == -ENOMEM ? ret : board_bad_input(b, ret);
	ret = fw_cfg_add_file(f, FW_FLOPPY_FILE, map, len, NULL);
	munmap(map, len);
	return ret;
}

static int fw_items(struct board *b, struct fw_cfg *f)
{
	const struct vm_config *cfg = b->cfg;
	uint8_t e820[E820_TABLE_MAX * FW_E820_ENTRY_LEN], le[4];
	char order[CONFIG_MAX_DISKS * 64];
	int len, ret;

	if ((ret = fw_cfg_add_u16(f, FW_CFG_NB_CPUS, (uint16_t)b->vm.ncpus)) ||
	    (ret = fw_cfg_add_u16(f, FW_CFG_MAX_CPUS, (uint16_t)b->vm.ncpus)) ||
	    (ret = fw_cfg_add_u64(f, FW_CFG_RAM_SIZE, cfg->memory_bytes)) ||
	    /* no VGA: SeaBIOS's own text console on the UART */
	    (ret = fw_cfg_add_u16(f, FW_CFG_NOGRAPHIC, 1)) ||
	    /* no "Press ESC for boot menu" and its 2.5 s wait on every boot */
	    (ret = fw_cfg_add_u16(f, FW_CFG_BOOT_MENU, 0)))
		return ret;
	/* The same table the kernel loaders get: RAM, and the EBDA and BIOS areas reserved. */
	if ((len = board_fw_e820(&b->e820, e820, sizeof(e820))) < 0 ||
	    (ret = fw_cfg_add_file(f, "etc/e820", e820, (size_t)len, NULL)))
		return len < 0 ? len : ret;
	len = board_fw_bootorder(cfg, b->disk_pci_slot, b->ata_pci ? ata_pci_dev(b->ata_pci)->slot : 0,
				 order, sizeof(order));
	if (len < 0)
		return len;
	if (len && (ret = fw_cfg_add_file(f, "bootorder", order, (size_t)len + 1, NULL)))
		return ret;
	if (cfg->floppy && (ret = floppy_add(b, f)))
		return ret;
	put_le(le, FW_BOOT_FAIL_WAIT_MS, 4);
	if ((ret = fw_cfg_add_file(f, "etc/boot-fail-wait", le, 4, NULL)))
		return ret;
	if (cfg->serial != SERIAL_NONE) {
		put_le(le, PORT_COM1, 2);
		ret = fw_cfg_add_file(f, "etc/sercon-port", le, 2, NULL);
	}
	return ret;
}

int board_fw_acpi_files(struct board *b, struct fw_cfg *f)
{
	/* ckvm's ACPI tables (the direct-boot machine's: board_firmware_tables) through
	 * "etc/table-loader"; with --no-acpi the OS boots on the MP table SeaBIOS builds. */
	struct acpi_config ac = { .ncpus = (int)b->vm.ncpus, .i8042 = true, .pm_timer = true,
				  .pci_mmio_end = LAYOUT_FW_PCI_MMIO_END };	/* SeaBIOS's BARs */
	int ret = b->cfg->acpi ? acpi_add_fw_cfg(f, &ac) : 0;

	if (ret)
		log_errno(LOG_ERR, NULL, ret, "ACPI tables for the firmware");
	return ret;
}

int board_fw_create(struct board *b)
{
	struct fw_cfg_config fc = { .dma = true, .gm = &b->vm.gm };
	int ret;

	if ((ret = port92_create(&b->port92, &b->vm.ops)) || (ret = board_own(b, port92_device(b->port92))) ||
	    (ret = board_pio_add(b, PORT_SYS_CTRL_A, PORT92_NR_PORTS, &port92_bus_ops, b->port92, "port92")))
		goto fail;
	if ((ret = fw_cfg_create(&b->fw_cfg, &fc)) || (ret = board_own(b, fw_cfg_device(b->fw_cfg))) ||
	    (ret = board_pio_add(b, PORT_FW_CFG, FW_CFG_NR_PORTS, &fw_cfg_bus_ops, b->fw_cfg, "fw_cfg")))
		goto fail;
	if ((ret = fw_items(b, b->fw_cfg)))
		goto fail;
	return board_fw_acpi_files(b, b->fw_cfg);
fail:
	log_errno(LOG_ERR, NULL, ret, "firmware devices");
	return ret;
}

void board_fw_destroy(struct board *b)
{
	if (b->bios_rom)
		munmap(b->bios_rom, LAYOUT_FW_SIZE);
	if (b->bios_map)
		munmap(b->bios_map, b->bios_len);
	b->bios_rom = b->bios_map = NULL;
}
