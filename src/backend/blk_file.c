/* Block backends for virtio-blk: raw image file / block device (preadv/pwritev/fdatasync, OFD lock)
 * and an in-memory RAM disk. Opened on the main thread at setup; I/O runs on the disk's worker thread. */
#include "backend/blk_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "log.h"

#define SECTOR 512u

/* Live migration on shared storage hands the writable disks' locks from the source to the
 * destination (board_migrate.c): the open writable files, and whether opening them locks. */
#define MAX_LOCKED 64
static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;
static int writers[MAX_LOCKED];
static bool defer_locks;

struct blk_file {
	struct blk_backend b;
	int fd;
	uint64_t *dirty;	/* --migrate-disks: one bit a BLK_MIG_BLOCK, under writers_lock */
	char path[];
};

/* --migrate-disks: the writable images in opening order (the same --disk options give the same
 * order on both ends), under writers_lock. */
static struct blk_file *mig_files[MAX_LOCKED];
static int mig_nfiles;
static bool mig_tracking;	/* a write takes writers_lock only while this is on */

uint64_t blk_iov_len(const struct iovec *iov, int iovcnt)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Move every byte of iov at off, resuming after partial transfers and EINTR. */
static int blk_file_xfer(int fd, struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	for (;;) {
		ssize_t n;

		while (iovcnt > 0 && !iov->iov_len) {
			iov++;
			iovcnt--;
		}
		if (!iovcnt)
			return 0;
		if (off > (uint64_t)INT64_MAX)
			return -EINVAL;
		if (write)
			n = pwritev(fd, iov, iovcnt < IOV_MAX ? iovcnt : IOV_MAX, (off_t)off);
		else
			n = preadv(fd, iov, iovcnt < IOV_MAX ? iovcnt : IOV_MAX, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;	/* end of file inside the disk: the image shrank */
		off += (uint64_t)n;
		while (n > 0) {
			if ((size_t)n >= iov->iov_len) {
				n -= (ssize_t)iov->iov_len;
				iov++;
				iovcnt--;
			} else {
				iov->iov_base = (char *)iov->iov_base + n;
				iov->iov_len -= (size_t)n;
				n = 0;
			}
		}
	}
}

static int blk_file_preadv(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	return blk_file_xfer(((struct blk_file *)b)->fd, iov, iovcnt, off, false);
}

/* The blocks [off, off+len) changed: marked after the write is done, so a migration that clears
 * a bit and then reads the block either reads the new data or sees the bit again. */
static void mark_dirty(struct blk_file *f, uint64_t off, uint64_t len)
{
	/* a write that misses the switch-on is in the all-dirty start */
	if (!__atomic_load_n(&mig_tracking, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&writers_lock);
	if (f->dirty && len)
		for (uint64_t i = off / BLK_MIG_BLOCK; i <= (off + len - 1) / BLK_MIG_BLOCK &&
		     i < (f->b.size_bytes + BLK_MIG_BLOCK - 1) / BLK_MIG_BLOCK; i++)
			f->dirty[i / 64] |= 1ULL << (i % 64);
	pthread_mutex_unlock(&writers_lock);
}

static int blk_file_pwritev(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	uint64_t len = blk_iov_len(iov, iovcnt);
	int ret;

	if (b->readonly)
		return -EROFS;
	ret = blk_file_xfer(((struct blk_file *)b)->fd, iov, iovcnt, off, true);
	/* a failed write may have written part: it is sent again too */
	mark_dirty((struct blk_file *)b, off, len);
	return ret;
}

static int blk_file_flush(struct blk_backend *b)
{
	if (b->readonly)
		return 0;
	return fdatasync(((struct blk_file *)b)->fd) ? -errno : 0;
}

static void blk_file_close(struct blk_backend *b)
{
	struct blk_file *f = (struct blk_file *)b;

	pthread_mutex_lock(&writers_lock);
	for (int i = 0; i < MAX_LOCKED; i++)
		if (writers[i] == f->fd + 1)
			writers[i] = 0;
	for (int i = 0; i < mig_nfiles; i++)
		if (mig_files[i] == f)
			mig_files[i] = NULL;
	free(f->dirty);
	pthread_mutex_unlock(&writers_lock);
	close(f->fd);
	free(f);
}

static const struct blk_backend_ops blk_file_ops = {
	.preadv = blk_file_preadv,
	.pwritev = blk_file_pwritev,
	.flush = blk_file_flush,
	.close = blk_file_close,
};

static int blk_file_size(int fd, const char *path, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, size))
			return -errno;
	} else {
		log_err("blk", "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	if (*size % SECTOR) {
		log_warnx("blk", "%s: size %llu is not a multiple of 512, last %llu bytes unused", path,
			  (unsigned long long)*size, (unsigned long long)(*size % SECTOR));
		*size -= *size % SECTOR;
	}
	return 0;
}

