/* ckvm entry point: parse the configuration, build the board, run it, and map the way the VM stopped
 * to the process exit status. The only place that calls exit(). The process's signal policy is set
 * here and in board_create (stop signals); the handlers below run on whichever thread takes them. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/board.h"
#include "arch/x86/board_api.h"
#include "arch/x86/board_migrate.h"
#include "arch/x86/board_snapshot.h"
#include "backend/console.h"
#include "config.h"
#include "control/api_cli.h"
#include "core/sandbox.h"
#include "osdev/gdb_stub.h"
#include "log.h"
#include "osdev/test_mode.h"

/* The one status not mapped here: the sandbox's SIGSYS handler exits with it from any thread. */
_Static_assert(EXIT_SANDBOX == SANDBOX_EXIT_STATUS, "README's exit status 4");

static int stop_exit_code(enum vm_stop_reason why, int code)
{
	switch (why) {
	case VM_STOP_POWEROFF:
	case VM_STOP_REBOOT:
	case VM_STOP_USER:
		return EXIT_GUEST_OK;
	case VM_STOP_TEST_EXIT:
		return (int)((((unsigned)code << 1) | 1) & 0xff);
	case VM_STOP_CRASH:
		return EXIT_GUEST_CRASH;
	case VM_STOP_NONE:
	case VM_STOP_HOST_ERROR:
	default:
		return EXIT_HOST_ERROR;
	}
}

/* `ckvm test`'s statuses (osdev/test_mode.h; README "Testing your OS with ckvm"). */
static int test_exit_status(const struct test_result *r)
{
	if (r->host_error)
		return EXIT_HOST_ERROR;
	switch (r->outcome) {
	case REPORT_PASS: return EXIT_TEST_PASS;
	case REPORT_EXPECT_NOT_MET: return EXIT_TEST_EXPECT;
	case REPORT_FAIL_ON: return EXIT_TEST_FAIL_ON;
	case REPORT_CRASH: return EXIT_TEST_CRASH;
	case REPORT_TIMEOUT: return EXIT_TEST_TIMEOUT;
	case REPORT_INTERRUPTED: return EXIT_TEST_INTERRUPTED;
	case REPORT_TEST_EXIT: return (int)(((r->exit_value << 1) | 1) & 0xff);
	}
	return EXIT_HOST_ERROR;
}

/* A crash of ckvm itself must not leave the terminal in raw mode: restore it, then die as before. */
static void on_fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Signals ckvm cannot or should not survive to a clean stop: faults (SIGSEGV...), abort(), SIGQUIT
 * (asks for a core now), SIGTRAP (a debugger). SIGSYS is the sandbox's (sandbox_configure): a
 * forbidden call exits with EXIT_SANDBOX, any other SIGSYS is fatal like these. The asynchronous
 * terminating signals stop the VM cleanly instead (board_stop_signals). */
static void fatal_signals_catch(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT, SIGTRAP };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal_signal);
}

/* SIGTSTP (kill -TSTP; Ctrl-Z is an ordinary key in raw mode), SIGTTIN, SIGTTOU: put the terminal
 * back to cooked, stop for real with the same signal, and on SIGCONT take raw mode again. */
static void on_job_stop(int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, mine;
	int saved_errno = errno;
	sigset_t set, old;

	console_suspend();
	sigaction(sig, &dfl, &mine);
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, &old);
	raise(sig);		/* the process stops in this call */
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(sig, &mine, NULL);
	/* Continued, or never stopped (an orphaned process group ignores SIGTSTP): raw again, if the
	 * terminal is ours. SIGCONT's handler does the same; twice is harmless. */
	console_resume();
	errno = saved_errno;
}

static void on_job_continue(int sig)
{
	int saved_errno = errno;

	(void)sig;
	console_resume();
	errno = saved_errno;
}

/* Before any thread exists (the API's, the board's): every thread inherits these blocked, so the
 * stop signals reach only a signalfd (the API's before the VM starts, then the board's) and the
 * vCPU kick only the vCPU threads, which unblock it. */
