/* The GDB stub (`--gdb tcp:HOST:PORT|unix:PATH [--gdb-wait]`): a thread of its own serving one GDB
 * client at a time over the remote serial protocol (gdb_proto.h), with the vCPUs under
 * core/vcpu_debug.h. */
#ifndef CKVM_OSDEV_GDB_STUB_H
#define CKVM_OSDEV_GDB_STUB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

struct vm;
struct gdb_stub;

struct gdb_spec {
	bool is_unix;
	struct sockaddr_in in;
	struct sockaddr_un un;
};

/* Parse a --gdb value (gdb_stub_spec.c). 0 or -EINVAL with one line in err. */
int gdb_spec_parse(const char *spec, struct gdb_spec *sp, char *err, size_t errlen);
/* Check a --gdb value: "tcp:IPV4:PORT" or "unix:PATH". 0 or -EINVAL with one line in err. */
int gdb_stub_spec_check(const char *spec, char *err, size_t errlen);
/* Main thread, after the vCPUs exist and before they run: listen on spec, set up the vCPUs'
 * debug state (wait: they stop before their first instruction), start the stub thread.
 * 0 or -errno (one line logged). */
int gdb_stub_start(struct gdb_stub **out, struct vm *vm, const char *spec, bool wait);
/* Main thread, after the vCPU threads are gone: tell the client the VM exited, end the thread,
 * close the sockets (a Unix socket is unlinked). NULL is fine. */
void gdb_stub_stop(struct gdb_stub *s);

#endif
