/* Validation of a parsed configuration as a whole: the input files (kernel, initrd, disks) by
 * identity, options that would be ignored or contradict each other, and the limits that need the
 * host (KVM's vCPU count, RAM). Every problem is one line naming the options involved. Main thread. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "arch/x86/acpi.h"
#include "arch/x86/layout.h"
#include "arch/x86/mptable.h"
#include "core/guest_mem.h"

/* What each input is, in messages; compared by address. */
static const char WHAT_KERNEL[] = "the kernel image (--kernel)";
static const char WHAT_INITRD[] = "the initrd (--initrd)";
static const char WHAT_DISK[] = "a disk image (--disk)";
static const char WHAT_BIOS[] = "the firmware (--bios)";
static const char WHAT_FLOPPY[] = "the floppy image (--floppy)";

/* The floppy formats SeaBIOS's RAM disk maps (its floppy.c FloppyInfo): 160K-2.88M. */
static bool floppy_size_ok(long long n)
{
	static const long long sizes[] = { 163840, 184320, 327680, 368640, 737280, 1228800, 1474560,
					   2949120 };

	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (n == sizes[i])
			return true;
	return false;
}

int config_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* stat() an input, and remember it. The same image twice as disks would make the second lock
 * fail as if another process held it; a writable disk that is also the kernel or initrd would
 * conflict with their read locks (and let the guest rewrite its own kernel). */
static int input_add(struct vm_config *cfg, const char *opt, const char *path, const char *what,
		     bool writable, struct stat *st, char *err, size_t errlen)
{
	const struct file_id *same;
	int i;

	if (stat(path, st) < 0)	/* a long path is cut short so that the reason stays in the line */
		return config_fail(err, errlen, "%s %.200s%s: %s", opt, path, strlen(path) > 200 ? "..." : "",
				   strerror(errno));
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
		return config_fail(err, errlen, "%s %s: not a regular file", opt, path);
	for (i = 0; what == WHAT_DISK && i < cfg->inputs.n; i++) {
		same = &cfg->inputs.id[i];
		if (same->dev != st->st_dev || same->ino != st->st_ino)
			continue;
		if (same->what == WHAT_DISK)
			return config_fail(err, errlen, "disk %s: given twice (two --disk options name this "
					   "image)", path);
		if (writable)
			return config_fail(err, errlen, "disk %s: is also %s; a writable disk cannot be "
					   "another input (add readonly=on)", path, same->what);
	}
	if (file_ids_add(&cfg->inputs, st, what, false))
		return config_fail(err, errlen, "%s %s: too many input files", opt, path);
	return 0;
}

/* A raw binary is copied to memory and entered in real mode: nothing else of the boot protocol,
 * no PCI, no firmware tables, one vCPU. Options for those would be ignored, so they are errors. */
static int raw_check(const struct vm_config *cfg, const struct stat *kst, char *err, size_t errlen)
{
	static const char fmt[] = "--kernel-format raw: %s does not apply (%s)";
	uint64_t size = S_ISREG(kst->st_mode) ? (uint64_t)kst->st_size : 0;

	if (!cfg->load_set || !cfg->entry_set)
		return config_fail(err, errlen, "--kernel-format raw needs --load-addr and --entry");
	if (cfg->initrd)
		return config_fail(err, errlen, fmt, "--initrd", "a raw binary gets no initrd");
	if (cfg->cmdline)
		return config_fail(err, errlen, fmt, "--cmdline", "a raw binary gets no command line");
	if (cfg->ndisks)
		return config_fail(err, errlen, fmt, "--disk", "a raw guest has no PCI devices");
	if (cfg->nnets)
		return config_fail(err, errlen, fmt, "--net", "a raw guest has no PCI devices");
	if (!cfg->acpi)
		return config_fail(err, errlen, fmt, "--no-acpi", "a raw guest never gets ACPI tables");
	if (cfg->cpus > 1)
		return config_fail(err, errlen, "--kernel-format raw: --cpus %u does not apply (a raw guest "
				   "runs on one vCPU)", cfg->cpus);
	if (size > LAYOUT_BIOS_END - cfg->load_gpa)
		return config_fail(err, errlen, "--kernel %s: %llu bytes at --load-addr 0x%llx do not fit "
				   "below 1 MiB", cfg->kernel, (unsigned long long)size,
				   (unsigned long long)cfg->load_gpa);
	if (size && (cfg->entry_gpa < cfg->load_gpa || cfg->entry_gpa - cfg->load_gpa >= size))
		return config_fail(err, errlen, "--entry 0x%llx: outside the image (0x%llx-0x%llx)",
				   (unsigned long long)cfg->entry_gpa, (unsigned long long)cfg->load_gpa,
				   (unsigned long long)(cfg->load_gpa + size - 1));
	return 0;
}

