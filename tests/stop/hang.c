/* LD_PRELOAD shim for the stop tests: a disk back-end that hangs. preadv/pwritev/fdatasync on a file
 * whose name ends in ".hang" never return (like a dead NFS server or disk); everything else goes to
 * libc. The calling thread (a virtio-blk worker) sleeps until the process exits. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int is_hung(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 5)
		return 0;
	path[n] = 0;
	return strcmp(path + n - 5, ".hang") == 0;
}

static void hang(void)
{
	for (;;)
		pause();
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
