/* The snapshot's RAM file (snapshot_ram.h): written whole with zero pages as holes, or (Diff) only
 * the pages written since the previous snapshot, from KVM's dirty log and the pages ckvm's devices
 * were handed (guest_mem's touched marks); files go through a temporary name, synced, renamed.
 * The API thread, with the VM paused. */
#include "core/snapshot_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "core/vm.h"

#define PAGE 4096ULL

static bool page_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE / 8; i++)
		acc |= q[i];
	return acc == 0;
}

/* Guest RAM is a restored snapshot's file mapping (not this process's anonymous memory). */
static bool ram_file_backed;
/* KVM's dirty log is on (from the first snapshot). One VM per process. */
static bool dirty_log_on;

/* Which pages of anonymous RAM are resident (1 byte each, bit 0), or NULL when that cannot tell
 * zero pages: with swap, a page not resident may be in the swap area. A page never touched reads as
 * zeros, and reading it to find that out would fault in every page of a large idle guest. */
static uint8_t *resident_map(const struct gm_region *r)
{
	struct sysinfo si;
	uint8_t *vec;

	if (ram_file_backed || sysinfo(&si) < 0 || si.totalswap)
		return NULL;
	if (!(vec = malloc(r->len / PAGE)))
		return NULL;
	if (mincore(r->hva, r->len, vec) < 0) {
		free(vec);
		return NULL;
	}
	return vec;
}

/* A page that holds data: resident (when known) and not all zeros. */
static bool page_data(const uint8_t *base, const uint8_t *vec, uint64_t p)
{
	return (!vec || (vec[p / PAGE] & 1)) && !page_zero(base + p);
}

/* RAM into fd: runs of non-zero pages written, zero pages left as holes (ftruncate sets the size
 * first, so a hole reads back as zeros). */
static int write_ram(const struct guest_mem *gm, int fd, uint64_t *written)
{
	uint64_t off = 0;

	*written = 0;
	for (int i = 0; i < gm->nr; i++) {
		const uint8_t *base = gm->r[i].hva;
		uint64_t len = gm->r[i].len, p = 0;
		uint8_t *vec = resident_map(&gm->r[i]);

		while (p < len) {
			uint64_t q;

			while (p < len && !page_data(base, vec, p))
				p += PAGE;
			for (q = p; q < len && q - p < (64ULL << 20) && page_data(base, vec, q); q += PAGE)
				;
			for (uint64_t at = p; at < q;) {
				ssize_t n = pwrite(fd, base + at, q - at, (off_t)(off + at));

				if (n <= 0) {
					free(vec);
					return n < 0 ? -errno : -EIO;
				}
				at += (uint64_t)n;
			}
			*written += q - p;
			p = q;
		}
		free(vec);
		off += len;
	}
	return 0;
}

