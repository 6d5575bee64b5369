/* Output files (--serial file=PATH and every later output path): opened so that they can never destroy
 * an input of this VM (kernel, initrd, disk) or of another ckvm. Files are known by identity
 * (st_dev, st_ino), so links, symlinks and different spellings of one path are caught alike. */
#ifndef CKVM_BACKEND_OUTFILE_H
#define CKVM_BACKEND_OUTFILE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FILE_IDS_MAX 32

struct file_id {
	dev_t dev;
	ino_t ino;
	const char *what;	/* for messages: "the kernel image (--kernel)", or an output's option */
	bool output;		/* written by this VM (outfile_open) rather than read */
};

/* The files one VM uses. The config fills in the inputs; outfile_open() adds each output. */
struct file_ids {
	struct file_id id[FILE_IDS_MAX];
	int n;
};

/* Remember st's file as what (a string that outlives ids). 0, or -ENOSPC when ids is full. */
int file_ids_add(struct file_ids *ids, const struct stat *st, const char *what, bool output);
/* The entry for st's file, or NULL. ids may be NULL. */
const struct file_id *file_ids_find(const struct file_ids *ids, const struct stat *st);

/* Open path for writing; opt names the output in messages ("--serial file="). In this order:
 * refuse an existing file that is in ids (an input of this VM, or one of its other outputs) or a
 * block device, without opening it; open O_WRONLY|O_CREAT|O_CLOEXEC|O_NOCTTY, mode 0644, never
 * O_TRUNC (nothing is lost yet); check what was opened again (fstat); for a regular file take an
 * OFD write lock, refusing a file another process holds locked (the locks blk_file.c takes on
 * disks and board.c on kernels and initrds); only then truncate it. Character devices and FIFOs (a
 * terminal, /dev/null, a pipe) are used as they are. The lock lives as long as the fd, so no
 * other ckvm takes this file as a disk or output meanwhile. On success the file joins ids (when
 * not NULL) and the fd is returned. On failure one line is logged ("--serial file=X: is the kernel
 * image (--kernel); refusing to overwrite an input") and -EBUSY (refused) or the -errno of the
 * failing call is returned. */
int outfile_open(struct file_ids *ids, const char *opt, const char *path);

#endif
