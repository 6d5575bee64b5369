/* Command-line parsing into struct vm_config: getopt_long plus key=value sub-options for --disk and
 * --net. Every bad input yields one line naming the problem; nothing here touches the host beyond stat(). */
#include "config.h"
#include "backend/tap.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <asm/kvm_para.h>

#define MIB (1ULL << 20)
#define MIN_MEMORY (16 * MIB)

static const struct {
	const char *name;
	int bit;
} pv_names[] = {
	{ "clock", KVM_FEATURE_CLOCKSOURCE2 },	/* both kvm-clock MSR sets + stable bit */
	{ "eoi", KVM_FEATURE_PV_EOI },
	{ "unhalt", KVM_FEATURE_PV_UNHALT },
	{ "tlb-flush", KVM_FEATURE_PV_TLB_FLUSH },
	{ "send-ipi", KVM_FEATURE_PV_SEND_IPI },
	{ "steal-time", KVM_FEATURE_STEAL_TIME },
	{ "sched-yield", KVM_FEATURE_PV_SCHED_YIELD },
	{ "poll-control", KVM_FEATURE_POLL_CONTROL },
	{ "async-pf", KVM_FEATURE_ASYNC_PF },
};

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_CPUS, OPT_SERIAL, OPT_TEST_EXIT,
	OPT_KFORMAT, OPT_LOAD, OPT_ENTRY, OPT_DISK, OPT_NET, OPT_NO_QUIRKS, OPT_NO_ACPI, OPT_PV_OFF,
	OPT_PRINT, OPT_VERBOSE, OPT_HELP, OPT_KDECOMP,
};

