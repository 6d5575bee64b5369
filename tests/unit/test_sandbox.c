/* The seccomp filters' argument rules, in forked children (a forbidden call ends the process with
 * SANDBOX_EXIT_STATUS): sockets are stream sockets of Unix, IPv4 or IPv6 only, in every role that
 * may make one at all. */
#include <errno.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netlink.h>

#include "core/sandbox.h"
#include "test.h"

/* Exit status of a child that loads role's filter and opens socket(domain, type). 0: allowed. */
static int child_socket(enum sandbox_role role, int domain, int type)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd;

		if (sandbox_configure(SANDBOX_KILL, SANDBOX_NO_ROLE))
			_exit(2);
		sandbox_enter(role);
		fd = socket(domain, type, 0);
		_exit(fd >= 0 ? 0 : 3);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_io_role_sockets(void)
{
	CHECK_EQ(child_socket(SANDBOX_IO, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC), 0);	/* vsock's host side */
	CHECK_EQ(child_socket(SANDBOX_IO, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK), 0);
	CHECK_EQ(child_socket(SANDBOX_IO, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC), SANDBOX_EXIT_STATUS);
	CHECK_EQ(child_socket(SANDBOX_IO, AF_PACKET, SOCK_RAW), SANDBOX_EXIT_STATUS);
	CHECK_EQ(child_socket(SANDBOX_IO, AF_INET, SOCK_RAW), SANDBOX_EXIT_STATUS);
	CHECK_EQ(child_socket(SANDBOX_IO, AF_UNIX, SOCK_DGRAM), SANDBOX_EXIT_STATUS);
}

static void test_api_role_sockets(void)
{
	CHECK_EQ(child_socket(SANDBOX_API, AF_INET, SOCK_STREAM | SOCK_CLOEXEC), 0);	/* migration */
	CHECK_EQ(child_socket(SANDBOX_API, AF_INET6, SOCK_STREAM), 0);
	CHECK_EQ(child_socket(SANDBOX_API, AF_INET, SOCK_DGRAM), SANDBOX_EXIT_STATUS);
	CHECK_EQ(child_socket(SANDBOX_API, AF_NETLINK, SOCK_DGRAM), SANDBOX_EXIT_STATUS);
}

static void test_vcpu_role_no_socket(void)
{
	CHECK_EQ(child_socket(SANDBOX_VCPU, AF_UNIX, SOCK_STREAM), SANDBOX_EXIT_STATUS);
}

int main(void)
{
	RUN(test_io_role_sockets);
	RUN(test_api_role_sockets);
	RUN(test_vcpu_role_no_socket);
	return test_summary();
}
