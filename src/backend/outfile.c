/* Safe opening of output files: nothing is truncated until the file is known not to be an input of
 * this VM or another (identity by st_dev/st_ino; locks per fcntl(2) "Open file description locks").
 * Main thread, at setup. */
#include "backend/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int file_ids_add(struct file_ids *ids, const struct stat *st, const char *what, bool output)
{
	if (ids->n == FILE_IDS_MAX)
		return -ENOSPC;
	ids->id[ids->n++] = (struct file_id){ .dev = st->st_dev, .ino = st->st_ino, .what = what,
					      .output = output };
	return 0;
}

const struct file_id *file_ids_find(const struct file_ids *ids, const struct stat *st)
{
	int i;

	for (i = 0; ids && i < ids->n; i++)
		if (ids->id[i].dev == st->st_dev && ids->id[i].ino == st->st_ino)
			return &ids->id[i];
	return NULL;
}

/* -EBUSY when another open file description holds a lock on any byte of fd's file (ours is taken
 * and kept), 0 when the lock is ours or the filesystem has no such locks (nothing to protect). */
static int outfile_lock(int fd, const char *opt, const char *path)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		log_err(NULL, "%s%s: locked by another process (a disk, kernel or output of another ckvm?); "
			"refusing to write to it", opt, path);
		return -EBUSY;
	}
	log_errno(LOG_DEBUG, NULL, -errno, "%s%s: not locked", opt, path);
	return 0;
}

/* Every reason not to write to this file that its identity gives. */
static int outfile_refuse(const struct file_ids *ids, const struct stat *st, const char *opt,
			  const char *path)
{
	const struct file_id *same = file_ids_find(ids, st);

	if (same && same->output) {
		log_err(NULL, "%s%s: also the output of %s; refusing to write to it twice", opt, path,
			same->what);
		return -EBUSY;
	}
	if (same) {
		log_err(NULL, "%s%s: is %s; refusing to overwrite an input", opt, path, same->what);
		return -EBUSY;
	}
	if (S_ISBLK(st->st_mode)) {
		log_err(NULL, "%s%s: is a block device; refusing to write to it", opt, path);
		return -EBUSY;
	}
	return 0;
}

int outfile_open(struct file_ids *ids, const char *opt, const char *path)
{
	struct stat st;
	int fd, ret;

	if (!path || !*path) {
		log_err(NULL, "%s: no file name", opt);
		return -EINVAL;
	}
	/* An existing input or block device is not even opened for writing. */
	if (stat(path, &st) == 0 && (ret = outfile_refuse(ids, &st, opt, path)))
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "%s%s", opt, path);
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "%s%s", opt, path);
		goto fail;
	}
	/* Again on what was opened: the path may have changed hands since stat(). */
	if ((ret = outfile_refuse(ids, &st, opt, path)))
		goto fail;
	if (S_ISREG(st.st_mode) && (ret = outfile_lock(fd, opt, path)))
		goto fail;
	if (S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
		ret = -errno;
		log_errno(LOG_ERR, NULL, ret, "%s%s: truncate", opt, path);
		goto fail;
	}
	if (ids && (ret = file_ids_add(ids, &st, opt, true))) {
		log_err(NULL, "%s%s: more than %d files in use", opt, path, FILE_IDS_MAX);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}