/* A vhost-user device's back-end maps guest RAM through the memfds SET_MEM_TABLE hands it: private
 * RAM has none. opt: "--disk", "--net"... */
/* A vhost-user device (dev: "--disk vhost_user=on", "--fs tag=NAME") needs RAM the back-end can map. */
static int vhost_user_mem_check(const struct vm_config *cfg, const char *dev, const char *sock, char *err,
				size_t errlen)
{
	if (cfg->memory_shared)
		return 0;
	return config_fail(err, errlen, "%s,socket=%s: needs --memory SIZE,shared=on (the back-end maps "
			   "guest RAM)", dev, sock);
}

static int nets_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	const struct net_config *a, *b;
	int i, j, ret;

	for (i = 0; i < cfg->nnets; i++) {
		if (cfg->nets[i].vhost_user &&
		    (ret = vhost_user_mem_check(cfg, "--net vhost_user=on", cfg->nets[i].socket, err, errlen)))
			return ret;
		for (j = 0; j < i; j++) {
			a = &cfg->nets[j];
			b = &cfg->nets[i];
			if (a->tap && b->tap && !strcmp(a->tap, b->tap))
				return config_fail(err, errlen, "--net tap=%s: given twice", b->tap);
			/* one back-end port serves one front-end: DPDK drops a second connection's rings */
			if (a->socket && b->socket && !strcmp(a->socket, b->socket))
				return config_fail(err, errlen, "--net socket=%s: given twice", b->socket);
			if (a->mac_set && b->mac_set && !memcmp(a->mac, b->mac, sizeof(a->mac)))
				return config_fail(err, errlen, "--net mac=%02x:%02x:%02x:%02x:%02x:%02x: "
						   "given to two network devices", b->mac[0], b->mac[1],
						   b->mac[2], b->mac[3], b->mac[4], b->mac[5]);
		}
	}
	return 0;
}

/* --bios: the firmware boots the disks, so the kernel options would be ignored; bios.bin only (a
 * 256 KiB image expects an i440FX/Q35 host bridge with PAM registers, which ckvm does not model). */
static int bios_check(struct vm_config *cfg, char *err, size_t errlen)
{
	static const char fmt[] = "--bios: %s does not apply (the firmware boots the disks)";
	struct stat st;
	int ret;

	if (cfg->kernel)
		return config_fail(err, errlen, fmt, "--kernel");
	if (cfg->initrd)
		return config_fail(err, errlen, fmt, "--initrd");
	if (cfg->cmdline)
		return config_fail(err, errlen, fmt, "--cmdline");
	if (cfg->kernel_format != KFMT_AUTO || cfg->load_set || cfg->entry_set || cfg->kernel_decompress)
		return config_fail(err, errlen, fmt, "a --kernel-format/--kernel-decompress/--load-addr/"
				   "--entry option");
	if ((ret = input_add(cfg, "--bios", cfg->bios, WHAT_BIOS, false, &st, err, errlen)))
		return ret;
	if (!S_ISREG(st.st_mode) || st.st_size != CONFIG_BIOS_SIZE)
		return config_fail(err, errlen, "--bios %s: %lld bytes; ckvm runs 128 KiB SeaBIOS images "
				   "(bios.bin; bios-256k.bin needs i440FX PAM registers ckvm does not have)",
				   cfg->bios, (long long)st.st_size);
	if (!cfg->floppy)
		return 0;
	if ((ret = input_add(cfg, "--floppy", cfg->floppy, WHAT_FLOPPY, false, &st, err, errlen)))
		return ret;
	if (!S_ISREG(st.st_mode) || !floppy_size_ok((long long)st.st_size))
		return config_fail(err, errlen, "--floppy %s: %lld bytes is no floppy size (160K, 180K, 320K, "
				   "360K, 720K, 1200K, 1440K or 2880K)", cfg->floppy, (long long)st.st_size);
	return 0;
}

/* IDE disks sit on the one primary channel: two at most, and serial= is virtio-blk's ID string. */
static int ide_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	int i, n = 0;

	for (i = 0; i < cfg->ndisks; i++) {
		if (!cfg->disks[i].ide)
			continue;
		if (++n > CONFIG_MAX_IDE)
			return config_fail(err, errlen, "--disk %s,if=ide: at most %d IDE disks (the primary "
					   "channel's device 0 and 1)", cfg->disks[i].path, CONFIG_MAX_IDE);
		if (cfg->disks[i].serial)
			return config_fail(err, errlen, "--disk %s,if=ide: serial= is for virtio disks only",
					   cfg->disks[i].path);
	}
	return 0;
}

/* Every vhost-user device: its back-end maps guest RAM, which must then be a shared memfd. dev
 * names the device as given ("--disk vhost_user=on,socket=PATH"). */
