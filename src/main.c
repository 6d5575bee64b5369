/* ckvm entry point: parse the configuration, build the board, run it, and map the way the VM stopped
 * to the process exit status. The only place that calls exit(). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/board.h"
#include "arch/x86/board_api.h"
#include "backend/console.h"
#include "config.h"
#include "control/api_cli.h"
#include "log.h"

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

/* A crash of ckvm itself must not leave the terminal in raw mode: restore it, then die as before. */
static void on_fatal_signal(int sig)
{
	console_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fatal_signals_catch(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGQUIT };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal_signal);
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;
	static struct board board;
	const struct vm_config *run_cfg = &cfg;
	struct api_options ao = { 0 };
	struct api *api = NULL;
	struct api_vmm ops;
	enum config_action action = CONFIG_RUN;
	enum vm_stop_reason why;
	char err[512];
	int ret, code;

	log_timeline_start();
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
	fatal_signals_catch();
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

	ret = board_create(&board, run_cfg);
	board_api_ops(&board, &ops);
	api_vm_created(api, ret ? ret : 0, log_last_error(), ret ? NULL : &ops);
	if (ret) {
		board_destroy(&board);
		api_destroy(api);
		exit(ret);	/* board_create logged one line; ret is EXIT_USAGE or EXIT_HOST_ERROR */
	}
	why = board_run(&board);
	api_vm_gone(api);
	code = stop_exit_code(why, board.vm.stop_code);
	if (board.vm.stop_msg[0])
		log_msg(why == VM_STOP_CRASH || why == VM_STOP_HOST_ERROR ? LOG_ERR : LOG_DEBUG, NULL,
			"%s", board.vm.stop_msg);
	board_destroy(&board);
	api_destroy(api);
	exit(code);
}
