/* Block backends: a small ops interface behind virtio-blk. blk_file is a raw image file or block
 * device (OFD-locked so two VMs cannot write one image); blk_mem is a RAM disk (tests, scratch). */
#ifndef CKVM_BLK_FILE_H
#define CKVM_BLK_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct blk_backend;

/* Thread: called by one device worker at a time. Transfers are all-or-nothing from the caller's view:
 * 0 when every byte moved, else -errno (a short transfer that cannot progress is -EIO).
 * iov may be modified by the call (advanced over partial transfers). */
struct blk_backend_ops {
	int (*preadv)(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off);
	int (*pwritev)(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off);
	int (*flush)(struct blk_backend *b);	/* durable (fdatasync) or -errno */
	void (*close)(struct blk_backend *b);	/* frees b */
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	uint64_t size_bytes;	/* multiple of 512 */
	bool readonly;
	const char *name;	/* for messages (the path) */
	void *priv;		/* backend-private; free for wrappers (tests) */
};

/* Open a raw image: O_RDWR or O_RDONLY, O_CLOEXEC; regular file or block device; OFD write lock
 * (read lock when readonly): -EAGAIN with "PATH: locked by another process" logged if taken.
 * A size that is not a multiple of 512 is rounded down with a warning. 0 or -errno (logged). */
int blk_file_open(struct blk_backend **out, const char *path, bool readonly);
/* Live migration on shared storage (board_migrate.c): the destination opens writable images
 * unlocked (the source holds them) and takes the locks once the source released them; the
 * source releases them at switch-over and takes them back if the migration fails. take: lock
 * every writable image opened (-EAGAIN when another process holds one), else unlock them. */
void blk_file_defer_locks(void);
int blk_file_writers_lock(bool take);
/* --migrate-disks (board_migrate.c): the writable images, in opening order, are streamed in
 * blocks of BLK_MIG_BLOCK bytes. count: their number (sizes filled up to max). track(true): every
 * block dirty (the first pass sends all), then each guest write marks its blocks once done;
 * track(false) stops and frees that. dirty: the blocks marked. next: the first marked block of
 * disk at or after *block, unmarked, read into buf (BLK_MIG_BLOCK bytes; *len: less at the end
 * of the image): 1, 0 when none is left, or -errno. The destination: write (-EINVAL outside
 * the image) and sync (fsync) the images. Any thread. */
#define BLK_MIG_BLOCK (64u * 1024)
int blk_file_mig_count(uint64_t *sizes, int max);
int blk_file_mig_track(bool on);
uint64_t blk_file_mig_dirty(void);
int blk_file_mig_next(int disk, uint64_t *block, void *buf, uint32_t *len);
int blk_file_mig_write(int disk, uint64_t off, const void *buf, uint32_t len);
int blk_file_mig_sync(void);
/* A zero-filled RAM disk of size_bytes (multiple of 512). 0 or -errno. */
int blk_mem_create(struct blk_backend **out, uint64_t size_bytes, bool readonly);
/* The RAM disk's bytes (tests inspect them). */
uint8_t *blk_mem_data(struct blk_backend *b);

static inline void blk_close(struct blk_backend *b)
{
	if (b)
		b->ops->close(b);
}

/* Total bytes described by an iovec array. */
uint64_t blk_iov_len(const struct iovec *iov, int iovcnt);

#endif
