/* THE DEVICE LIST of the x86 board: every device, its bus, address and interrupt, in one place.
 *   port 0x3f8-0x3ff COM1 16550A, IRQ 4      port 0x60-0x64 i8042 (+0x61 system control port B)
 *   port 0x70-0x71   CMOS/RTC                port 0x501-0x502 test-exit (with --test-exit)
 *   port 0x600-0x60b ACPI PM1a evt/cnt + timer, SCI 9      port 0xcf8-0xcff PCI config (type 1)
 *   port 0xe9, 0x402 debug console (--debug-console)       port 0x80 POST codes (with --verbose)
 *   port 0x504 + MMIO 0xfe000000 (4 KiB) boot timer (--boot-timer)
 *   MMIO 0xc0000000 + 512 MiB: PCI BARs; 00:00.0 host bridge, then virtio-blk disks, virtio-net
 *   cards, virtio-fs (--fs), the small virtio devices (board_vdevs.c)
 * Runs on the main thread during setup. */
#include "arch/x86/board_devices.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/acpi.h"
#include "arch/x86/board.h"
#include "arch/x86/board_fw.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "arch/x86/quirks.h"
#include "backend/console.h"
#include "backend/outfile.h"
#include "backend/serial_out.h"
#include "core/evloop.h"
#include "core/vcpu.h"
#include "dev/acpi_pm.h"
#include "dev/boot_timer.h"
#include "dev/cmos.h"
#include "dev/debugcon.h"
#include "dev/i8042.h"
#include "dev/pci.h"
#include "dev/test_exit.h"
#include "dev/uart8250.h"
#include "log.h"

static void debugcon_sink(void *out, const char *buf, size_t len)
{
	serial_out_write(out, buf, len);
}

int board_pio_add(struct board *b, uint64_t port, uint64_t len, const struct bus_ops *ops, void *dev,
		  const char *name)
{
	int ret = bus_add(&b->vm.pio, port, len, ops, dev, name);

	if (ret)
		log_errno(LOG_ERR, NULL, ret, "%s at port 0x%llx", name, (unsigned long long)port);
	return ret;
}

/* The registry owns d from here: pause, stop, save and destroy reach it through b->devs (its typed
 * pointer in struct board stays for the board's own calls). Names are fixed and unique, so a
 * failure is a bug, logged; the device is then left to process exit. */
int board_own(struct board *b, struct device *d)
{
	int ret = devreg_add(&b->devs, d);

	if (ret)
		log_errno(LOG_ERR, NULL, ret, "device %s", d->name);
	return ret;
}

static int serial_create(struct board *b)
{
	const struct vm_config *cfg = b->cfg;
	struct console_config cc = {
		.mode = cfg->serial == SERIAL_FILE ? CONSOLE_FILE :
			cfg->serial == SERIAL_NONE ? CONSOLE_NONE : CONSOLE_STDIO,
		.path = cfg->serial_path,
		.opt = "--serial file=",
		.files = &b->files,
		.ev = b->ev,
		.vmm = &b->vm.ops,
		.in_fd = 0,
	};
	struct uart_config uc = { .vmm = &b->vm.ops, .gsi = IRQ_COM1, .tx = console_tx };
	int ret;

	if ((ret = console_create(&b->console, &cc))) {
		if (ret != -ENOMEM)
			return board_bad_input(b, ret);	/* the output file: outfile_open said why */
		log_errno(LOG_ERR, NULL, ret, "serial console");
		return ret;
	}
	uc.tx_arg = b->console;
	uc.rx_ready = console_rx_ready;
	uc.rx_ready_arg = b->console;
	if ((ret = uart_create(&b->uart, &uc))) {
		log_errno(LOG_ERR, NULL, ret, "serial port");
		return ret;
	}
	if ((ret = board_own(b, uart_device(b->uart))))
		return ret;
	if ((ret = console_attach(b->console, b->uart))) {
		log_errno(LOG_ERR, NULL, ret, "console input");
		return ret;
	}
	return board_pio_add(b, PORT_COM1, UART_NR_PORTS, &uart_bus_ops, b->uart, "com1");
}

