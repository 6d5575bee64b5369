/* The --gdb value (tcp:IPV4:PORT or unix:PATH) into a socket address. Pure: config.c checks the
 * option with it, gdb_stub.c listens on the result. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osdev/gdb_stub.h"

int gdb_spec_parse(const char *spec, struct gdb_spec *sp, char *err, size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	if (!strncmp(spec, "unix:", 5)) {
		size_t n = strlen(spec + 5);

		if (!n || n >= sizeof(sp->un.sun_path)) {
			snprintf(err, errlen, "--gdb unix:PATH: the path must have 1-%zu characters",
				 sizeof(sp->un.sun_path) - 1);
			return -EINVAL;
		}
		sp->is_unix = true;
		sp->un.sun_family = AF_UNIX;
		memcpy(sp->un.sun_path, spec + 5, n);
		return 0;
	}
	if (!strncmp(spec, "tcp:", 4)) {
		const char *colon = strrchr(spec + 4, ':');
		char host[INET_ADDRSTRLEN];
		char *end;
		unsigned long port;

		if (colon && (size_t)(colon - (spec + 4)) < sizeof(host)) {
			memcpy(host, spec + 4, (size_t)(colon - (spec + 4)));
			host[colon - (spec + 4)] = '\0';
			errno = 0;
			port = colon[1] >= '0' && colon[1] <= '9' ? strtoul(colon + 1, &end, 10) : 0;
			if (!errno && port >= 1 && port <= 65535 && !*end &&
			    inet_pton(AF_INET, host, &sp->in.sin_addr) == 1) {
				sp->in.sin_family = AF_INET;
				sp->in.sin_port = htons((uint16_t)port);
				return 0;
			}
		}
		snprintf(err, errlen, "--gdb tcp:ADDR:PORT wants an IPv4 address and a port 1-65535, "
			 "e.g. tcp:127.0.0.1:1234; got '%s'", spec);
		return -EINVAL;
	}
	snprintf(err, errlen, "--gdb wants tcp:ADDR:PORT or unix:PATH, not '%s'", spec);
	return -EINVAL;
}

int gdb_stub_spec_check(const char *spec, char *err, size_t errlen)
{
	struct gdb_spec sp;

	return gdb_spec_parse(spec, &sp, err, errlen);
}

