/* vsockt: the guest end of ckvm's vsock test (busybox has no AF_VSOCK). Static, in the initramfs.
 *   vsockt listen PORT        accept one connection on PORT, copy what it sends to stdout until EOF
 *                             ("CKVM-VSOCK-LISTEN PORT" on stderr once it listens)
 *   vsockt connect CID PORT   connect to CID:PORT, send stdin, half-close, wait for the peer's EOF
 * The address struct is spelled out here because musl's headers lack <linux/vm_sockets.h>.
 * Exit status 0 on success, 1 with a message on stderr otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VSOCK_FAMILY 40		/* AF_VSOCK */
#define VSOCK_CID_ANY 0xffffffffu

struct vsock_addr {
	unsigned short family;
	unsigned short reserved1;
	unsigned int port;
	unsigned int cid;
	unsigned char flags;
	unsigned char zero[3];
};

static int die(const char *what)
{
	fprintf(stderr, "vsockt: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Copy from in to out until EOF; a short write is retried, EINTR too. */
static int pump(int in, int out)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf)), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		while (off < n) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	}
}

static struct vsock_addr addr_of(unsigned cid, unsigned port)
{
	struct vsock_addr a;

	memset(&a, 0, sizeof(a));
	a.family = VSOCK_FAMILY;
	a.cid = cid;
	a.port = port;
	return a;
}

int main(int argc, char **argv)
{
	struct vsock_addr a;
	int s, c;

	s = socket(VSOCK_FAMILY, SOCK_STREAM, 0);
	if (s < 0)
		return die("socket");
	if (argc == 3 && !strcmp(argv[1], "listen")) {
		a = addr_of(VSOCK_CID_ANY, (unsigned)strtoul(argv[2], NULL, 10));
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("bind");
		if (listen(s, 1) < 0)
			return die("listen");
		/* only now may the host connect: a CONNECT before the bind would be refused */
		fprintf(stderr, "CKVM-VSOCK-LISTEN %s\n", argv[2]);
		c = accept(s, NULL, NULL);
		if (c < 0)
			return die("accept");
		return pump(c, 1) ? die("receive") : 0;
	}
	if (argc == 4 && !strcmp(argv[1], "connect")) {
		char b;

		a = addr_of((unsigned)strtoul(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10));
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
			return die("connect");
		if (pump(0, s))
			return die("send");
		shutdown(s, SHUT_WR);
		/* the host side closes once it has everything: only then is the data known delivered */
		while (read(s, &b, 1) > 0)
			;
		return 0;
	}
	fprintf(stderr, "usage: vsockt listen PORT | vsockt connect CID PORT\n");
	return 1;
}
