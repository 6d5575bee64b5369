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
	char path[];
};

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

static int blk_file_pwritev(struct blk_backend *b, struct iovec *iov, int iovcnt, uint64_t off)
{
	if (b->readonly)
		return -EROFS;
	return blk_file_xfer(((struct blk_file *)b)->fd, iov, iovcnt, off, true);
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