int blk_file_open(struct blk_backend **out, const char *path, bool readonly)
{
	struct flock fl = { .l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };
	struct blk_file *f;
	uint64_t size = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (!readonly && (ret == -EACCES || ret == -EROFS || ret == -EPERM))
			log_errno(LOG_ERR, "blk", ret, "%s: cannot open for writing (readonly=on opens it "
				  "read-only)", path);
		else
			log_errno(LOG_ERR, "blk", ret, "%s", path);
		return ret;
	}
	/* Another holder of a conflicting lock is another process: config_validate() refuses a disk
	 * given twice, and a writable disk that is also this VM's kernel or initrd. */
	if (!(defer_locks && !readonly) && fcntl(fd, F_OFD_SETLK, &fl)) {
		ret = -errno;
		if (ret == -EAGAIN || ret == -EACCES) {
			log_err("blk", "%s: locked by another process (%s)", path, readonly ?
				"another ckvm writes it as a disk or output" :
				"another ckvm uses it as a disk, kernel, initrd or output");
			ret = -EAGAIN;
		} else {
			log_errno(LOG_ERR, "blk", ret, "%s: cannot lock it against a second writer", path);
		}
		goto fail;
	}
	ret = blk_file_size(fd, path, &size);
	if (ret) {
		if (ret != -EINVAL)
			log_errno(LOG_ERR, "blk", ret, "%s: size", path);
		goto fail;
	}
	f = calloc(1, sizeof(*f) + strlen(path) + 1);
	if (!f) {
		ret = -ENOMEM;
		goto fail;
	}
	f->fd = fd;
	strcpy(f->path, path);
	pthread_mutex_lock(&writers_lock);
	for (int i = 0; !readonly && i < MAX_LOCKED; i++)
		if (!writers[i]) {
			writers[i] = fd + 1;
			break;
		}
	if (!readonly && mig_nfiles < MAX_LOCKED)
		mig_files[mig_nfiles++] = f;
	pthread_mutex_unlock(&writers_lock);
	f->b = (struct blk_backend){ .ops = &blk_file_ops, .size_bytes = size, .readonly = readonly,
				     .name = f->path };
	*out = &f->b;
	return 0;
fail:
	close(fd);
	return ret;
}

void blk_file_defer_locks(void)
{
	defer_locks = true;
}

int blk_file_writers_lock(bool take)
{
	struct flock fl = { .l_type = take ? F_WRLCK : F_UNLCK, .l_whence = SEEK_SET };
	int ret = 0;

	pthread_mutex_lock(&writers_lock);
	for (int i = 0; i < MAX_LOCKED && !ret; i++)
		if (writers[i] && fcntl(writers[i] - 1, F_OFD_SETLK, &fl))
			ret = errno == EACCES ? -EAGAIN : -errno;
	pthread_mutex_unlock(&writers_lock);
	return ret;
}

/* ---- --migrate-disks ---- */

static uint64_t nblocks(const struct blk_file *f)
{
	return (f->b.size_bytes + BLK_MIG_BLOCK - 1) / BLK_MIG_BLOCK;
}

int blk_file_mig_count(uint64_t *sizes, int max)
{
	int n;

	pthread_mutex_lock(&writers_lock);
	for (n = 0; n < mig_nfiles && mig_files[n]; n++)
		if (n < max)
			sizes[n] = mig_files[n]->b.size_bytes;
	pthread_mutex_unlock(&writers_lock);
	return n;
}

int blk_file_mig_track(bool on)
{
	int ret = 0;

	pthread_mutex_lock(&writers_lock);
	for (int i = 0; i < mig_nfiles && mig_files[i]; i++) {
		struct blk_file *f = mig_files[i];
		size_t words = (size_t)((nblocks(f) + 63) / 64);

		free(f->dirty);
		f->dirty = NULL;
		if (!on)
			continue;
		if (!(f->dirty = malloc(words * 8 + 8))) {
			ret = -ENOMEM;
			continue;
		}
		/* every block is "dirty" at first: the first pass sends the whole image */
		memset(f->dirty, 0xff, words * 8);
	}
	if (ret)
		for (int i = 0; i < mig_nfiles && mig_files[i]; i++) {
			free(mig_files[i]->dirty);
			mig_files[i]->dirty = NULL;
		}
	__atomic_store_n(&mig_tracking, on && !ret, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&writers_lock);
	return ret;
}