/* data into path through path.tmp: written, synced, renamed. */
static int write_file(const char *path, const void *data, size_t len, const struct guest_mem *gm,
		      uint64_t ram_total, uint64_t *written)
{
	char tmp[PATH_MAX];
	int fd, ret = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (gm) {
		if (ftruncate(fd, (off_t)ram_total) < 0)
			ret = -errno;
		else
			ret = write_ram(gm, fd, written);
	}
	for (size_t at = 0; !ret && at < len;) {
		ssize_t n = write(fd, (const char *)data + at, len - at);

		if (n <= 0)
			ret = n < 0 ? -errno : -EIO;
		else
			at += (size_t)n;
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on: reading the log no longer clears it or write-protects
 * the pages; dirty_pages does that with KVM_CLEAR_DIRTY_LOG for exactly the pages it read. */
static bool dirty_log_manual;

/* KVM logs the guest's writes to RAM from now on (each slot re-registered with the flag). */
static int dirty_log_enable(struct vm *vm)
{
	const struct guest_mem *gm = &vm->gm;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      .args = { KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } };

	/* without it (an older KVM) GET_DIRTY_LOG clears as it reads: the same result */
	dirty_log_manual = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) > 0 &&
			   ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
	for (int i = 0; i < gm->nr; i++) {
		struct kvm_userspace_memory_region mr = {
			.slot = (uint32_t)i, .flags = KVM_MEM_LOG_DIRTY_PAGES,
			.guest_phys_addr = gm->r[i].gpa, .memory_size = gm->r[i].len,
			.userspace_addr = (uint64_t)(uintptr_t)gm->r[i].hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
			return -errno;
	}
	dirty_log_on = true;
	return 0;
}

/* Slot i's pages the guest wrote since the last call (KVM clears its log as it hands it over),
 * ORed with the pages ckvm's devices may have written (gm_ptr's sticky marks). */
static unsigned long *dirty_pages(struct vm *vm, int i, bool with_touched)
{
	const struct gm_region *r = &vm->gm.r[i];
	size_t words = (size_t)((r->len / PAGE + 63) / 64);
	unsigned long *map = calloc(words, sizeof(*map));
	struct kvm_dirty_log dl = { .slot = (uint32_t)i };

	if (!map)
		return NULL;
	dl.dirty_bitmap = map;
	if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0) {
		free(map);
		return NULL;
	}
	if (dirty_log_manual) {
		/* re-protect what was read, before its contents are: a write after this is logged anew */
		struct kvm_clear_dirty_log cl = { .slot = (uint32_t)i, .first_page = 0,
						  .num_pages = (uint32_t)(r->len / PAGE), .dirty_bitmap = map };

		if (ioctl(vm->vm_fd, KVM_CLEAR_DIRTY_LOG, &cl) < 0) {
			free(map);
			return NULL;
		}
	}
	for (size_t w = 0; with_touched && r->touched && w < words; w++)
		map[w] |= __atomic_load_n(&r->touched[w], __ATOMIC_RELAXED);
	return map;
}

/* Diff: the previous RAM file gets the pages written since (zero or not), in place under a
 * temporary name: until it is renamed back, the old state file has no RAM file beside it and a
 * restore refuses it rather than mixing two points in time. */
int snap_ram_write_diff(struct vm *vm, const char *mem_path, uint64_t *written)
{
	const struct guest_mem *gm = &vm->gm;
	char tmp[PATH_MAX];
	uint64_t off = 0;
	int fd, ret = 0;

	*written = 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", mem_path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (rename(mem_path, tmp) < 0)
		return -errno;
	if ((fd = open(tmp, O_WRONLY | O_CLOEXEC)) < 0)
		return -errno;
	for (int i = 0; i < gm->nr && !ret; i++) {
		unsigned long *map = dirty_pages(vm, i, true);
		uint64_t pages = gm->r[i].len / PAGE;

		if (!map) {
			ret = -ENOMEM;
			break;
		}
		for (uint64_t p = 0; p < pages && !ret; p++) {
			if (!(map[p / 64] >> (p % 64) & 1))
				continue;
			if (pwrite(fd, gm->r[i].hva + p * PAGE, PAGE, (off_t)(off + p * PAGE)) != (ssize_t)PAGE)
				ret = -errno ? -errno : -EIO;
			*written += PAGE;
		}
		free(map);
		off += gm->r[i].len;
	}
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, mem_path) < 0)
		ret = -errno;
	return ret;
}

int snap_ram_dirty_start(struct vm *vm)
{
	if (!dirty_log_on)
		return dirty_log_enable(vm);
	for (int i = 0; i < vm->gm.nr; i++)	/* read and dropped: the log restarts here */
		free(dirty_pages(vm, i, true));
	return 0;
}

unsigned long *snap_ram_dirty_pages(struct vm *vm, int slot, bool with_touched)
{
	return dirty_pages(vm, slot, with_touched);
}

bool snap_ram_dirty_on(void)
{
	return dirty_log_on;
}

void snap_ram_file_backed(void)
{
	ram_file_backed = true;
}

int snap_ram_write_full(struct vm *vm, const char *mem_path, uint64_t *written)
{
	uint64_t total = 0;

	for (int i = 0; i < vm->gm.nr; i++)
		total += vm->gm.r[i].len;
	return write_file(mem_path, NULL, 0, &vm->gm, total, written);
}

int snap_file_write(const char *path, const void *data, size_t len)
{
	return write_file(path, data, len, NULL, 0, NULL);
}

