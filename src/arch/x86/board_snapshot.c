/* Snapshot and restore of the board (issue 10 item 2): the vCPUs, the VM's in-kernel devices, every
 * registered device's record and the guest-RAM layout into one state file (snapshot_fmt.h); guest
 * RAM into a sparse file, mapped back MAP_PRIVATE on restore so pages load when first touched.
 * board_snapshot runs on the API thread with the VM paused; board_restore on the main thread before
 * any vCPU or device thread exists. */
#include "arch/x86/board_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "arch/x86/board.h"
#include "arch/x86/cpu_state.h"
#include "core/snapshot_fmt.h"
#include "core/snapshot_ram.h"
#include "core/vcpu.h"
#include "log.h"

#define MEM_SECTION_VERSION	1
#define PAGE			4096ULL

/* The RAM file the latest snapshot wrote: the one a Diff updates (one board per process). */
static char last_mem[PATH_MAX];
#define DEV_REC_START		65536

/* Section "mem": where each RAM region lies in the RAM file (regions back to back, in order). */
struct mem_region_rec {
	uint64_t gpa, len, file_off;
};
struct mem_rec {
	uint32_t nregions;
	uint32_t page_size;
	uint64_t total;
	struct mem_region_rec r[GM_MAX_REGIONS];
};


/* The device list's digest: a snapshot restores only onto the same devices in the same order. */
static uint32_t devlist_crc(const struct devreg *r)
{
	const struct device *d;
	uint32_t crc = 0;
	char line[64];

	devreg_for_each(r, d) {
		int n = snprintf(line, sizeof(line), "%s:%s\n", d->ops->kind, d->name);

		crc = snap_crc32(crc, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	return crc;
}

static void identity(const struct board *b, struct snap_header *h)
{
	memset(h, 0, sizeof(*h));
	snap_host_vendor(h->cpu_vendor);
	h->ncpus = b->vm.ncpus;
	h->ram_bytes = b->vm.gm.ram_bytes;
	h->devlist_crc = devlist_crc(&b->devs);
}

static void mem_layout(const struct guest_mem *gm, struct mem_rec *m)
{
	uint64_t off = 0;

	memset(m, 0, sizeof(*m));
	m->nregions = (uint32_t)gm->nr;
	m->page_size = PAGE;
	for (int i = 0; i < gm->nr; i++) {
		m->r[i] = (struct mem_region_rec){ gm->r[i].gpa, gm->r[i].len, off };
		off += gm->r[i].len;
	}
	m->total = off;
}

static int save_devices(struct board *b, struct snap_writer *w, char *err, size_t errlen)
{
	struct device *d;
	size_t cap = DEV_REC_START;
	char name[SNAP_NAME_MAX];

	devreg_for_each(&b->devs, d) {
		ssize_t n;
		void *p;

		snprintf(name, sizeof(name), "dev:%.27s", d->name);
		for (;;) {
			if (!(p = snap_section_begin(w, name, 1, cap)))
				return errf(err, errlen, w->err, "device %s: %s", d->name, strerror(-w->err));
			n = device_save(d, p, cap);
			if (n != -ENOSPC || cap >= (16u << 20))
				break;
			/* too small: drop the section begun and retry with more room */
			w->len = w->last;
			w->nsections--;
			cap *= 4;
		}
		if (n < 0)
			return errf(err, errlen, (int)n, "device %s (%s) cannot save its state: %s", d->name,
				    d->ops->kind, strerror((int)-n));
		snap_section_end(w, (size_t)n);
	}
	return w->err;
}

/* Flush what the guest's disks wrote: with the devices paused nothing is in flight, and an fsync
 * through any descriptor of the image makes the whole file durable. */
static int flush_disks(struct board *b, char *err, size_t errlen)
{
	for (int i = 0; i < b->cfg->ndisks; i++) {
		const struct disk_config *dc = &b->cfg->disks[i];
		int fd, ret = 0;

		if (dc->readonly)
			continue;
		fd = open(dc->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret)
			return errf(err, errlen, ret, "disk %s: flush: %s", dc->path, strerror(-ret));
	}
	return 0;
}

int board_state_build(struct board *b, struct snap_writer *w, char *err, size_t errlen)
{
	struct snap_header h;
	struct mem_rec m;
	int ret = 0;

	for (unsigned i = 0; i < b->vm.ncpus && !ret; i++)
		if ((ret = x86_vcpu_state_save(&b->vm.vcpus[i], w)))
			errf(err, errlen, ret, "vCPU %u: cannot read its state: %s", i, strerror(-ret));
	if (!ret && (ret = x86_vm_state_save(&b->vm, w)))
		errf(err, errlen, ret, "cannot read the VM's interrupt controllers and clock: %s",
		     strerror(-ret));
	if (!ret)
		ret = save_devices(b, w, err, errlen);
	mem_layout(&b->vm.gm, &m);
	if (!ret && (ret = snap_section_add(w, "mem", MEM_SECTION_VERSION, &m, sizeof(m))))
		errf(err, errlen, ret, "state: %s", strerror(-ret));
	identity(b, &h);
	if (!ret && (ret = snap_finish(w, &h)))
		errf(err, errlen, ret, "state: %s", strerror(-ret));
	return ret;
}

int board_flush_disks(struct board *b, char *err, size_t errlen)
{
	return flush_disks(b, err, errlen);
}

int board_dirty_log_start(struct board *b)
{
	/* whoever reads the log next takes pages from a later Diff snapshot: make that a Full one */
	last_mem[0] = '\0';
	return snap_ram_dirty_start(&b->vm);
}

unsigned long *board_dirty_pages(struct board *b, int slot, bool with_touched)
{
	return snap_ram_dirty_pages(&b->vm, slot, with_touched);
}

int board_snapshot(struct board *b, const char *state_path, const char *mem_path, bool diff,
		   char *err, size_t errlen)
{
	struct snap_writer w;
	struct mem_rec m;
	uint64_t written = 0;
	int64_t t0 = vm_clock_ns(), t1;
	int ret = 0;

	if (!b->devs_paused)
		return errf(err, errlen, -EBUSY, "the VM is not paused (PATCH /vm {\"state\": \"Paused\"} "
			    "first)");
	if (diff && (!snap_ram_dirty_on() || strcmp(mem_path, last_mem)))
		return errf(err, errlen, -EINVAL, "a Diff snapshot updates the RAM file of the previous "
			    "snapshot this ckvm took (%s): take a Full one first, or give that file",
			    last_mem[0] ? last_mem : "none yet");
	if ((ret = flush_disks(b, err, errlen)))
		return ret;
	snap_writer_init(&w);
	ret = board_state_build(b, &w, err, errlen);
	mem_layout(&b->vm.gm, &m);
	/* RAM first: a state file that exists always has its RAM file complete beside it. */
	if (!ret && diff && (ret = snap_ram_write_diff(&b->vm, mem_path, &written)))
		errf(err, errlen, ret, "memory file %s: %s", mem_path, strerror(-ret));
	if (!ret && !diff) {
		/* logging from before the RAM is read: a page written later is in the next Diff */
		if ((ret = snap_ram_dirty_start(&b->vm)))
			errf(err, errlen, ret, "KVM dirty logging: %s", strerror(-ret));
		if (!ret && (ret = snap_ram_write_full(&b->vm, mem_path, &written)))
			errf(err, errlen, ret, "memory file %s: %s", mem_path, strerror(-ret));
	}
	if (!ret)
		snprintf(last_mem, sizeof(last_mem), "%s", mem_path);
	t1 = vm_clock_ns();
	if (!ret && (ret = snap_file_write(state_path, w.buf, w.len)))
		errf(err, errlen, ret, "state file %s: %s", state_path, strerror(-ret));
	if (!ret)
		log_info("snapshot", "%s snapshot: %zu bytes of state, %llu KiB of %llu MiB of RAM "
			 "written (%s) in %.1f ms (RAM %.1f ms)", diff ? "Diff" : "Full", w.len,
			 (unsigned long long)(written >> 10), (unsigned long long)(m.total >> 20),
			 diff ? "the pages written since the last snapshot" : "zero pages left as holes",
			 (double)(vm_clock_ns() - t0) / 1e6, (double)(t1 - t0) / 1e6);
	snap_writer_free(&w);
	return ret;
}

/* ---- restore ---- */

static int read_all(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	uint8_t *buf = NULL;
	size_t at = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if ((uint64_t)st.st_size > SNAP_MAX_FILE)
		ret = -EFBIG;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		ret = -ENOMEM;
	while (!ret && at < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + at, (size_t)st.st_size - at);

		if (n < 0)
			ret = -errno;
		else if (n == 0)
			break;	/* shrank meanwhile: the parser sees what there is */
		else
			at += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*len = at;
	return 0;
}

/* Everything that can be checked before anything is applied. */
static int restore_check(struct board *b, const struct snap_parsed *p, char *err, size_t errlen)
{
	struct snap_header mine;
	const struct snap_section *s;
	struct mem_rec m, want;
	struct device *d;
	char name[SNAP_NAME_MAX];
	unsigned ndev = 0;
	int ret;

	identity(b, &mine);
	if (strcmp(p->hdr.cpu_vendor, mine.cpu_vendor))
		return errf(err, errlen, -EINVAL, "taken on a %s CPU, this host has a %s one",
			    p->hdr.cpu_vendor, mine.cpu_vendor);
	if (p->hdr.ncpus != mine.ncpus || p->hdr.ram_bytes != mine.ram_bytes)
		return errf(err, errlen, -EINVAL, "taken of a VM with %u vCPUs and %llu MiB of RAM; give "
			    "the same --cpus and --memory (now %u and %llu MiB)", p->hdr.ncpus,
			    (unsigned long long)(p->hdr.ram_bytes >> 20), mine.ncpus,
			    (unsigned long long)(mine.ram_bytes >> 20));
	if (p->hdr.devlist_crc != mine.devlist_crc)
		return errf(err, errlen, -EINVAL, "taken of a VM with other devices; give the same "
			    "--disk, --net and device options as the snapshotted VM had");
	if (p->hdr.flags & SNAP_F_DIFF)
		return errf(err, errlen, -EINVAL, "a Diff snapshot cannot be restored on its own");
	for (unsigned i = 0; i < mine.ncpus; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		if (!(s = snap_find(p, name)))
			return errf(err, errlen, -EINVAL, "no state for vCPU %u", i);
		if (s->version != X86_VCPU_STATE_VERSION)
			return errf(err, errlen, -EPROTO, "vCPU state version %u, this ckvm reads %u",
				    s->version, X86_VCPU_STATE_VERSION);
		if ((ret = x86_vcpu_state_check(s->data, s->len, err, errlen)))
			return ret;
	}
	if (!(s = snap_find(p, "vm")) || s->version != X86_VM_STATE_VERSION)
		return errf(err, errlen, -EINVAL, "no VM state (version %u)", X86_VM_STATE_VERSION);
	if ((ret = x86_vm_state_check(s->data, s->len, err, errlen)))
		return ret;
	mem_layout(&b->vm.gm, &want);
	if (!(s = snap_find(p, "mem")) || s->version != MEM_SECTION_VERSION || s->len != sizeof(m))
		return errf(err, errlen, -EINVAL, "no memory layout (version %u)", MEM_SECTION_VERSION);
	memcpy(&m, s->data, sizeof(m));
	if (memcmp(&m, &want, sizeof(m)))
		return errf(err, errlen, -EINVAL, "its RAM layout differs from this VM's");
	devreg_for_each(&b->devs, d) {
		snprintf(name, sizeof(name), "dev:%.27s", d->name);
		if (!snap_find(p, name))
			return errf(err, errlen, -EINVAL, "no state for device %s", d->name);
		ndev++;
	}
	if (p->n != mine.ncpus + 2 + ndev)
		return errf(err, errlen, -EINVAL, "it holds state of devices this VM does not have");
	return 0;
}

/* Shared RAM (a memfd a vhost-user back-end maps too) must stay that memfd: the file's data is
 * copied into it instead, extent by extent (the file is sparse: holes are zero pages already). */
static int copy_ram(int fd, uint64_t off, uint8_t *hva, uint64_t len)
{
	const uint64_t base = off, end = off + len;

	while (off < end) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;	/* ENXIO: only holes from here on */
		if ((uint64_t)data >= end)
			return 0;
		if ((hole = lseek(fd, data, SEEK_HOLE)) < 0)
			return -errno;
		for (uint64_t at = (uint64_t)data, stop = (uint64_t)hole < end ? (uint64_t)hole : end; at < stop;) {
			ssize_t n = pread(fd, hva + (at - base), stop - at, (off_t)at);

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			at += (uint64_t)n;
		}
		off = (uint64_t)hole;
	}
	return 0;
}

/* Guest RAM becomes a private mapping of the RAM file, over the anonymous RAM KVM's slots already
 * point at (same addresses, so the slots stay valid): pages are read when first touched, and
 * guest writes stay in this process. Shared RAM is filled from the file instead (copy_ram). */
static int map_ram(struct board *b, const char *mem_path, char *err, size_t errlen)
{
	struct guest_mem *gm = &b->vm.gm;
	struct stat st;
	uint64_t off = 0;
	bool file_backed = false;
	int fd = open(mem_path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return errf(err, errlen, -errno, "memory file %s: %s", mem_path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != gm->ram_bytes) {
		ret = errf(err, errlen, -EINVAL, "memory file %s: not a regular file of %llu bytes "
			   "(the snapshot's RAM)", mem_path, (unsigned long long)gm->ram_bytes);
		goto out;
	}
	for (int i = 0; i < gm->nr; i++) {
		bool shared = gm->r[i].fd >= 0;
		void *p = shared ? gm->r[i].hva : mmap(gm->r[i].hva, gm->r[i].len, PROT_READ | PROT_WRITE,
						       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);

		if (p == MAP_FAILED) {
			ret = errf(err, errlen, -errno, "memory file %s: mmap: %s", mem_path, strerror(errno));
			goto out;
		}
		if (shared && (ret = copy_ram(fd, off, gm->r[i].hva, gm->r[i].len))) {
			ret = errf(err, errlen, ret, "memory file %s: read: %s", mem_path, strerror(-ret));
			goto out;
		}
		off += gm->r[i].len;
		file_backed |= !shared;
	}
	if (file_backed)
		snap_ram_file_backed();
out:
	close(fd);	/* the mappings keep the file */
	return ret;
}

static int restore_apply(struct board *b, const struct snap_parsed *p, const char *mem_path,
			 char *err, size_t errlen)
{
	const struct snap_section *s;
	struct device *d;
	char name[SNAP_NAME_MAX];
	size_t used;
	int ret;

	if (mem_path && (ret = map_ram(b, mem_path, err, errlen)))
		return ret;
	s = snap_find(p, "vm");
	if ((ret = x86_vm_state_restore(&b->vm, s->data, s->len, err, errlen)))
		return ret;
	for (unsigned i = 0; i < b->vm.ncpus; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		s = snap_find(p, name);
		if ((ret = x86_vcpu_state_restore(&b->vm.vcpus[i], s->data, s->len, err, errlen)))
			return ret;
	}
	devreg_for_each(&b->devs, d) {
		snprintf(name, sizeof(name), "dev:%.27s", d->name);
		s = snap_find(p, name);
		ret = device_restore(d, s->data, s->len, &used);
		if (!ret && used != s->len)
			ret = -EINVAL;
		if (ret)
			return errf(err, errlen, ret, "device %s (%s): its saved state is refused (%s)",
				    d->name, d->ops->kind, strerror(-ret));
	}
	return 0;
}

int board_restore(struct board *b, const char *state_path, const char *mem_path)
{
	struct snap_parsed *p = malloc(sizeof(*p));
	int64_t t0 = vm_clock_ns();
	uint8_t *buf = NULL;
	char err[384] = "";
	size_t len = 0;
	int ret;

	if (!p) {
		log_errno(LOG_ERR, NULL, -ENOMEM, "restore");
		return -ENOMEM;
	}
	if ((ret = read_all(state_path, &buf, &len))) {
		log_err(NULL, "restore: snapshot %s: %s", state_path, strerror(-ret));
		b->bad_input = ret != -ENOMEM;
	} else if ((ret = snap_parse(buf, len, p, err, sizeof(err))) ||
		   (ret = restore_check(b, p, err, sizeof(err)))) {
		log_err(NULL, "restore: snapshot %s: %s", state_path, err);
		b->bad_input = true;
	} else if ((ret = restore_apply(b, p, mem_path, err, sizeof(err)))) {
		log_err(NULL, "restore: snapshot %s: %s", state_path, err);
		b->bad_input = ret != -ENOMEM;
	} else {
		log_timeline("restored from %s in %.3f ms", state_path, (double)(vm_clock_ns() - t0) / 1e6);
	}
	free(buf);
	free(p);
	return ret;
}

int board_state_apply(struct board *b, const void *buf, size_t len, char *err, size_t errlen)
{
	struct snap_parsed *p = malloc(sizeof(*p));
	int ret;

	if (!p)
		return errf(err, errlen, -ENOMEM, "out of memory");
	if (!(ret = snap_parse(buf, len, p, err, errlen)) && !(ret = restore_check(b, p, err, errlen)))
		ret = restore_apply(b, p, NULL, err, errlen);
	free(p);
	return ret;
}

int board_restore_config(struct board *b)
{
	static char state[PATH_MAX], mem[PATH_MAX];
	const struct vm_config *cfg = b->cfg;
	int ret;

	/* Before any device is handed a ring pointer (the guest sets up its queues once it runs):
	 * from here gm_ptr marks the pages it hands out, for Diff snapshots. */
	for (int i = 0; i < b->vm.gm.nr; i++)
		b->vm.gm.r[i].touched = calloc((size_t)((b->vm.gm.r[i].len / PAGE + 63) / 64), 8);
	if (cfg->restore_dir) {
		if ((size_t)snprintf(state, sizeof(state), "%s/state", cfg->restore_dir) >= sizeof(state) ||
		    (size_t)snprintf(mem, sizeof(mem), "%s/mem", cfg->restore_dir) >= sizeof(mem)) {
			log_err(NULL, "--restore %s: path too long", cfg->restore_dir);
			return board_bad_input(b, -ENAMETOOLONG);
		}
	} else if (cfg->restore_state && cfg->restore_mem) {
		snprintf(state, sizeof(state), "%s", cfg->restore_state);
		snprintf(mem, sizeof(mem), "%s", cfg->restore_mem);
	} else {
		return 0;
	}
	if ((ret = board_restore(b, state, mem)))
		return ret;
	if (cfg->restore_paused) {
		/* Parked before their first KVM_RUN; PATCH /vm Resumed lets them go. The devices count as
		 * paused too, so a snapshot may be taken at once. */
		b->vm.pause.requested = true;
		if (devreg_pause(&b->devs, vm_clock_ns() + 1000000000LL) == 0)
			b->devs_paused = true;
	}
	return 0;
}
