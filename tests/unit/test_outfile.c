/* Output files: never truncate an input of this VM (by identity: links and symlinks too) or a file
 * another process holds locked (another ckvm's disk, kernel or output); truncate only after every
 * check; keep a lock so that no other ckvm takes the output as a disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backend/outfile.h"
#include "test.h"

static char tmpdir[] = "/tmp/ckvm-outfile-XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void file_write(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* What another process's lock looks like: an OFD lock on a separate open file description. */
static int lock_other(const char *path, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int fd = open(path, type == F_WRLCK ? O_RDWR : O_RDONLY);

	CHECK(fd >= 0);
	CHECK_EQ(fcntl(fd, F_OFD_SETLK, &fl), 0);
	return fd;
}

static void input_add(struct file_ids *ids, const char *path, const char *what)
{
	struct stat st;

	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(file_ids_add(ids, &st, what, false), 0);
}

static void test_new_and_existing(void)
{
	struct file_ids ids = { .n = 0 };
	char out[128];
	int fd;

	path_of(out, sizeof(out), "new.log");
	fd = outfile_open(&ids, "--serial file=", out);
	CHECK(fd >= 0);
	CHECK_EQ(file_size(out), 0);
	CHECK_EQ(ids.n, 1);
	CHECK(ids.id[0].output);
	CHECK_EQ(write(fd, "boot", 4), 4);
	close(fd);

	/* an old log is truncated, once the checks pass */
	file_write(out, "old log text");
	fd = outfile_open(NULL, "--serial file=", out);
	CHECK(fd >= 0);
	CHECK_EQ(file_size(out), 0);
	close(fd);
	unlink(out);
}

static void test_inputs_refused(void)
{
	struct file_ids ids = { .n = 0 };
	char kernel[128], initrd[128], disk[128], slink[128], hard[128];

	path_of(kernel, sizeof(kernel), "kernel");
	path_of(initrd, sizeof(initrd), "initrd");
	path_of(disk, sizeof(disk), "disk.img");
	path_of(slink, sizeof(slink), "link");
	path_of(hard, sizeof(hard), "hardlink");
	file_write(kernel, "KERNEL");
	file_write(initrd, "INITRD");
	file_write(disk, "DISK IMAGE");
	input_add(&ids, kernel, "the kernel image (--kernel)");
	input_add(&ids, initrd, "the initrd (--initrd)");
	input_add(&ids, disk, "a disk image (--disk)");
	CHECK_EQ(symlink(disk, slink), 0);
	CHECK_EQ(link(kernel, hard), 0);

	CHECK_EQ(outfile_open(&ids, "--serial file=", kernel), -EBUSY);
	CHECK_EQ(outfile_open(&ids, "--serial file=", initrd), -EBUSY);
	CHECK_EQ(outfile_open(&ids, "--serial file=", disk), -EBUSY);
	CHECK_EQ(outfile_open(&ids, "--serial file=", slink), -EBUSY);
	CHECK_EQ(outfile_open(&ids, "--serial file=", hard), -EBUSY);
	CHECK_EQ(file_size(kernel), 6);
	CHECK_EQ(file_size(initrd), 6);
	CHECK_EQ(file_size(disk), 10);
	CHECK_EQ(ids.n, 3);	/* nothing added */
	unlink(slink);
	unlink(hard);
	unlink(kernel);
	unlink(initrd);
	unlink(disk);
}

static void test_outputs_twice(void)
{
	struct file_ids ids = { .n = 0 };
	char out[128], link[128];
	int fd;

	path_of(out, sizeof(out), "out.log");
	path_of(link, sizeof(link), "out.link");
	CHECK_EQ(symlink(out, link), 0);
	fd = outfile_open(&ids, "--serial file=", out);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "first", 5), 5);
	CHECK_EQ(outfile_open(&ids, "--debug file=", link), -EBUSY);
	CHECK_EQ(file_size(out), 5);
	close(fd);
	unlink(link);
	unlink(out);
}

/* Another ckvm's disk (write lock), readonly disk or kernel (read lock), or output (write lock). */
static void test_locked_by_another(void)
{
	char disk[128], out[128];
	int other, fd;

	path_of(disk, sizeof(disk), "other.img");
	file_write(disk, "another VM's disk");
	other = lock_other(disk, F_WRLCK);
	CHECK_EQ(outfile_open(NULL, "--serial file=", disk), -EBUSY);
	CHECK_EQ(file_size(disk), 17);
	close(other);
	other = lock_other(disk, F_RDLCK);
	CHECK_EQ(outfile_open(NULL, "--serial file=", disk), -EBUSY);
	CHECK_EQ(file_size(disk), 17);
	close(other);

	/* an output keeps its lock: nobody takes it as a disk meanwhile */
	path_of(out, sizeof(out), "locked.log");
	fd = outfile_open(NULL, "--serial file=", out);
	CHECK(fd >= 0);
	other = open(out, O_RDWR);
	CHECK(other >= 0);
	{
		struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };

		CHECK_EQ(fcntl(other, F_OFD_SETLK, &fl), -1);
		CHECK(errno == EAGAIN || errno == EACCES);
	}
	close(other);
	close(fd);
	unlink(out);
	unlink(disk);
}

static void test_special_files(void)
{
	char node[128], fifo[128], dir[128];
	int fd, rd;

	/* a terminal or /dev/null is fine, and never truncated or locked */
	fd = outfile_open(NULL, "--serial file=", "/dev/null");
	CHECK(fd >= 0);
	close(fd);

	/* a pipe with a reader */
	path_of(fifo, sizeof(fifo), "fifo");
	CHECK_EQ(mkfifo(fifo, 0600), 0);
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0);
	fd = outfile_open(NULL, "--serial file=", fifo);
	CHECK(fd >= 0);
	close(fd);
	close(rd);
	unlink(fifo);

	/* a block device is refused before it is opened (major 240: local/experimental, no driver) */
	path_of(node, sizeof(node), "blk");
	if (mknod(node, S_IFBLK | 0600, makedev(240, 0)) == 0) {
		CHECK_EQ(outfile_open(NULL, "--serial file=", node), -EBUSY);
		unlink(node);
	} else {
		printf("skip block device node: %s\n", strerror(errno));
	}

	path_of(dir, sizeof(dir), "no/such/dir");
	CHECK_EQ(outfile_open(NULL, "--serial file=", dir), -ENOENT);
	CHECK_EQ(outfile_open(NULL, "--serial file=", tmpdir), -EISDIR);
	CHECK_EQ(outfile_open(NULL, "--serial file=", ""), -EINVAL);
}

static void test_ids_full(void)
{
	struct file_ids ids = { .n = 0 };
	struct stat st = { .st_dev = 1 };
	int i;

	for (i = 0; i < FILE_IDS_MAX; i++) {
		st.st_ino = (ino_t)i + 1;
		CHECK_EQ(file_ids_add(&ids, &st, "x", false), 0);
	}
	CHECK_EQ(file_ids_add(&ids, &st, "x", false), -ENOSPC);
	st.st_ino = 5;
	CHECK(file_ids_find(&ids, &st) == &ids.id[4]);
	st.st_dev = 2;
	CHECK(file_ids_find(&ids, &st) == NULL);
	CHECK(file_ids_find(NULL, &st) == NULL);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_new_and_existing);
	RUN(test_inputs_refused);
	RUN(test_outputs_twice);
	RUN(test_locked_by_another);
	RUN(test_special_files);
	RUN(test_ids_full);
	rmdir(tmpdir);
	return test_summary();
}
