/* The whole user configuration of one VM: parsed from the command line, validated, printable. */
#ifndef CKVM_CONFIG_H
#define CKVM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_DISKS 8
#define CONFIG_MAX_NETS  4

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };
enum kernel_format { KFMT_AUTO, KFMT_BZIMAGE, KFMT_ELF, KFMT_RAW };
enum kernel_decompress { KDECOMP_HOST, KDECOMP_GUEST };	/* who inflates a bzImage's payload */

struct disk_config {
	const char *path;
	bool readonly;
	const char *serial;
};

struct net_config {
	const char *tap;
	uint8_t mac[6];
	bool mac_set;
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
	unsigned cpus;
	enum serial_mode serial;
	const char *serial_path;
	bool test_exit;
	bool host_quirks;	/* software-KVM workarounds, on unless --no-host-quirks */
	bool acpi;		/* ACPI tables, on unless --no-acpi */
	uint32_t pv_off;	/* KVM PV feature bits switched off (KVM_FEATURE_* bit numbers) */
	bool print_config;
	int verbose;
	struct disk_config disks[CONFIG_MAX_DISKS];
	int ndisks;
	struct net_config nets[CONFIG_MAX_NETS];
	int nnets;
	char strbuf[4096];	/* copies of sub-option strings (argv stays untouched) */
	size_t strbuf_used;
};

enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION };

/* Parse argv into cfg. On error writes one line to err (size errlen) and returns -EINVAL.
 * Limits that need the host (max vCPUs, RAM) are checked by config_check_host(). */
int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_action *action,
		 char *err, size_t errlen);
int config_check_host(const struct vm_config *cfg, unsigned max_vcpus, uint64_t host_ram_bytes,
		      char *err, size_t errlen);
/* Sizes: decimal or 0x hex with optional K/M/G/T suffix (binary multiples). */
int config_parse_size(const char *s, uint64_t *out);
void config_print(const struct vm_config *cfg, FILE *f);
void config_usage(FILE *f);

#define CKVM_VERSION "0.1.0"

#endif
