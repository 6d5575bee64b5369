/* `ckvm test`: a VM run as a test. The guest's serial output is captured (fd 1 becomes a pipe the
 * console's writer fills), fed to the --expect/--fail-on matcher by a runner thread and copied to
 * stdout (or the --serial file, or nowhere); the runner stops the VM when the matcher decides or
 * the --timeout runs out. At the end the outcome is decided, the VGA text screen dumped, a TAP or
 * JUnit report written and one summary line printed on stderr. main maps the outcome to a status.
 * Call order (main thread): prepare (before any thread), start (after board_create), vm_stopped
 * (after board_run, guest memory still there), finish (after board_destroy). */
#ifndef CKVM_OSDEV_TEST_MODE_H
#define CKVM_OSDEV_TEST_MODE_H

#include <stdint.h>

#include "config.h"
#include "core/guest_mem.h"
#include "core/vmm_ops.h"
#include "osdev/report.h"

#define TEST_TIMEOUT_DEFAULT_NS	(60ULL * 1000000000ULL)

/* Exit statuses of `ckvm test` (README "Testing your OS with ckvm"): even, so that none is a
 * test-exit status (V << 1) | 1, and apart from run's 1 (usage), 2 (host error), 4 (seccomp). */
#define EXIT_TEST_PASS		0
#define EXIT_TEST_EXPECT	6	/* the guest stopped (poweroff, reboot, hlt) with an --expect pending */
#define EXIT_TEST_FAIL_ON	8	/* a --fail-on pattern matched */
#define EXIT_TEST_CRASH		10	/* triple fault, emulation failure */
#define EXIT_TEST_TIMEOUT	12	/* --timeout ran out */
#define EXIT_TEST_INTERRUPTED	14	/* SIGINT, SIGTERM, SIGHUP */

/* The test's result, as main needs it for the exit status. */
struct test_result {
	enum report_outcome outcome;
	uint32_t exit_value;		/* REPORT_TEST_EXIT */
	bool host_error;		/* the VM stopped on a host failure: not a test result at all */
};

struct test_mode;

/* Check the test options (patterns, --timeout, --report, --exit-pass), open the outputs (screen
 * dump, report, --serial file) so that no later step needs open(2), and capture the serial output:
 * stdin becomes /dev/null (headless), stdout a pipe; cfg->serial is set to stdio for the console.
 * 0, or for bad input -EINVAL with one line in err, or an output refused (logged: -EBUSY, -EACCES,
 * -ENOENT...); for a host failure (logged) -EIO, -ENOMEM, -EMFILE or -ENFILE. */
int test_mode_prepare(struct test_mode **out, struct vm_config *cfg, char *err, size_t errlen);
/* Start the runner thread (it loads the serial-out sandbox role); vmm is the VM's. 0 or -errno. */
int test_mode_start(struct test_mode *t, const struct vmm_ops *vmm);
/* The VM stopped (board_run returned) with why/code/msg; copies the VGA text buffer out of gm for
 * --screen-dump. From here the runner no longer stops the VM. */
void test_mode_vm_stopped(struct test_mode *t, enum vm_stop_reason why, int code, const char *msg,
			  const struct guest_mem *gm);
/* After board_destroy (the console flushed its output into the pipe): end the capture, let the
 * runner drain it, decide the outcome, write the screen dump and report, print the summary, and
 * free t. */
void test_mode_finish(struct test_mode *t, struct test_result *res);

#endif
