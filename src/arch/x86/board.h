/* THE MACHINE: the x86 board ckvm builds — memory map, the explicit list of devices with their
 * addresses and IRQs, firmware tables, the loaded kernel — and how it runs and stops. */
#ifndef CKVM_X86_BOARD_H
#define CKVM_X86_BOARD_H

#include <pthread.h>
#include <stddef.h>

#include "arch/x86/boot.h"
#include "config.h"
#include "core/vm.h"

/* Process exit statuses (README "Exit status"). */
#define EXIT_GUEST_OK		0
#define EXIT_USAGE		1
#define EXIT_HOST_ERROR		2
#define EXIT_GUEST_CRASH	3

struct evloop;
struct uart;
struct console;
struct i8042;
struct cmos;
struct test_exit;
struct acpi_pm;
struct pci;
struct vblk;
struct vnet;
struct virtio_pci;
struct boot_timer;
struct debugcon;
struct post;

struct board {
	struct vm vm;
	const struct vm_config *cfg;
	struct evloop *ev;
	pthread_t io_thread;
	bool io_started;
	int sigfd;

	struct uart *uart;
	struct console *console;
	struct i8042 *i8042;
	struct cmos *cmos;
	struct test_exit *test_exit;
	struct acpi_pm *acpi_pm;
	struct pci *pci;
	struct vblk *disks[CONFIG_MAX_DISKS];
	struct vnet *nets[CONFIG_MAX_NETS];
	struct virtio_pci *vpci[CONFIG_MAX_DISKS + CONFIG_MAX_NETS];
	int nvpci;
	struct boot_timer *boot_timer;	/* --boot-timer */
	struct debugcon *debugcon;	/* --debug-console */
	struct post *post;		/* port 0x80, with --verbose */

	struct file_ids files;	/* the config's inputs, then every output opened (outfile_open) */

	struct e820_table e820;
	enum boot_format format;
	struct boot_info boot;
	void *kernel_map, *initrd_map;
	size_t kernel_len, initrd_len;
	char *cmdline;
};

/* Build everything up to the first instruction. 0, or the exit status to use (EXIT_USAGE for bad
 * input such as a file that is not a kernel, EXIT_HOST_ERROR otherwise) after logging one line. */
int board_create(struct board *b, const struct vm_config *cfg);
/* Run until the VM stops; every vCPU and the I/O thread are joined before it returns. */
enum vm_stop_reason board_run(struct board *b);
void board_destroy(struct board *b);

#endif