static int legacy_create(struct board *b)
{
	struct vm *vm = &b->vm;
	struct i8042_config kc = { .vmm = &vm->ops, .kbd_gsi = 1 };
	/* Boot from the hard disk, then the floppy, for firmware that reads CMOS (SeaBIOS without fw_cfg) */
	struct cmos_config cc = { .nr_cpus = vm->ncpus,
				  .boot_order = CMOS_BOOT_DISK | CMOS_BOOT_FLOPPY << 4 };
	int i;

	for (i = 0; i < vm->gm.nr; i++) {
		if (vm->gm.r[i].gpa < (1ULL << 32))
			cc.ram_below_4g += vm->gm.r[i].len;
		else
			cc.ram_above_4g += vm->gm.r[i].len;
	}
	int ret;

	/* Each registered as soon as it exists, so an error path frees what was made. */
	if ((ret = i8042_create(&b->i8042, &kc)) || (ret = board_own(b, i8042_device(b->i8042))) ||
	    (ret = cmos_create(&b->cmos, &cc)) || (ret = board_own(b, cmos_device(b->cmos))) ||
	    (ret = acpi_pm_create(&b->acpi_pm, &vm->ops)) ||
	    (ret = board_own(b, acpi_pm_device(b->acpi_pm))) ||
	    (b->cfg->test_exit && ((ret = test_exit_create(&b->test_exit, &vm->ops)) ||
				   (ret = board_own(b, test_exit_device(b->test_exit)))))) {
		log_errno(LOG_ERR, NULL, ret, "legacy devices");
		return ret;
	}
	/* pio_add logs its own failure */
	if ((ret = board_pio_add(b, PORT_I8042_DATA, I8042_NR_PORTS, &i8042_bus_ops, b->i8042, "i8042")) ||
	    (ret = board_pio_add(b, PORT_CMOS, CMOS_NR_PORTS, &cmos_bus_ops, b->cmos, "cmos")) ||
	    (ret = board_pio_add(b, PORT_ACPI_PM_BASE, ACPI_PM_RANGE_LEN, &acpi_pm_ops, b->acpi_pm, "acpi-pm")))
		return ret;
	if (b->cfg->test_exit)
		ret = board_pio_add(b, PORT_TEST_EXIT, TEST_EXIT_NR_PORTS, &test_exit_bus_ops, b->test_exit,
			      "test-exit");
	if (b->cfg->test_exit && !ret)	/* and at QEMU's usual iobase (dev/test_exit.h) */
		ret = board_pio_add(b, TEST_EXIT_QEMU_PORT, TEST_EXIT_QEMU_NR_PORTS, &test_exit_bus_ops, b->test_exit,
			      "test-exit-f4");
	return ret;
}

