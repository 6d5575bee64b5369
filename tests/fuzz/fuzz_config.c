/* libFuzzer target for the command line (src/config.c, config_parse as main calls it): the input is
 * argv[1..] as NUL-separated strings ("ckvm" is prepended as argv[0]). A parse either fails with a
 * message or yields a configuration that satisfies config_validate's rules and prints.
 * Paths are only stat()ed. Single-threaded. */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ARGS_MAX 64

static FILE *devnull;

/* glibc's getopt keeps a pointer into the previous argv between calls; only optind = 0 resets it.
 * config_parse sets optind = 1 (enough for its single call in main), so a parse that stopped inside
 * a cluster such as "-xy" would make the next one read freed memory. Reset here, once per input. */
static void getopt_reset(void)
{
	static char *dummy[] = { "fuzz", NULL };

	optind = 0;
	opterr = 0;
	(void)getopt(1, dummy, "");
}

static void check_config(const struct vm_config *c)
{
	assert(!!c->kernel != !!c->bios);	/* --bios boots the disks: no kernel with it */
	assert(c->memory_bytes >= (16u << 20) && !(c->memory_bytes & 0xfff));
	assert(c->cpus >= 1);	/* the upper bound is the host KVM's, checked by config_check_host */
	assert(c->ndisks >= 0 && c->ndisks <= CONFIG_MAX_DISKS);
	assert(c->nnets >= 0 && c->nnets <= CONFIG_MAX_NETS);
	for (int i = 0; i < c->ndisks; i++)
		assert(c->disks[i].path && *c->disks[i].path &&
		       (!c->disks[i].serial || strlen(c->disks[i].serial) <= 20));
	for (int i = 0; i < c->nnets; i++)
		assert(c->nets[i].tap && *c->nets[i].tap && strlen(c->nets[i].tap) < 16 &&
		       !(c->nets[i].mac[0] & 1));
	assert((c->kernel_format == KFMT_RAW) == (c->load_set && c->entry_set));
	assert(c->strbuf_used <= sizeof(c->strbuf));
	if (c->serial == SERIAL_FILE)
		assert(c->serial_path && *c->serial_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config cfg;
	char *argv[FUZZ_ARGS_MAX + 2], *buf, err[512];
	enum config_action action;
	int argc = 1, ret;
	size_t i;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	buf = malloc(size + 1);	/* a private copy: config_parse may keep pointers into argv strings */
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "ckvm";
	for (i = 0; i <= size && argc <= FUZZ_ARGS_MAX; i++) {
		argv[argc++] = buf + i;
		i += strlen(buf + i);
	}
	argv[argc] = NULL;
	err[0] = '\0';
	getopt_reset();
	ret = config_parse(argc, argv, &cfg, &action, err, sizeof(err));
	if (ret) {
		assert(ret == -EINVAL);
		assert(err[0]);	/* a line naming the problem (it may quote the argument verbatim) */
	} else if (action == CONFIG_RUN) {
		check_config(&cfg);
		config_print(&cfg, devnull);
		(void)config_check_host(&cfg, 4, 1ULL << 30, err, sizeof(err));
	}
	free(buf);
	return 0;
}
