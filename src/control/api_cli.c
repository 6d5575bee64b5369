/* The command lines of the control plane: `ckvm --api-sock PATH [--config-file FILE] [--no-api]
 * [--id ID] [--verbose]` (a VM configured over the API or from a file, like `firecracker
 * --api-sock`) and the exit status of a failed api_create(). Main thread. */
#include "control/api_cli.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "arch/x86/board.h"
#include "config.h"
#include "control/vmconf.h"

enum { OPT_SOCK = 300, OPT_FILE, OPT_NO_API, OPT_ID, OPT_VERBOSE, OPT_HELP };

static const struct option opts[] = {
	{ "api-sock", required_argument, NULL, OPT_SOCK },
	{ "config-file", required_argument, NULL, OPT_FILE },
	{ "no-api", no_argument, NULL, OPT_NO_API },
	{ "id", required_argument, NULL, OPT_ID },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

bool api_cli_is_mode(const char *arg)
{
	for (const struct option *o = opts; o->name; o++)
		if (o->val != OPT_HELP && o->val != OPT_VERBOSE && !strncmp(arg, "--", 2) &&
		    !strncmp(arg + 2, o->name, strlen(o->name)) &&
		    (arg[2 + strlen(o->name)] == '\0' || arg[2 + strlen(o->name)] == '='))
			return true;
	return false;
}

int api_cli_parse(int argc, char **argv, struct api_options *ao, int *verbose, char *err,
		  size_t errlen)
{
	unsigned seen = 0;
	bool no_api = false;
	int c, idx;

	memset(ao, 0, sizeof(*ao));
	*verbose = 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, &idx)) != -1) {
		if (c == '?')
			return config_fail(err, errlen, "unknown option '%s' (try 'ckvm --help')",
					   argv[optind - 1]);
		if (c == ':')
			return config_fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
		if (c != OPT_VERBOSE && (seen & 1u << (c - OPT_SOCK)))
			return config_fail(err, errlen, "--%s given twice", opts[idx].name);
		seen |= 1u << (c - OPT_SOCK);
		switch (c) {
		case OPT_SOCK: ao->sock_path = optarg; break;
		case OPT_FILE: ao->config_file = optarg; break;
		case OPT_NO_API: no_api = true; break;
		case OPT_ID:
			if (vmconf_id_check("--id", optarg, strlen(optarg), err, errlen))
				return -EINVAL;
			ao->id = optarg;
			break;
		case OPT_VERBOSE: (*verbose)++; break;
		default:
			return config_fail(err, errlen, "--help: see 'ckvm --help'");
		}
	}
	if (optind < argc)
		return config_fail(err, errlen, "unexpected argument '%s'", argv[optind]);
	if (no_api && ao->sock_path)
		return config_fail(err, errlen, "--no-api and --api-sock contradict each other");
	if (no_api && !ao->config_file)
		return config_fail(err, errlen, "--no-api needs --config-file (nothing else could start the VM)");
	if (!ao->sock_path && !ao->config_file)
		return config_fail(err, errlen, "--api-sock PATH or --config-file FILE is needed");
	return 0;
}

int api_exit_status(int err)
{
	switch (err) {
	case -EINVAL: case -EEXIST: case -EADDRINUSE: case -ENAMETOOLONG: case -EACCES: case -ENOENT:
	case -ENOTDIR: case -EPERM:
		return EXIT_USAGE;
	default:
		return EXIT_HOST_ERROR;
	}
}