/* Boot markers: --boot-timer (MMIO + port), --debug-console (0xe9 + 0x402), POST codes with --verbose. */
static int debug_devices_create(struct board *b)
{
	const struct vm_config *cfg = b->cfg;
	struct vm *vm = &b->vm;
	int ret;

	if (cfg->boot_timer) {
		if ((ret = boot_timer_create(&b->boot_timer, NULL)) ||
		    (ret = board_own(b, boot_timer_device(b->boot_timer))))
			goto fail;
		/* --bios: the firmware's PCI window covers the page (layout.h); the port remains. */
		ret = cfg->bios ? 0 : bus_add(&vm->mmio, LAYOUT_BOOT_TIMER_GPA, BOOT_TIMER_MMIO_LEN,
					      &boot_timer_mmio_ops, b->boot_timer, "boot-timer");
		if (ret)
			log_errno(LOG_ERR, NULL, ret, "boot-timer at 0x%llx", LAYOUT_BOOT_TIMER_GPA);
		if (ret || (ret = board_pio_add(b, PORT_BOOT_TIMER, BOOT_TIMER_NR_PORTS, &boot_timer_pio_ops,
					  b->boot_timer, "boot-timer")))
			return ret;
	}
	if (cfg->debugcon != DEBUGCON_OFF) {
		struct debugcon_config dc = { .out_fd = STDOUT_FILENO, .timestamps = cfg->debugcon_timestamps,
					      .write = debugcon_sink };

		if (cfg->debugcon == DEBUGCON_FILE) {
			/* never an input of this VM or another ckvm's file; logs why not in one line */
			dc.out_fd = outfile_open(&b->files, "--debug-console file=", cfg->debugcon_path);
			if (dc.out_fd < 0)
				return board_bad_input(b, dc.out_fd);
			b->debugcon_fd = dc.out_fd;
		}
		dc.crlf = isatty(dc.out_fd);
		/* Like the serial console's: a stalled stdout must not stall the vCPU writing port 0xe9. */
		ret = serial_out_create(&b->debugcon_out, dc.out_fd, b->debugcon_fd >= 0);
		if (!ret)
			b->debugcon_fd = -1;	/* debugcon_out closes it */
		else if (ret != -EBADF)
			goto fail;
		dc.write_arg = b->debugcon_out;
		if ((ret = debugcon_create(&b->debugcon, &dc)) ||
		    (ret = board_own(b, debugcon_device(b->debugcon))))
			goto fail;
		if ((ret = board_pio_add(b, PORT_DEBUGCON, DEBUGCON_NR_PORTS, &debugcon_bus_ops, b->debugcon,
				   "debugcon")) ||
		    (ret = board_pio_add(b, PORT_DEBUGCON_SEABIOS, DEBUGCON_NR_PORTS, &debugcon_bus_ops, b->debugcon,
				   "debugcon")))
			return ret;
	}
	/* Not verbose: port 0x80 stays unclaimed, so Linux's I/O-delay writes cost no device call. */
	if (cfg->verbose) {
		if ((ret = post_create(&b->post, NULL)))
			goto fail;
		if ((ret = board_pio_add(b, PORT_POST, POST_NR_PORTS, &post_bus_ops, b->post, "post")))
			return ret;
	}
	return 0;
fail:
	log_errno(LOG_ERR, NULL, ret, "debug devices");
	return ret;
}

static int pci_devices_create(struct board *b)
{
	struct vm *vm = &b->vm;
	struct pci_config pc = LAYOUT_PCI_CONFIG(&vm->ops);
	int ret;

	/* --bios: SeaBIOS reassigns the BARs, top-down from LAYOUT_FW_PCI_MMIO_END. */
	if (b->cfg->bios)
		pc.mmio_size = LAYOUT_FW_PCI_MMIO_END - LAYOUT_PCI_MMIO_GPA;
	if ((ret = pci_create(&b->pci, &pc))) {
		log_errno(LOG_ERR, NULL, ret, "PCI host bridge");
		return ret;
	}
	/* --bios: a host bridge SeaBIOS takes for QEMU's (subsystem 1af4:1100, so it reads fw_cfg) but
	 * neither i440FX nor Q35 (whose PAM and MMCONFIG registers it would program): Red Hat's generic
	 * PCIe host bridge id, which no x86 driver binds to. */
	if (b->cfg->bios)
		pci_host_set_ids(b->pci, 0x1b36, 0x0008, 0x1af4, 0x1100);
	/* before the virtio functions: destroy (last first) frees them before their bus */
	if ((ret = board_own(b, pci_host_device(b->pci))))
		return ret;
	if ((ret = board_pio_add(b, PORT_PCI_CONFIG, 8, &pci_cfg_io_ops, b->pci, "pci-config")))
		return ret;
	ret = bus_add(&vm->mmio, pc.mmio_gpa, pc.mmio_size, &pci_mmio_ops, b->pci,
		      "pci-mmio");
	if (ret) {
		log_errno(LOG_ERR, NULL, ret, "PCI MMIO window at 0x%llx", LAYOUT_PCI_MMIO_GPA);
		return ret;
	}
	if ((ret = board_virtio_create(b)))
		return ret;
	return board_fw_ide_create(b);
}