static void stop_signals_block(void)
{
	sigset_t set;

	vm_stop_signals(&set);
	sigaddset(&set, SIGURG);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void job_control_catch(void)
{
	struct sigaction sa = { .sa_handler = on_job_stop, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	sa.sa_handler = on_job_continue;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGCONT, &sa, NULL);
}

/* The VM was stopped cleanly because of sig (not SIGHUP/SIGINT/SIGTERM): die of it, so the parent
 * sees what ended ckvm. The terminal is already restored; this makes sure. */
static void die_of_signal(int sig)
{
	sigset_t set;

	console_restore();
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	raise(sig);	/* pending while blocked; unblocking delivers it */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	static struct board board;
	const struct vm_config *run_cfg = &cfg;
	struct api_options ao = { 0 };
	struct api *api = NULL;
	struct gdb_stub *gdb = NULL;
	struct api_vmm ops;
	struct test_mode *tm = NULL;
	struct test_result tres;
	enum config_action action = CONFIG_RUN;
	enum vm_stop_reason why;
	char err[512];
	int ret, code, sig;

	log_timeline_start();
	log_output_init();
	if (argc > 1 && !strcmp(argv[1], "ctl"))
		exit(ctl_main(argc - 1, argv + 1));
	if (argc > 1 && api_cli_is_mode(argv[1])) {
		/* ckvm --api-sock PATH [--config-file FILE]: configured over the API or from the file */
		if (api_cli_parse(argc, argv, &ao, &cfg.verbose, err, sizeof(err))) {
			fprintf(stderr, "ckvm: error: %s\n", err);
			exit(EXIT_USAGE);
		}
	} else if (config_parse(argc, argv, &cfg, &action, err, sizeof(err))) {
		fprintf(stderr, "ckvm: error: %s\n", err);
		exit(EXIT_USAGE);
	}
	if (action == CONFIG_HELP) {
		config_usage(stdout);
		exit(EXIT_GUEST_OK);
	}
	if (action == CONFIG_VERSION) {
		printf("ckvm %s\n", CKVM_VERSION);
		exit(EXIT_GUEST_OK);
	}
	if (cfg.print_config) {
		config_print(&cfg, stdout);
		exit(EXIT_GUEST_OK);
	}
	if (cfg.verbose)
		log_threshold = LOG_DEBUG;
	log_timeline("config parsed");
	if (cfg.test.enabled && (ret = test_mode_prepare(&tm, &cfg, err, sizeof(err)))) {
		if (err[0])
			fprintf(stderr, "ckvm: error: %s\n", err);
		exit(ret == -EIO || ret == -ENOMEM || ret == -EMFILE || ret == -ENFILE ? EXIT_HOST_ERROR :
		     EXIT_USAGE);
	}
	fatal_signals_catch();
	if (sandbox_configure(cfg.seccomp, cfg.seccomp_trigger - 1))	/* before any thread */
		exit(EXIT_HOST_ERROR);	/* one line logged */
	job_control_catch();
	stop_signals_block();
	if (cfg.api_sock) {	/* ckvm run ... --api-sock PATH: flags configure, the API manages */
		ao.sock_path = cfg.api_sock;
		ao.cfg = &cfg;
	}
	if (ao.sock_path || ao.config_file) {
		if ((ret = api_create(&api, &ao)))
			exit(api_exit_status(ret));	/* one line logged */
		if (api_wait_start(api, &run_cfg)) {
			api_destroy(api);	/* ended before a VM was asked for */
			exit(EXIT_GUEST_OK);
		}
	}

	board_migrate_before_create(run_cfg);	/* --incoming: disks locked once migrated */
	ret = board_create(&board, run_cfg);
	if (!ret)
		ret = board_restore_config(&board);	/* --restore, PUT /snapshot/load; else nothing */
	if (!ret)
		ret = board_migrate_incoming(&board);	/* --incoming: RAM and state from the source */
	board_api_ops(&board, &ops);
	api_vm_created(api, ret, log_last_error(), ret ? NULL : &ops);
	if (ret) {
		/* board_create logged one line; it knows whether the user's input was at fault */
		code = board.bad_input ? EXIT_USAGE : EXIT_HOST_ERROR;
		board_destroy(&board);
		api_destroy(api);
		exit(code);
	}
	if (run_cfg->gdb && (ret = gdb_stub_start(&gdb, &board.vm, run_cfg->gdb, run_cfg->gdb_wait))) {
		board_destroy(&board);	/* one line logged */
		api_destroy(api);
		exit(EXIT_HOST_ERROR);
	}
	if (tm && (ret = test_mode_start(tm, &board.vm.ops))) {
		log_errno(LOG_ERR, "test", ret, "cannot start the output reader");
		gdb_stub_stop(gdb);
		board_destroy(&board);
		exit(EXIT_HOST_ERROR);
	}
	why = board_run(&board);
	if (!board.abandoned)	/* a vCPU that would not stop may still look at the debug state */
		gdb_stub_stop(gdb);
	board_migrate_finish(&board);	/* a migration thread still going is joined */
	api_vm_gone(api);
	code = stop_exit_code(why, board.vm.stop_code);
	if (tm)	/* the stop message goes into the test's summary line */
		test_mode_vm_stopped(tm, why, board.vm.stop_code, board.vm.stop_msg, &board.vm.gm);
	else if (board.vm.stop_msg[0])
		log_msg(why == VM_STOP_CRASH || why == VM_STOP_HOST_ERROR ? LOG_ERR : LOG_DEBUG, NULL,
			"%s", board.vm.stop_msg);
	sig = board.die_signal;
	board_destroy(&board);
	api_destroy(api);
	if (tm) {
		test_mode_finish(tm, &tres);
		code = test_exit_status(&tres);
	}
	if (sig)
		die_of_signal(sig);
	exit(code);
}
