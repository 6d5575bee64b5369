/* Firmware boot pieces without /dev/kvm: the "etc/e820" and "bootorder" builders (board_fw.c), port
 * 0x92, the PCI IDE function and the host bridge ids SeaBIOS keys on, the 0xcf9 reset, and the
 * --bios / if=ide options with their one-line errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "arch/x86/board_fw.h"
#include "arch/x86/layout.h"
#include "config.h"
#include "dev/ata_pci.h"
#include "dev/pci.h"
#include "dev/port92.h"
#include "fake_vmm.h"
#include "log.h"
#include "port_io.h"
#include "test.h"

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void test_e820_blob(void)
{
	struct e820_table t = { .nr = 0 };
	uint8_t buf[E820_TABLE_MAX * FW_E820_ENTRY_LEN];

	CHECK_EQ(e820_add(&t, 0, 0x9fc00, E820_RAM), 0);
	CHECK_EQ(e820_add(&t, 0x9fc00, 0x400, E820_RESERVED), 0);
	CHECK_EQ(e820_add(&t, 0x100000, 0x1ff00000, E820_RAM), 0);
	CHECK_EQ(e820_add(&t, 1ULL << 32, 1ULL << 30, E820_RAM), 0);
	CHECK_EQ(board_fw_e820(&t, buf, sizeof(buf)), 4 * FW_E820_ENTRY_LEN);
	CHECK_EQ(le(buf, 8), 0);
	CHECK_EQ(le(buf + 8, 8), 0x9fc00);
	CHECK_EQ(le(buf + 16, 4), E820_RAM);
	CHECK_EQ(le(buf + 20 + 16, 4), E820_RESERVED);
	CHECK_EQ(le(buf + 60, 8), 1ULL << 32);		/* packed: entry 3 at 60, not 64 */
	CHECK_EQ(le(buf + 68, 8), 1ULL << 30);
	CHECK_EQ(board_fw_e820(&t, buf, 4 * FW_E820_ENTRY_LEN - 1), -ENOSPC);
	t.nr = 0;
	CHECK_EQ(board_fw_e820(&t, buf, 0), 0);
}

static void test_bootorder(void)
{
	struct vm_config c;
	int slots[CONFIG_MAX_DISKS] = { 1, 0, 2, 0 };
	char buf[256];

	config_defaults(&c);
	CHECK_EQ(board_fw_bootorder(&c, slots, 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	c.ndisks = 4;
	c.disks[1].ide = c.disks[3].ide = true;
	CHECK_EQ(board_fw_bootorder(&c, slots, 0x1f, buf, sizeof(buf)), (int)strlen(buf));
	CHECK_STR(buf, "/pci@i0cf8/scsi@1/disk@0,0\n"
		       "/pci@i0cf8/ide@1f/drive@0/disk@0\n"
		       "/pci@i0cf8/scsi@2/disk@0,0\n"
		       "/pci@i0cf8/ide@1f/drive@0/disk@1\n");
	CHECK_EQ(board_fw_bootorder(&c, slots, 3, buf, 40), -ENOSPC);
	c.floppy = "/some/floppy.img";
	c.ndisks = 1;
	CHECK_EQ(board_fw_bootorder(&c, slots, 3, buf, sizeof(buf)), (int)strlen(buf));
	CHECK_STR(buf, "/rom@floppyimg/floppy.img\n/pci@i0cf8/scsi@1/disk@0,0\n");
	CHECK_EQ(board_fw_bootorder(&c, slots, 3, buf, 10), -ENOSPC);
	CHECK_EQ(board_fw_bootorder(&c, slots, 3, buf, 0), -ENOSPC);
}

static void test_port92(void)
{
	struct fake_vmm f;
	struct vmm_ops ops;
	struct port92 *p = NULL;
	uint32_t wide = 0;
	uint8_t rec[4];

	fake_vmm_init(&f, &ops);
	CHECK_EQ(port92_create(&p, &ops), 0);
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0), PORT92_A20);	/* A20 on from power-up */
	port_out8(&port92_bus_ops, p, 0, 0x00);			/* "A20 off" is ignored */
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0), PORT92_A20);
	port_out8(&port92_bus_ops, p, 0, 0xc2);			/* other bits are kept */
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0), 0xc2);
	CHECK_EQ(f.stops, 0);
	port92_bus_ops.read(p, 0, &wide, 4);			/* wider than the register */
	CHECK_EQ(wide, 0xffffffc2u);
	CHECK_EQ(port92_device(p)->ops->save(port92_device(p), rec, sizeof(rec)), 1);
	CHECK_EQ(rec[0], 0xc0);
	CHECK_EQ(port92_device(p)->ops->restore(port92_device(p), "\x03", 1), -EINVAL);
	CHECK_EQ(port92_device(p)->ops->restore(port92_device(p), rec, 2), -EINVAL);
	port92_device(p)->ops->reset(port92_device(p));
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0), PORT92_A20);
	CHECK_EQ(port92_device(p)->ops->restore(port92_device(p), rec, 1), 0);
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0), 0xc2);
	port_out8(&port92_bus_ops, p, 0, PORT92_A20 | PORT92_RESET);	/* fast reset */
	CHECK_EQ(f.stops, 1);
	CHECK_EQ(f.why, VM_STOP_REBOOT);
	CHECK_EQ(port_in8(&port92_bus_ops, p, 0) & PORT92_RESET, 0);	/* bit 0 reads 0 */
	port92_bus_ops.write(p, 0, &wide, 0);				/* no bytes: nothing */
	CHECK_EQ(f.stops, 1);
	port92_destroy(p);
}