/* Each step logs its own failure in one line and marks the user's input (board_bad_input). */
int board_devices_create(struct board *b)
{
	int ret;

	if ((ret = serial_create(b)) || (ret = legacy_create(b)) || (ret = debug_devices_create(b)))
		return ret;
	/* Every device is in b->devs by now (own() above), in creation order: the legacy devices, then
	 * the PCI host and its virtio functions, so pause/stop walk them first and destroy frees them
	 * last. Not in the registry: the POST port (no state, no work). */
	if (b->cfg->kernel_format == KFMT_RAW)
		return 0;
	return pci_devices_create(b);
}

int board_firmware_tables(struct board *b, uint64_t *rsdp_gpa)
{
	struct acpi_config ac = {
		.ncpus = (int)b->vm.ncpus,
		.i8042 = true,
		.pm_timer = true,
		.pci_slot_mask = b->pci ? pci_slot_mask(b->pci) : 0,
	};
	uint64_t mpf_gpa;
	int ret;

	*rsdp_gpa = 0;
	if (b->vm.ncpus <= MPTABLE_MAX_CPUS && (ret = mptable_build(&b->vm.gm, &ac, &mpf_gpa))) {
		log_errno(LOG_ERR, NULL, ret, "MP table");
		return ret;
	}
	if (!b->cfg->acpi)
		return 0;
	if ((ret = acpi_build(&b->vm.gm, &ac, rsdp_gpa)))
		log_errno(LOG_ERR, NULL, ret, "ACPI tables");
	return ret;
}

int board_cpuid(struct board *b, const struct kvm_cpuid2 *supported, unsigned id,
		struct kvm_cpuid2 *out)
{
	bool quirks = b->vm.soft_kvm && b->vm.host_quirks;
	struct cpuid_opts o = {
		.ncpus = b->vm.ncpus,
		.kvm_features_off = b->cfg->pv_off | (quirks ? quirks_kvm_features_off : 0),
		.clear_cx16 = quirks,
	};
	int khz = ioctl(b->vm.vcpus[id].fd, KVM_GET_TSC_KHZ, 0);
	uint32_t brand[12];

	if (x86_host_cpu_brand(brand))
		o.brand = brand;

	o.tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	o.host_invariant_tsc = x86_host_invariant_tsc();
	return cpuid_build(supported, &o, id, out);
}

void board_devices_start(struct board *b)
{
	(void)b;
}

bool board_devices_quiesce(struct board *b, int64_t deadline_ns)
{
	unsigned stuck;

	pthread_mutex_lock(&b->lifecycle_lock);
	stuck = devreg_stop(&b->devs, deadline_ns);
	b->devs_stopped = true;
	pthread_mutex_unlock(&b->lifecycle_lock);
	return stuck == 0;
}

void board_devices_destroy(struct board *b)
{
	/* The console first: it holds the UART (console_attach) and restores the terminal. */
	if (b->console)
		console_destroy(b->console);
	b->console = NULL;
	devreg_destroy(&b->devs);	/* last first: virtio transports and devices, PCI host, legacy */
	/* after the debug console, whose last partial line goes to it */
	serial_out_destroy(b->debugcon_out, SERIAL_OUT_FLUSH_MS / 2);
	if (b->debugcon_fd >= 0)
		close(b->debugcon_fd);
	b->debugcon_out = NULL;
	b->debugcon_fd = -1;
	post_destroy(b->post);
	b->post = NULL;
	b->i8042 = NULL;
	b->pci = NULL;
	b->fw_cfg = NULL;
	b->port92 = NULL;
	b->ata = NULL;
	b->ata_pci = NULL;
	b->test_exit = NULL;
	b->boot_timer = NULL;
	b->debugcon = NULL;
	b->acpi_pm = NULL;
	b->cmos = NULL;
	b->uart = NULL;
}