static const struct option run_opts[] = {
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "test-exit", no_argument, NULL, OPT_TEST_EXIT },
	{ "kernel-format", required_argument, NULL, OPT_KFORMAT },
	{ "kernel-decompress", required_argument, NULL, OPT_KDECOMP },
	{ "load-addr", required_argument, NULL, OPT_LOAD },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "no-host-quirks", no_argument, NULL, OPT_NO_QUIRKS },
	{ "no-acpi", no_argument, NULL, OPT_NO_ACPI },
	{ "pv-off", required_argument, NULL, OPT_PV_OFF },
	{ "print-config", no_argument, NULL, OPT_PRINT },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')	/* accept 512MiB / 512MB / 512M */
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/* Split "k1=v1,k2=v2" in place; calls fn for each pair. A bare first item is key "path"/"tap". */
static int parse_kv(char *s, const char *bare_key, int (*fn)(void *ctx, const char *k, const char *v),
		    void *ctx)
{
	char *save = NULL, *item;
	int first = 1, ret;

	for (item = strtok_r(s, ",", &save); item; item = strtok_r(NULL, ",", &save), first = 0) {
		char *eq = strchr(item, '=');

		if (!eq && first)
			ret = fn(ctx, bare_key, item);
		else if (!eq)
			return -EINVAL;
		else {
			*eq = '\0';
			ret = fn(ctx, item, eq + 1);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* Copy s into the config's own string buffer; NULL when it is full. */
static char *config_strdup(struct vm_config *cfg, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (n > sizeof(cfg->strbuf) - cfg->strbuf_used)
		return NULL;
	p = cfg->strbuf + cfg->strbuf_used;
	memcpy(p, s, n);
	cfg->strbuf_used += n;
	return p;
}

static int disk_kv(void *ctx, const char *k, const char *v)
{
	struct disk_config *d = ctx;

	if (!strcmp(k, "path") && *v)
		d->path = v;
	else if (!strcmp(k, "readonly") && (!strcmp(v, "on") || !strcmp(v, "off")))
		d->readonly = !strcmp(v, "on");
	else if (!strcmp(k, "serial") && strlen(v) <= 20)
		d->serial = v;
	else
		return -EINVAL;
	return 0;
}

static int net_kv(void *ctx, const char *k, const char *v)
{
	struct net_config *n = ctx;

	if (!strcmp(k, "tap") && *v && strlen(v) < 16)
		n->tap = v;
	else if (!strcmp(k, "mac")) {
		if (tap_mac_parse(v, n->mac))
			return -EINVAL;
		n->mac_set = true;
	} else
		return -EINVAL;
	return 0;
}

static int parse_pv_off(const char *s, uint32_t *mask)
{
	char buf[256], *save = NULL, *item;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (!strcmp(item, "all")) {
			*mask = UINT32_MAX;
			continue;
		}
		for (i = 0; i < sizeof(pv_names) / sizeof(pv_names[0]); i++)
			if (!strcmp(item, pv_names[i].name))
				break;
		if (i == sizeof(pv_names) / sizeof(pv_names[0]))
			return -EINVAL;
		*mask |= 1u << pv_names[i].bit;
		if (pv_names[i].bit == KVM_FEATURE_CLOCKSOURCE2)
			*mask |= 1u << KVM_FEATURE_CLOCKSOURCE | 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	}
	return 0;
}

static int check_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return fail(err, errlen, "%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return fail(err, errlen, "%s %s: not a regular file", what, path);
	return 0;
}

static void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = 512 * MIB;
	cfg->cpus = 1;
	cfg->serial = SERIAL_STDIO;
	cfg->host_quirks = true;
	cfg->acpi = true;
}

static int parse_run_opt(struct vm_config *cfg, int c, char *arg, char *err, size_t errlen)
{
	uint64_t v;

	switch (c) {
	case OPT_KERNEL: cfg->kernel = arg; break;
	case OPT_INITRD: cfg->initrd = arg; break;
	case OPT_CMDLINE: cfg->cmdline = arg; break;
	case OPT_MEMORY:
		if (config_parse_size(arg, &cfg->memory_bytes))
			return fail(err, errlen, "--memory %s: not a size (use e.g. 512M, 2G)", arg);
		break;
	case OPT_CPUS:
		if (parse_u64(arg, &v) || v == 0 || v > UINT16_MAX)
			return fail(err, errlen, "--cpus %s: not a CPU count from 1 up", arg);
		cfg->cpus = (unsigned)v;
		break;
	case OPT_SERIAL:
		if (!strcmp(arg, "stdio"))
			cfg->serial = SERIAL_STDIO;
		else if (!strcmp(arg, "none"))
			cfg->serial = SERIAL_NONE;
		else if (!strncmp(arg, "file=", 5) && arg[5]) {
			cfg->serial = SERIAL_FILE;
			cfg->serial_path = arg + 5;
		} else
			return fail(err, errlen, "--serial %s: expected stdio, file=PATH or none", arg);
		break;
	case OPT_TEST_EXIT: cfg->test_exit = true; break;
	case OPT_KFORMAT:
		if (!strcmp(arg, "auto")) cfg->kernel_format = KFMT_AUTO;
		else if (!strcmp(arg, "bzimage")) cfg->kernel_format = KFMT_BZIMAGE;
		else if (!strcmp(arg, "elf")) cfg->kernel_format = KFMT_ELF;
		else if (!strcmp(arg, "raw")) cfg->kernel_format = KFMT_RAW;
		else
			return fail(err, errlen, "--kernel-format %s: expected auto, bzimage, elf or raw", arg);
		break;
	case OPT_KDECOMP:
		if (!strcmp(arg, "host")) cfg->kernel_decompress = KDECOMP_HOST;
		else if (!strcmp(arg, "guest")) cfg->kernel_decompress = KDECOMP_GUEST;
		else
			return fail(err, errlen, "--kernel-decompress %s: expected host or guest", arg);
		break;
	case OPT_LOAD:
		if (parse_u64(arg, &cfg->load_gpa))
			return fail(err, errlen, "--load-addr %s: not an address", arg);
		cfg->load_set = true;
		break;
	case OPT_ENTRY:
		if (parse_u64(arg, &cfg->entry_gpa))
			return fail(err, errlen, "--entry %s: not an address", arg);
		cfg->entry_set = true;
		break;
	case OPT_DISK: {
		struct disk_config *d = &cfg->disks[cfg->ndisks];

		if (cfg->ndisks == CONFIG_MAX_DISKS)
			return fail(err, errlen, "--disk: at most %d disks", CONFIG_MAX_DISKS);
		char *copy = config_strdup(cfg, arg);

		if (!copy || parse_kv(copy, "path", disk_kv, d) || !d->path)
			return fail(err, errlen, "--disk: expected path=FILE[,readonly=on|off][,serial=ID(<=20 chars)]");
		cfg->ndisks++;
		break;
	}
	case OPT_NET: {
		struct net_config *n = &cfg->nets[cfg->nnets];

		if (cfg->nnets == CONFIG_MAX_NETS)
			return fail(err, errlen, "--net: at most %d network devices", CONFIG_MAX_NETS);
		char *copy = config_strdup(cfg, arg);

		if (!copy || parse_kv(copy, "tap", net_kv, n) || !n->tap)
			return fail(err, errlen, "--net: expected tap=NAME[,mac=52:54:00:xx:xx:xx]");
		cfg->nnets++;
		break;
	}
	case OPT_NO_QUIRKS: cfg->host_quirks = false; break;
	case OPT_NO_ACPI: cfg->acpi = false; break;
	case OPT_PV_OFF:
		if (parse_pv_off(arg, &cfg->pv_off))
			return fail(err, errlen, "--pv-off %s: expected a list of clock,eoi,unhalt,tlb-flush,send-ipi,steal-time,sched-yield,poll-control,async-pf or all", arg);
		break;
	case OPT_PRINT: cfg->print_config = true; break;
	case OPT_VERBOSE: cfg->verbose++; break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int config_validate(struct vm_config *cfg, char *err, size_t errlen)
{
	int ret, i;

	if (!cfg->kernel)
		return fail(err, errlen, "run: --kernel PATH is required");
	if ((ret = check_file("kernel", cfg->kernel, err, errlen)))
		return ret;
	if (cfg->initrd && (ret = check_file("initrd", cfg->initrd, err, errlen)))
		return ret;
	for (i = 0; i < cfg->ndisks; i++)
		if ((ret = check_file("disk", cfg->disks[i].path, err, errlen)))
			return ret;
	if (cfg->memory_bytes < MIN_MEMORY)
		return fail(err, errlen, "--memory: %llu bytes is too small (at least 16M)",
			    (unsigned long long)cfg->memory_bytes);
	if (cfg->memory_bytes & 0xfff)
		return fail(err, errlen, "--memory: must be a multiple of 4K");
	if (cfg->kernel_format == KFMT_RAW && (!cfg->load_set || !cfg->entry_set))
		return fail(err, errlen, "--kernel-format raw needs --load-addr and --entry");
	if (cfg->kernel_format != KFMT_RAW && (cfg->load_set || cfg->entry_set))
		return fail(err, errlen, "--load-addr/--entry are only for --kernel-format raw");
	return 0;
}

int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_action *action,
		 char *err, size_t errlen)
{
	int c, ret;

	config_defaults(cfg);
	*action = CONFIG_RUN;
	if (argc < 2)
		return fail(err, errlen, "missing command (try 'ckvm --help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*action = CONFIG_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		*action = CONFIG_VERSION;
		return 0;
	}
	if (strcmp(argv[1], "run"))
		return fail(err, errlen, "unknown command '%s' (try 'ckvm --help')", argv[1]);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":", run_opts, NULL)) != -1) {
		if (c == '?')
			return fail(err, errlen, "run: unknown option '%s'", argv[optind]);
		if (c == ':')
			return fail(err, errlen, "run: option '%s' needs a value", argv[optind]);
		if (c == OPT_HELP) {
			*action = CONFIG_HELP;
			return 0;
		}
		if ((ret = parse_run_opt(cfg, c, optarg, err, errlen)))
			return ret;
	}
	if (optind < argc - 1)
		return fail(err, errlen, "run: unexpected argument '%s'", argv[optind + 1]);
	return config_validate(cfg, err, errlen);
}

