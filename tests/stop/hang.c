/* LD_PRELOAD shim for the stop tests: a disk back-end that hangs. preadv/pwritev/fdatasync on the
 * file whose inode number is in $CKVM_HANG_INO (the test's disk.hang) never return (like a dead NFS
 * server or disk); everything else goes to libc. The calling thread (a virtio-blk worker) sleeps
 * until the process exits. Only calls the worker's seccomp filter allows: fstat, futex. */
#include <dlfcn.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int is_hung(int fd)
{
	const char *ino = getenv("CKVM_HANG_INO");
	struct stat st;

	return ino && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       (unsigned long long)st.st_ino == strtoull(ino, NULL, 10);
}

static void hang(void)
{
	static int never;

	for (;;)
		syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t (*real)(int, const struct iovec *, int, off_t) =
		(ssize_t (*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "preadv");

	if (is_hung(fd))
		hang();
	return real(fd, iov, cnt, off);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t (*real)(int, const struct iovec *, int, off_t) =
		(ssize_t (*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev");

	if (is_hung(fd))
		hang();
	return real(fd, iov, cnt, off);
}

int fdatasync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");

	if (is_hung(fd))
		hang();
	return real(fd);
}
