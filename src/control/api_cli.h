/* Command-line entry points of the control plane (api_cli.c, ctl.c). */
#ifndef CKVM_CONTROL_API_CLI_H
#define CKVM_CONTROL_API_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "control/api.h"

/* argv[1] starts the API mode (--api-sock, --config-file, --no-api, --id). */
bool api_cli_is_mode(const char *arg);
/* `ckvm --api-sock PATH [--config-file FILE] [--no-api] [--id ID] [--verbose]` into ao (pointing
 * into argv). 0 or -EINVAL with one line in err. */
int api_cli_parse(int argc, char **argv, struct api_options *ao, int *verbose, char *err,
		  size_t errlen);
/* The exit status for api_create()'s -errno: bad input (1) or a host error (2). */
int api_exit_status(int err);
/* `ckvm ctl --api-sock PATH info|pause|resume|shutdown|config`: argv[0] is "ctl". Returns the
 * exit status: 0 done, 1 refused by ckvm (its fault_message on stderr) or bad usage, 2 no answer. */
int ctl_main(int argc, char **argv);

#endif