static uint32_t cfgr(struct pci *pci, int slot, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | (uint32_t)slot << 11 | (reg & 0xfc), v = 0;

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.read(pci, 4 + (reg & 3), &v, len);
	return v;
}

static void cfgw(struct pci *pci, int slot, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = 0x80000000u | (uint32_t)slot << 11 | (reg & 0xfc);

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.write(pci, 4 + (reg & 3), &v, len);
}

static void test_ide_function_and_host(void)
{
	struct fake_vmm f;
	struct vmm_ops ops;
	struct pci_config pc;
	struct pci *pci = NULL;
	struct ata_pci *ide = NULL;
	int slot;

	fake_vmm_init(&f, &ops);
	pc = (struct pci_config)LAYOUT_PCI_CONFIG(&ops);
	pc.mmio_size = LAYOUT_FW_PCI_MMIO_END - LAYOUT_PCI_MMIO_GPA;	/* the --bios window */
	CHECK_EQ(pci_create(&pci, &pc), 0);
	pci_host_set_ids(pci, 0x1b36, 0x0008, 0x1af4, 0x1100);
	CHECK_EQ(cfgr(pci, 0, 0x00, 4), 0x00081b36u);
	CHECK_EQ(cfgr(pci, 0, 0x2c, 4), 0x11001af4u);	/* SeaBIOS qemu_detect() */
	CHECK_EQ(ata_pci_create(&ide), 0);
	CHECK_EQ(pci_add_device(pci, ata_pci_dev(ide)), 0);
	slot = ata_pci_dev(ide)->slot;
	CHECK(slot > 0);
	CHECK_EQ(cfgr(pci, slot, 0x00, 4), (uint32_t)ATA_PCI_DEVICE << 16 | ATA_PCI_VENDOR);
	CHECK_EQ(cfgr(pci, slot, 0x08, 4) >> 8, ATA_PCI_CLASS);
	CHECK_EQ(cfgr(pci, slot, 0x09, 1) & 0x05, 0);	/* both channels in compatibility mode */
	for (uint32_t bar = 0x10; bar <= 0x24; bar += 4) {	/* no BARs, writable or not */
		cfgw(pci, slot, bar, 4, 0xffffffff);
		CHECK_EQ(cfgr(pci, slot, bar, 4), 0);
	}
	CHECK_EQ(cfgr(pci, slot, 0x3d, 1), 0);		/* no INTx pin: IRQ 14 is ISA */
	CHECK_EQ(cfgr(pci, slot, ATA_PCI_IDETIM_PRI, 2), ATA_PCI_IDETIM_IDE);
	CHECK_EQ(cfgr(pci, slot, ATA_PCI_IDETIM_SEC, 2), 0);
	cfgw(pci, slot, ATA_PCI_IDETIM_PRI, 2, 0);		/* a driver's timings change nothing */
	CHECK_EQ(cfgr(pci, slot, ATA_PCI_IDETIM_PRI, 2), ATA_PCI_IDETIM_IDE);
	/* 0xcf9 reset control: RST_CPU reboots, other bits and widths do not */
	{
		uint8_t b = 0x02;
		uint16_t w = 0x0606;

		pci_cfg_io_ops.write(pci, 1, &b, 1);
		pci_cfg_io_ops.write(pci, 1, &w, 2);
		CHECK_EQ(f.stops, 0);
		b = 0x06;
		pci_cfg_io_ops.write(pci, 1, &b, 1);
		CHECK_EQ(f.stops, 1);
		CHECK_EQ(f.why, VM_STOP_REBOOT);
	}
	ata_pci_device(ide)->ops->destroy(ata_pci_device(ide));
	pci_destroy(pci);
}

static struct vm_config cfg;
static enum config_action act;
static char err[512];

