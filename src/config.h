/* The whole user configuration of one VM: parsed from the command line, validated, printable. */
#ifndef CKVM_CONFIG_H
#define CKVM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/outfile.h"
#include "core/sandbox.h"

#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_NETS  4

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum kernel_format { KFMT_AUTO, KFMT_BZIMAGE, KFMT_ELF, KFMT_RAW };
enum kernel_decompress { KDECOMP_HOST, KDECOMP_GUEST };	/* who inflates a bzImage's payload */
enum debugcon_mode { DEBUGCON_OFF, DEBUGCON_STDIO, DEBUGCON_FILE };

struct disk_config {
	const char *path;
	bool readonly;
	const char *serial;
	bool ide;		/* if=ide: the ATA PIO channel at 0x1f0 (device 0, then 1), not virtio-blk */
	bool vhost_user;	/* --disk vhost_user=on,socket=PATH: path is the back-end's socket */
};

/* `ckvm test` (src/osdev/test_mode.c): the options only that command takes; checked by test_mode. */
#define CONFIG_TEST_PATTERNS_MAX 64
struct test_config {
	bool enabled;			/* the command is `test` */
	const char *expect[CONFIG_TEST_PATTERNS_MAX];	/* --expect, in order */
	const char *fail_on[CONFIG_TEST_PATTERNS_MAX];	/* --fail-on */
	unsigned n_expect, n_fail_on;
	const char *timeout;		/* --timeout as given; NULL: the default */
	const char *screen_dump;	/* --screen-dump PATH, "-" = stdout */
	const char *report;		/* --report tap|tap:PATH|junit:PATH */
	const char *name;		/* --name: the test's name in the summary and reports */
	const char *exit_pass;		/* --exit-pass V: a test-exit value that counts as a pass */
};

struct net_config {
	const char *tap;	/* NULL with vhost_user */
	uint8_t mac[6];
	bool mac_set;
	bool vhost_user;	/* --net vhost_user=on,socket=PATH: a back-end process serves the queues */
	const char *socket;	/* ... at this Unix socket (at most 107 bytes, a sun_path) */
};

/* --rng, --vsock, --balloon (config_vdevs.c) */
struct rng_config {
	bool on;
	uint64_t bytes_per_sec;		/* 0 = unlimited */
};

struct vsock_config {
	bool on;
	uint32_t cid;			/* the guest's context id, >= 3 */
	const char *socket;		/* host Unix socket PATH; guest connections go to PATH_<port> */
};

/* --fs tag=NAME,socket=PATH[,queues=N][,queue_size=N]: virtio-fs served by a vhost-user back-end
 * (virtiofsd). Strings inline: a socket path longer than a Unix address could not be connected. */
#define CONFIG_MAX_FS 4
struct fs_config {
	char tag[37];			/* 1-36 bytes: the name the guest mounts */
	char socket[108];		/* sizeof(sockaddr_un.sun_path) */
	uint16_t queues;		/* request queues (besides hiprio), default 1 */
	uint16_t queue_size;		/* 0: the device's default */
};

struct balloon_config {
	bool on;
	uint64_t size_mib;		/* target at boot */
	bool deflate_on_oom, stats;
	uint32_t stats_interval_s;	/* stats=on: 1 s; the API may set another */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	enum kernel_format kernel_format;
	enum kernel_decompress kernel_decompress;
	uint64_t load_gpa, entry_gpa;
	bool load_set, entry_set;
	uint64_t memory_bytes;
	bool memory_shared;	/* --memory ...,shared=on: memfd RAM another process can map (vhost-user) */
	bool memory_hugepages;	/* --memory ...,hugepages=on: that memfd on huge pages (implies shared) */
	unsigned cpus;
	enum serial_mode serial;
	const char *serial_path;
	bool test_exit;
	bool host_quirks;	/* software-KVM workarounds, on unless --no-host-quirks */
	bool acpi;		/* ACPI tables, on unless --no-acpi */
	uint32_t pv_off;	/* KVM PV feature bits switched off (KVM_FEATURE_* bit numbers) */
	bool print_config;
	int verbose;
	bool boot_timer;		/* --boot-timer: MMIO LAYOUT_BOOT_TIMER_GPA + port PORT_BOOT_TIMER */
	enum debugcon_mode debugcon;	/* --debug-console: ports 0xe9 and 0x402 */
	const char *debugcon_path;
	bool debugcon_timestamps;
	const char *api_sock;	/* --api-sock PATH: the API server (src/control) manages this VM */
	enum sandbox_mode seccomp;	/* --seccomp kill (default, 0) | log | off */
	int seccomp_trigger;	/* --seccomp-test-trigger ROLE: that sandbox role + 1; 0 = none */
	const char *gdb;	/* --gdb tcp:ADDR:PORT|unix:PATH: the GDB stub listens there */
	bool gdb_wait;		/* --gdb-wait: the vCPUs wait for the client's first continue */
	/* Snapshot restore (src/arch/x86/board_snapshot.c): --restore DIR (DIR/state + DIR/mem), or
	 * PUT /snapshot/load's two paths; restore_paused: the vCPUs start parked (resume_vm false). */
	const char *restore_dir;
	const char *restore_state, *restore_mem;
	bool restore_paused;
	/* --incoming tcp:ADDR:PORT|unix:PATH: receive a live migration (board_migrate.c) first. */
	const char *incoming;
	struct disk_config disks[CONFIG_MAX_DISKS];
	int ndisks;
	struct net_config nets[CONFIG_MAX_NETS];
	int nnets;
	const char *bios;	/* --bios [PATH]: firmware (SeaBIOS bios.bin) instead of a kernel */
	const char *floppy;	/* --floppy PATH: with --bios, a RAM-disk floppy A: (fw_cfg floppyimg/) */
	struct test_config test;	/* `ckvm test` only */
	struct rng_config rng;
	struct vsock_config vsock;
	struct balloon_config balloon;
	struct fs_config fs[CONFIG_MAX_FS];	/* --fs, in command-line order */
	int nfs;
	struct file_ids inputs;	/* kernel, initrd, disks by identity: outputs must not be one of them */
	/* copies of --disk/--net/--debug-console values (argv stays untouched); room for every path
	 * at PATH_MAX */
	char strbuf[(CONFIG_MAX_DISKS + 1) * (PATH_MAX + 32) + CONFIG_MAX_NETS * 128];	/* NIC: tap or socket */
	size_t strbuf_used;
};

enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION };

/* Parse argv into cfg. On error writes one line to err (size errlen) and returns -EINVAL.
 * Limits that need the host (max vCPUs, RAM) are checked by config_check_host(). */
int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_action *action,
		 char *err, size_t errlen);
/* One --disk or --net argument (config_sub.c): appends a device to cfg; 0 or -EINVAL with one line. */
int config_disk_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
int config_net_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
/* The key=value part of --memory ("512M,shared=on,hugepages=on"; a bare first item or size= is the
 * size): sets the backing flags and copies the size text into size (size_len bytes). 0 or -EINVAL. */
int config_memory_opts(struct vm_config *cfg, const char *arg, char *size, size_t size_len,
		       char *err, size_t errlen);
/* Copy n bytes of s into the config's own string buffer; NULL when it is full. */
char *config_strndup(struct vm_config *cfg, const char *s, size_t n);
/* The same from separate values (the API, --config-file): the checks of --disk/--net; the strings
 * are copied. what names the disk in messages. */
int config_disk_add(struct vm_config *cfg, const char *path, bool readonly, const char *serial,
		    const char *what, char *err, size_t errlen);
int config_net_add(struct vm_config *cfg, const char *tap, const char *mac, char *err, size_t errlen);
/* The defaults of `ckvm run` (512M, 1 vCPU, serial on stdio, ACPI, host quirks). */
void config_defaults(struct vm_config *cfg);
/* The checks of the whole that config_parse() ends with (config_check.c): input files exist, none
 * named twice, no option that would be ignored or contradicts another. 0 or -EINVAL with one line. */
int config_validate(struct vm_config *cfg, char *err, size_t errlen);
/* --cpus against the host's KVM (the message names its limit) and ckvm's ACPI tables, --memory
 * against the host's RAM. 0 or -EINVAL with one line. */
int config_check_host(const struct vm_config *cfg, unsigned max_vcpus, uint64_t host_ram_bytes,
		      char *err, size_t errlen);
/* For config*.c: format one line into err; returns -EINVAL. */
int config_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The number parsers every option uses. Decimal digits only: no sign, no spaces, no octal (a leading
 * 0 is decimal). 0, -EINVAL (not that syntax) or -ERANGE (overflow, or outside [min, max]); on
 * -ERANGE *out holds the value, saturated at UINT64_MAX, so callers can say which limit it broke. */
int config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* A size: a decimal number with an optional K, M, G or T suffix (binary multiples; "M", "MB" and
 * "MiB" alike, any case for the letter). */
int config_parse_size(const char *s, uint64_t *out);
/* A guest address: hexadecimal with a 0x prefix, else decimal. */
int config_parse_addr(const char *s, uint64_t *out);
void config_print(const struct vm_config *cfg, FILE *f);
/* --rng[=bytes_per_sec=N], --vsock cid=N,socket=PATH, --balloon size=N[M],deflate_on_oom=on|off,
 * stats=on|off (config_vdevs.c): 0 or -EINVAL with one line. arg NULL: a bare --rng. */
int config_rng_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
int config_vsock_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
int config_balloon_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
/* The checks that need the whole configuration (the balloon below --memory). */
int config_vdevs_check(const struct vm_config *cfg, char *err, size_t errlen);
void config_vdevs_print(const struct vm_config *cfg, FILE *f);
/* One --fs argument (config_sub.c): appends a file system device; 0 or -EINVAL with one line. */
int config_fs_parse(struct vm_config *cfg, const char *arg, char *err, size_t errlen);
void config_usage(FILE *f);

/* --bios without a path: Debian's SeaBIOS (package seabios, scripts/deps.sh installs it). */
#define CONFIG_BIOS_DEFAULT "/usr/share/seabios/bios.bin"
#define CONFIG_BIOS_SIZE    (128 * 1024)	/* bios.bin; bios-256k.bin needs PAM registers */
#define CONFIG_MAX_IDE      2		/* device 0 and 1 of the primary channel */

#define CKVM_VERSION "0.1.0"

#endif
