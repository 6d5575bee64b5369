/* The seccomp sandbox: one allow-list per thread role (sandbox.c), compiled with libseccomp
 * on the main thread before any other thread exists and loaded by each thread as the first thing
 * its thread function does. A forbidden call ends ckvm with one line and EXIT_SANDBOX. */
#ifndef CKVM_SANDBOX_H
#define CKVM_SANDBOX_H

enum sandbox_role {
	SANDBOX_MAIN,		/* after setup: waits for the stop, joins the others, tears down */
	SANDBOX_VCPU,		/* KVM_RUN and the device models behind its exits */
	SANDBOX_IO,		/* the event loop: console input, tap, signalfd, eventfds */
	SANDBOX_VBLK,		/* a virtio-blk worker: I/O on its disk file */
	SANDBOX_SERIAL_OUT,	/* the writer behind the serial/debug console */
	SANDBOX_API,		/* the HTTP API: its socket, log/metrics files, drive replacement, pause */
	SANDBOX_GDB,		/* the GDB stub: its client socket, halted vCPUs' registers */
	SANDBOX_NROLES,
	SANDBOX_NO_ROLE = -1,
};

enum sandbox_mode {
	SANDBOX_KILL,	/* default: SIGSYS, one line, exit status EXIT_SANDBOX */
	SANDBOX_LOG,	/* the call goes through; the kernel logs it (audit type=1326) */
	SANDBOX_OFF,	/* no filter */
};

/* The exit status of a forbidden system call (README "Exit status"; arch/x86/board.h agrees). */
#define SANDBOX_EXIT_STATUS 4

/* Main thread, before any other thread is created: compile every role's filter, take SIGSYS (a
 * forbidden call, or SIGSYS from kill(2), which stays fatal), set no_new_privs. trigger: a role
 * whose thread makes one forbidden call right after loading its filter (tests), or
 * SANDBOX_NO_ROLE. 0 or -errno (one line logged). */
int sandbox_configure(enum sandbox_mode mode, int trigger);
/* The first line of a thread function (main: once the other threads exist). Loads the role's
 * filter; if that fails in kill mode, ckvm ends as for a forbidden call (the thread cannot run
 * unconfined, and has nobody to return an error to). */
void sandbox_enter(enum sandbox_role role);
/* "vcpu", "serial-out"...; NULL for an unknown role. Role by name: -1 if none. */
const char *sandbox_role_name(int role);
int sandbox_role_parse(const char *name);

#endif