uint64_t blk_file_mig_dirty(void)
{
	uint64_t n = 0;

	pthread_mutex_lock(&writers_lock);
	for (int i = 0; i < mig_nfiles && mig_files[i]; i++)
		for (uint64_t b = 0; mig_files[i]->dirty && b < nblocks(mig_files[i]); b++)
			n += mig_files[i]->dirty[b / 64] >> (b % 64) & 1;
	pthread_mutex_unlock(&writers_lock);
	return n;
}

int blk_file_mig_next(int disk, uint64_t *block, void *buf, uint32_t *len)
{
	struct blk_file *f;
	uint64_t b, off;
	int fd;

	pthread_mutex_lock(&writers_lock);
	f = disk < mig_nfiles ? mig_files[disk] : NULL;
	for (b = *block; f && f->dirty && b < nblocks(f); b++)
		if (f->dirty[b / 64] >> (b % 64) & 1)
			break;
	if (!f || !f->dirty || b >= nblocks(f)) {
		pthread_mutex_unlock(&writers_lock);
		return 0;
	}
	/* cleared before the read: a guest write after this sets it again */
	f->dirty[b / 64] &= ~(1ULL << (b % 64));
	off = b * BLK_MIG_BLOCK;
	*len = (uint32_t)(f->b.size_bytes - off < BLK_MIG_BLOCK ? f->b.size_bytes - off : BLK_MIG_BLOCK);
	fd = f->fd;
	pthread_mutex_unlock(&writers_lock);
	*block = b;
	for (uint32_t at = 0; at < *len;) {
		ssize_t n = pread(fd, (uint8_t *)buf + at, *len - at, (off_t)(off + at));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		at += (uint32_t)n;
	}
	return 1;
}

int blk_file_mig_write(int disk, uint64_t off, const void *buf, uint32_t len)
{
	struct blk_file *f;
	int fd;

	pthread_mutex_lock(&writers_lock);
	f = disk >= 0 && disk < mig_nfiles ? mig_files[disk] : NULL;
	fd = f ? f->fd : -1;
	/* the stream's checks, once more where the file is: nothing outside the image */
	if (f && (off > f->b.size_bytes || len > f->b.size_bytes - off))
		fd = -1;
	pthread_mutex_unlock(&writers_lock);
	if (fd < 0)
		return -EINVAL;
	for (uint32_t at = 0; at < len;) {
		ssize_t n = pwrite(fd, (const uint8_t *)buf + at, len - at, (off_t)(off + at));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		at += (uint32_t)n;
	}
	return 0;
}

int blk_file_mig_sync(void)
{
	int ret = 0;

	pthread_mutex_lock(&writers_lock);
	for (int i = 0; i < mig_nfiles && !ret; i++)
		if (mig_files[i] && fsync(mig_files[i]->fd))
			ret = -errno;
	pthread_mutex_unlock(&writers_lock);
	return ret;
}

/* ---- RAM disk ---- */

struct blk_mem {
	struct blk_backend b;
	uint8_t *data;
};

uint8_t *blk_mem_data(struct blk_backend *b)
{
	return ((struct blk_mem *)b)->data;
}

static int blk_mem_xfer(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off, bool write)
{
	uint8_t *data = blk_mem_data(b);
	uint64_t len = blk_iov_len(iov, iovcnt);
	int i;

	if (off > b->size_bytes || len > b->size_bytes - off)
		return -EIO;
	for (i = 0; i < iovcnt; i++) {
		if (write)
			memcpy(data + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, data + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	return 0;
}

static int blk_mem_preadv(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	return blk_mem_xfer(b, iov, iovcnt, off, false);
}

static int blk_mem_pwritev(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	if (b->readonly)
		return -EROFS;
	return blk_mem_xfer(b, iov, iovcnt, off, true);
}

static int blk_mem_flush(struct blk_backend *b)
{
	(void)b;
	return 0;
}

static void blk_mem_close(struct blk_backend *b)
{
	free(blk_mem_data(b));
	free(b);
}

static const struct blk_backend_ops blk_mem_ops = {
	.preadv = blk_mem_preadv,
	.pwritev = blk_mem_pwritev,
	.flush = blk_mem_flush,
	.close = blk_mem_close,
};

int blk_mem_create(struct blk_backend **out, uint64_t size_bytes, bool readonly)
{
	struct blk_mem *m;

	*out = NULL;
	if (!size_bytes || size_bytes % SECTOR || size_bytes > SIZE_MAX)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->data = calloc(1, (size_t)size_bytes);
	if (!m->data) {
		free(m);
		return -ENOMEM;
	}
	m->b = (struct blk_backend){ .ops = &blk_mem_ops, .size_bytes = size_bytes,
				     .readonly = readonly, .name = "ram" };
	*out = &m->b;
	return 0;
}