/* --fs: the tags name what the guest mounts, so two alike would hide one. */
static int fs_check(const struct vm_config *cfg, char *err, size_t errlen)
{
	char dev[64];
	int i, j;

	for (i = 0; i < cfg->nfs; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->fs[i].tag, cfg->fs[j].tag))
				return config_fail(err, errlen, "--fs tag=%s: two file systems with one tag (the "
						   "guest mounts by tag)", cfg->fs[i].tag);
		snprintf(dev, sizeof(dev), "--fs tag=%s", cfg->fs[i].tag);
		if (vhost_user_mem_check(cfg, dev, cfg->fs[i].socket, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int config_validate(struct vm_config *cfg, char *err, size_t errlen)
{
	struct stat kst, st;
	int ret, i;

	if (cfg->gdb_wait && !cfg->gdb)
		return config_fail(err, errlen, "--gdb-wait needs --gdb tcp:ADDR:PORT|unix:PATH");
	if ((ret = ide_check(cfg, err, errlen)))
		return ret;
	if ((ret = fs_check(cfg, err, errlen)))
		return ret;
	if (cfg->bios) {
		if ((ret = bios_check(cfg, err, errlen)))
			return ret;
		for (i = 0; i < cfg->ndisks; i++)
			if ((ret = input_add(cfg, "disk", cfg->disks[i].path, WHAT_DISK,
					     !cfg->disks[i].readonly, &st, err, errlen)))
				return ret;
		if (!cfg->acpi && cfg->cpus > MPTABLE_MAX_CPUS)
			return config_fail(err, errlen, "--cpus %u with --no-acpi: the MP table lists at "
					   "most %d CPUs", cfg->cpus, MPTABLE_MAX_CPUS);
		return nets_check(cfg, err, errlen);
	}
	if (cfg->floppy)
		return config_fail(err, errlen, "--floppy needs --bios (the firmware boots it)");
	if (!cfg->kernel)
		return config_fail(err, errlen, "run: --kernel PATH (or --bios) is required");
	if ((ret = input_add(cfg, "kernel", cfg->kernel, WHAT_KERNEL, false, &kst, err, errlen)))
		return ret;
	if (cfg->initrd &&
	    (ret = input_add(cfg, "initrd", cfg->initrd, WHAT_INITRD, false, &st, err, errlen)))
		return ret;
	for (i = 0; i < cfg->ndisks; i++) {
		if (cfg->disks[i].vhost_user) {	/* a socket, not an image: the back-end opens that */
			if ((ret = vhost_user_mem_check(cfg, "--disk vhost_user=on", cfg->disks[i].path, err, errlen)))
				return ret;
			continue;
		}
		if ((ret = input_add(cfg, "disk", cfg->disks[i].path, WHAT_DISK, !cfg->disks[i].readonly,
				     &st, err, errlen)))
			return ret;
	}
	if (cfg->kernel_format == KFMT_RAW)
		return raw_check(cfg, &kst, err, errlen);
	if (cfg->load_set || cfg->entry_set)
		return config_fail(err, errlen, "--load-addr/--entry are only for --kernel-format raw");
	if (!cfg->acpi && cfg->cpus > MPTABLE_MAX_CPUS)
		return config_fail(err, errlen, "--cpus %u with --no-acpi: the MP table lists at most %d CPUs",
				   cfg->cpus, MPTABLE_MAX_CPUS);
	if ((ret = config_vdevs_check(cfg, err, errlen)))
		return ret;
	return nets_check(cfg, err, errlen);
}

int config_check_host(const struct vm_config *cfg, unsigned max_vcpus, uint64_t host_ram_bytes,
		      char *err, size_t errlen)
{
	if (max_vcpus && cfg->cpus > max_vcpus)
		return config_fail(err, errlen, "--cpus %u: this host's KVM allows at most %u", cfg->cpus,
				   max_vcpus);
	if (cfg->cpus > ACPI_MAX_CPUS)
		return config_fail(err, errlen, "--cpus %u: ckvm's ACPI tables list at most %d CPUs",
				   cfg->cpus, ACPI_MAX_CPUS);
	if (host_ram_bytes && cfg->memory_bytes > host_ram_bytes)
		return config_fail(err, errlen, "--memory: %lluM is more than this host's %lluM of RAM",
				   (unsigned long long)(cfg->memory_bytes >> 20),
				   (unsigned long long)(host_ram_bytes >> 20));
	if (cfg->memory_hugepages && gm_hugepages_free() < cfg->memory_bytes)
		return config_fail(err, errlen, "--memory hugepages=on: this host has %lluM of free huge "
				   "pages, %lluM needed (raise /proc/sys/vm/nr_hugepages)",
				   (unsigned long long)(gm_hugepages_free() >> 20),
				   (unsigned long long)(cfg->memory_bytes >> 20));
	return 0;
}
