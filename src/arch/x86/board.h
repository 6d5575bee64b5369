/* THE MACHINE: the x86 board ckvm builds — memory map, the explicit list of devices with their
 * addresses and IRQs, firmware tables, the loaded kernel — and how it runs and stops. */
#ifndef CKVM_X86_BOARD_H
#define CKVM_X86_BOARD_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

#include "arch/x86/boot.h"
#include "config.h"
#include "core/device.h"
#include "core/vm.h"

/* Process exit statuses (README "Exit status"). */
#define EXIT_GUEST_OK		0
#define EXIT_USAGE		1
#define EXIT_HOST_ERROR		2
#define EXIT_GUEST_CRASH	3
#define EXIT_SANDBOX		4	/* a forbidden system call (core/sandbox.h agrees) */

struct evloop;
struct serial_out;
struct uart;
struct console;
struct i8042;
struct cmos;
struct test_exit;
struct acpi_pm;
struct pci;
struct boot_timer;
struct debugcon;
struct post;
struct fw_cfg;
struct port92;
struct ata;
struct ata_pci;

struct board {
	struct vm vm;
	const struct vm_config *cfg;
	struct evloop *ev;
	pthread_t io_thread;
	bool io_started;
	int sigfd;
	int die_signal;		/* the VM was stopped by this signal, and ckvm should die of it (0: no) */
	bool abandoned;		/* a thread would not stop in time (logged): board_destroy frees little */
	bool console_busy;	/* ... and it may still use the console (a vCPU or the I/O thread) */
	bool bad_input;		/* board_create failed because of the user's input (see below) */
	/* Serialises the lifecycle calls (the API thread's pause/resume/drive swap, the main thread's
	 * stop); taken before vm->lock and any device lock. */
	pthread_mutex_t lifecycle_lock;
	bool devs_paused;	/* under lifecycle_lock: devreg_pause succeeded, no resume yet */
	bool devs_stopped;	/* under lifecycle_lock: devreg_stop ran; no pause or resume after it */

	struct uart *uart;
	struct console *console;
	struct i8042 *i8042;
	struct cmos *cmos;
	struct test_exit *test_exit;
	struct acpi_pm *acpi_pm;
	struct pci *pci;
	/* Every device with a lifecycle, in creation order (the legacy devices, the PCI host, then
	 * virtio-blk and virtio-net, each followed by its virtio-pci transport): pause, stop and destroy
	 * walk it. The devices the board calls by type keep a typed pointer too (not owning it). */
	struct devreg devs;
	struct boot_timer *boot_timer;	/* --boot-timer */
	struct debugcon *debugcon;	/* --debug-console */
	struct serial_out *debugcon_out;	/* ... its output, never blocking the guest */
	int debugcon_fd;		/* ... its file (owned), or -1 */
	struct post *post;		/* port 0x80, with --verbose */

	/* Firmware boot (board_fw.c) and the legacy PC bits it needs. */
	struct fw_cfg *fw_cfg;		/* --bios */
	struct port92 *port92;		/* --bios */
	struct ata *ata;		/* if=ide disks */
	struct ata_pci *ata_pci;	/* ... and their PCI IDE function */
	void *bios_map;			/* --bios: the image file (mapped, read-locked) */
	size_t bios_len;
	void *bios_rom;			/* ... its read-only copy at LAYOUT_FW_HIGH_GPA */
	int disk_pci_slot[CONFIG_MAX_DISKS];	/* virtio-blk disk i's PCI slot (0: not virtio) */

	struct file_ids files;	/* the config's inputs, then every output opened (outfile_open) */

	struct e820_table e820;
	enum boot_format format;
	struct boot_info boot;
	void *kernel_map, *initrd_map;
	size_t kernel_len, initrd_len;
	char *cmdline;
};

/* Stop bounds: the vCPUs, the disks' in-flight requests and the I/O thread get BOARD_STOP_GRACE_MS
 * together, then whatever has not finished is abandoned with one line saying what. */
#define BOARD_STOP_GRACE_MS	2000

/* Build everything up to the first instruction. 0, or -errno after logging one line. Errors have
 * two causes, which main maps to exit statuses: the user's input (a file that is not a kernel, a
 * missing disk or tap, more vCPUs than the host allows...: b->bad_input is set, EXIT_USAGE) or the
 * host (out of memory, a KVM ioctl failing...: EXIT_HOST_ERROR). The code that knows which sets
 * bad_input (board_bad_input()); an errno alone cannot say (EINVAL comes from both).
 * From here on the stop signals (vm_stop_signals) are blocked in every thread: they reach the I/O
 * thread through a signalfd; SIGHUP/SIGINT/SIGTERM stop the VM with the stop's exit status, the
 * others set die_signal. SIGPIPE and SIGXFSZ are ignored (write errors are handled). */
int board_create(struct board *b, const struct vm_config *cfg);
/* Map an input read-only under an OFD read lock (no other ckvm may write it meanwhile): 0, or -errno
 * after one logged line naming what and path. */
int board_map_file(const char *what, const char *path, void **map, size_t *len);
/* Mark err (a -errno) as caused by the user's input and return it. */
static inline int board_bad_input(struct board *b, int err)
{
	b->bad_input = true;
	return err;
}
/* Run until the VM stops, then stop every thread within BOARD_STOP_GRACE_MS: joined, or abandoned
 * (b->abandoned) with a log line. */
enum vm_stop_reason board_run(struct board *b);
/* Free everything; after an abandoned stop, only wind down the console (flush output within its
 * bound, restore the terminal) and leave the rest to process exit. */
void board_destroy(struct board *b);

#endif