#define ARGV(...) ((char *[]){ "ckvm", __VA_ARGS__, NULL })
#define NARGS(...) ((int)(sizeof((char *[]){ "ckvm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) config_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &cfg, &act, err, sizeof(err))

static void test_options(void)
{
	char bios[] = "/tmp/ckvm-test-bios-XXXXXX", big[] = "/tmp/ckvm-test-bios256-XXXXXX";
	char disk[] = "/tmp/ckvm-test-fwdisk-XXXXXX";
	int fd;

	fd = mkstemp(bios);
	CHECK(fd >= 0 && ftruncate(fd, 128 * 1024) == 0);
	close(fd);
	fd = mkstemp(big);
	CHECK(fd >= 0 && ftruncate(fd, 256 * 1024) == 0);
	close(fd);
	fd = mkstemp(disk);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);

	CHECK_EQ(PARSE("run", "--bios", bios, "--disk", disk), 0);		/* PATH as the next word */
	CHECK_STR(cfg.bios, bios);
	CHECK_EQ(cfg.ndisks, 1);
	CHECK_EQ(cfg.disks[0].ide, false);
	{
		char opt[64];

		snprintf(opt, sizeof(opt), "--bios=%s", bios);
		CHECK_EQ(PARSE("run", opt), 0);
		CHECK_STR(cfg.bios, bios);
	}
	/* no PATH: the next word is an option, so Debian's default (which may be missing here) */
	PARSE("run", "--bios", "--disk", disk);
	CHECK_STR(cfg.bios, CONFIG_BIOS_DEFAULT);
	CHECK_EQ(PARSE("run", "--bios", bios, "--kernel", bios), -EINVAL);
	CHECK(strstr(err, "--kernel does not apply") != NULL);
	CHECK_EQ(PARSE("run", "--bios", bios, "--cmdline", "x"), -EINVAL);
	CHECK(strstr(err, "--cmdline") != NULL);
	CHECK_EQ(PARSE("run", "--bios", big), -EINVAL);			/* bios-256k.bin */
	CHECK(strstr(err, "128 KiB") != NULL && strstr(err, "PAM") != NULL);
	CHECK_EQ(PARSE("run", "--bios", "/nonexistent/bios.bin"), -EINVAL);
	CHECK_EQ(PARSE("run", "--bios", bios, "--bios", bios), -EINVAL);	/* given twice */
	{
		char d1[128];

		snprintf(d1, sizeof(d1), "path=%s,if=ide", disk);
		CHECK_EQ(PARSE("run", "--bios", bios, "--disk", d1), 0);
		CHECK_EQ(cfg.disks[0].ide, true);
		snprintf(d1, sizeof(d1), "path=%s,if=scsi", disk);
		CHECK_EQ(PARSE("run", "--bios", bios, "--disk", d1), -EINVAL);
		CHECK(strstr(err, "expected virtio or ide") != NULL);
		snprintf(d1, sizeof(d1), "path=%s,if=ide,serial=x", disk);
		CHECK_EQ(PARSE("run", "--bios", bios, "--disk", d1), -EINVAL);
		CHECK(strstr(err, "virtio disks only") != NULL);
		snprintf(d1, sizeof(d1), "path=%s,if=ide,readonly=on", disk);
		CHECK_EQ(PARSE("run", "--bios", bios, "--disk", d1, "--disk", d1, "--disk", d1), -EINVAL);
		CHECK(strstr(err, "at most 2 IDE") != NULL || strstr(err, "twice") != NULL);
	}
	CHECK_EQ(PARSE("run"), -EINVAL);
	CHECK(strstr(err, "--bios") != NULL);
	/* --floppy: only with --bios, only floppy sizes */
	CHECK_EQ(PARSE("run", "--floppy", disk, "--kernel", bios), -EINVAL);
	CHECK(strstr(err, "needs --bios") != NULL);
	CHECK_EQ(PARSE("run", "--bios", bios, "--floppy", disk), -EINVAL);	/* 1 MiB */
	CHECK(strstr(err, "no floppy size") != NULL);
	fd = open(disk, O_WRONLY);
	CHECK(fd >= 0 && ftruncate(fd, 1474560) == 0);
	close(fd);
	CHECK_EQ(PARSE("run", "--bios", bios, "--floppy", disk), 0);
	CHECK_STR(cfg.floppy, disk);
	unlink(bios);
	unlink(big);
	unlink(disk);
}

int main(void)
{
	log_threshold = LOG_ERR;
	RUN(test_e820_blob);
	RUN(test_bootorder);
	RUN(test_port92);
	RUN(test_ide_function_and_host);
	RUN(test_options);
	return test_summary();
}