int config_check_host(const struct vm_config *cfg, unsigned max_vcpus, uint64_t host_ram_bytes,
		      char *err, size_t errlen)
{
	if (max_vcpus && cfg->cpus > max_vcpus)
		return fail(err, errlen, "--cpus %u: this host's KVM allows at most %u", cfg->cpus, max_vcpus);
	if (host_ram_bytes && cfg->memory_bytes > host_ram_bytes)
		return fail(err, errlen, "--memory: %lluM is more than this host's %lluM of RAM",
			    (unsigned long long)(cfg->memory_bytes >> 20),
			    (unsigned long long)(host_ram_bytes >> 20));
	return 0;
}

void config_print(const struct vm_config *c, FILE *f)
{
	static const char *const fmt[] = { "auto", "bzimage", "elf", "raw" };
	int i;

	fprintf(f, "kernel=%s\nkernel-format=%s\n", c->kernel, fmt[c->kernel_format]);
	fprintf(f, "kernel-decompress=%s\n", c->kernel_decompress == KDECOMP_GUEST ? "guest" : "host");
	if (c->kernel_format == KFMT_RAW)
		fprintf(f, "load-addr=0x%llx\nentry=0x%llx\n", (unsigned long long)c->load_gpa,
			(unsigned long long)c->entry_gpa);
	fprintf(f, "initrd=%s\ncmdline=%s\n", c->initrd ? c->initrd : "", c->cmdline ? c->cmdline : "");
	fprintf(f, "memory=%lluM\ncpus=%u\n", (unsigned long long)(c->memory_bytes >> 20), c->cpus);
	fprintf(f, "serial=%s%s\n", c->serial == SERIAL_STDIO ? "stdio" : c->serial == SERIAL_NONE ?
		"none" : "file=", c->serial == SERIAL_FILE ? c->serial_path : "");
	fprintf(f, "test-exit=%s\nhost-quirks=%s\nacpi=%s\npv-off=0x%x\n", c->test_exit ? "on" : "off",
		c->host_quirks ? "on" : "off", c->acpi ? "on" : "off", c->pv_off);
	for (i = 0; i < c->ndisks; i++)
		fprintf(f, "disk=path=%s,readonly=%s%s%s\n", c->disks[i].path,
			c->disks[i].readonly ? "on" : "off", c->disks[i].serial ? ",serial=" : "",
			c->disks[i].serial ? c->disks[i].serial : "");
	for (i = 0; i < c->nnets; i++) {
		const uint8_t *m = c->nets[i].mac;

		fprintf(f, "net=tap=%s", c->nets[i].tap);
		if (c->nets[i].mac_set)
			fprintf(f, ",mac=%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		fputc('\n', f);
	}
}

void config_usage(FILE *f)
{
	fputs("usage: ckvm run --kernel PATH [options]\n"
	      "       ckvm --help | --version\n\n"
	      "run options:\n"
	      "  --kernel PATH           bzImage, ELF vmlinux (PVH note or 64-bit entry) or raw binary\n"
	      "  --initrd PATH           initial ramdisk\n"
	      "  --cmdline STR           kernel command line\n"
	      "  --memory SIZE           guest RAM, K/M/G suffixes (default 512M, at least 16M)\n"
	      "  --cpus N                vCPUs (default 1)\n"
	      "  --serial MODE           stdio (default), file=PATH or none\n"
	      "  --test-exit             enable the test-exit port 0x501 (exit code (V<<1)|1)\n"
	      "  --kernel-format F       auto (default), bzimage, elf or raw\n"
	      "  --kernel-decompress W   bzImage payload inflated by the host (default; KASLR unless\n"
	      "                          nokaslr) or by the guest's own decompressor\n"
	      "  --load-addr A --entry A raw format: load and real-mode entry address (< 1 MiB)\n"
	      "  --disk path=F[,readonly=on][,serial=ID]   virtio-blk disk (raw image), repeatable\n"
	      "  --net tap=NAME[,mac=M]  virtio-net on a tap device, repeatable\n"
	      "  --no-acpi               no ACPI tables (MP table only)\n"
	      "  --pv-off LIST           switch off KVM PV features: clock,eoi,unhalt,tlb-flush,\n"
	      "                          send-ipi,steal-time,sched-yield,poll-control,async-pf,all\n"
	      "  --no-host-quirks        no software-KVM workarounds\n"
	      "  --print-config          print the parsed configuration and exit\n"
	      "  --verbose               debug logging\n\n"
	      "Console: Ctrl-A x quits, Ctrl-A h help.\n"
	      "Exit status: 0 guest powered off/rebooted, 1 bad usage or input, 2 host error,\n"
	      "             3 guest crashed (triple fault, unhandled instruction), (V<<1)|1 test-exit.\n", f);
}
