/* Command-line parsing into struct vm_config: getopt_long over one option table and the one number
 * parser every option uses. --disk/--net sub-options are parsed in config_sub.c, the whole is
 * validated in config_check.c. Every bad input yields one line naming the problem. Main thread. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <asm/kvm_para.h>

#include "arch/x86/layout.h"
#include "osdev/gdb_stub.h"

#define MIB		(1ULL << 20)
#define MIN_MEMORY	(16 * MIB)

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
	OPT_PRINT, OPT_VERBOSE, OPT_HELP,
	OPT_BOOT_TIMER, OPT_DEBUGCON, OPT_API_SOCK, OPT_KDECOMP, OPT_SECCOMP, OPT_SECCOMP_TRIGGER,
	OPT_BIOS, OPT_FLOPPY,
	OPT_GDB, OPT_GDB_WAIT, OPT_RESTORE, OPT_INCOMING,
	OPT_RNG, OPT_VSOCK, OPT_BALLOON,
	OPT_FS,
	/* `ckvm test` only (test_opt) */
	OPT_EXPECT, OPT_FAIL_ON, OPT_TIMEOUT, OPT_SCREEN_DUMP, OPT_REPORT, OPT_TEST_NAME, OPT_EXIT_PASS,
};

/* One line per option. Single-valued options given twice are an error; opt_repeatable() lists
 * the others. */
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
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "debug-console", required_argument, NULL, OPT_DEBUGCON },
	{ "api-sock", required_argument, NULL, OPT_API_SOCK },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "seccomp-test-trigger", required_argument, NULL, OPT_SECCOMP_TRIGGER },	/* tests only */
	{ "bios", optional_argument, NULL, OPT_BIOS },
	{ "floppy", required_argument, NULL, OPT_FLOPPY },
	{ "gdb", required_argument, NULL, OPT_GDB },
	{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "screen-dump", required_argument, NULL, OPT_SCREEN_DUMP },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "name", required_argument, NULL, OPT_TEST_NAME },
	{ "exit-pass", required_argument, NULL, OPT_EXIT_PASS },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "rng", optional_argument, NULL, OPT_RNG },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "balloon", required_argument, NULL, OPT_BALLOON },
	{ "fs", required_argument, NULL, OPT_FS },
	{ NULL, 0, NULL, 0 },
};

/* ---- numbers: the one parser ---- */

/* Digits of base 10 or 16 from s; *end = the first other character. -EINVAL without a digit,
 * -ERANGE on overflow (the scan goes on so that a later bad character is still seen). */
static int digits_parse(const char *s, unsigned base, const char **end, uint64_t *out)
{
	uint64_t v = 0;
	bool over = false;
	const char *p;

	for (p = s;; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			over = true;
		v = over ? UINT64_MAX : v * base + d;
	}
	*end = p;
	*out = v;
	if (p == s)
		return -EINVAL;
	return over ? -ERANGE : 0;
}

int config_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;
	int ret;

	if (!s)
		return -EINVAL;
	ret = digits_parse(s, 10, &end, out);
	if (ret == -EINVAL || *end)
		return -EINVAL;
	return ret || *out < min || *out > max ? -ERANGE : 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v;
	int shift = 0, ret;

	if (!s)
		return -EINVAL;
	ret = digits_parse(s, 10, &end, &v);
	if (ret == -EINVAL)
		return ret;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))	/* 512MiB / 512MB / 512M */
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (ret || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int config_parse_addr(const char *s, uint64_t *out)
{
	const char *end;
	bool hex;
	int ret;

	if (!s)
		return -EINVAL;
	hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	ret = digits_parse(s + (hex ? 2 : 0), hex ? 16 : 10, &end, out);
	if (ret == -EINVAL || *end)
		return -EINVAL;
	return ret;
}

/* An option's decimal argument in [min, max], or one line saying what is wrong with it. */
static int num_arg(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out,
		   char *err, size_t errlen)
{
	int ret = config_parse_u64(arg, min, max, out);

	if (ret == -EINVAL)
		return config_fail(err, errlen, "%s %s: not a decimal number (digits only)", opt, arg);
	if (ret && *out < min)
		return config_fail(err, errlen, "%s %s: must be at least %llu", opt, arg,
				   (unsigned long long)min);
	if (ret)
		return config_fail(err, errlen, "%s %s: must be at most %llu", opt, arg,
				   (unsigned long long)max);
	return 0;
}

static int memory_arg(const char *arg, uint64_t *out, char *err, size_t errlen)
{
	int ret = config_parse_size(arg, out);

	if (ret == -EINVAL)
		return config_fail(err, errlen, "--memory %s: not a size (decimal with an optional K, M, G or T "
				   "suffix, e.g. 512M)", arg);
	if (ret)
		return config_fail(err, errlen, "--memory %s: too large", arg);
	if (*out < MIN_MEMORY)
		return config_fail(err, errlen, "--memory %s: must be at least 16M", arg);
	if (*out & 0xfff)
		return config_fail(err, errlen, "--memory %s: must be a multiple of 4K", arg);
	return 0;
}

/* --load-addr/--entry: a real-mode address, below 1 MiB. */
static int addr_arg(const char *opt, const char *arg, uint64_t *out, char *err, size_t errlen)
{
	int ret = config_parse_addr(arg, out);

	if (ret == -EINVAL)
		return config_fail(err, errlen, "%s %s: not an address (hexadecimal with 0x, or decimal)",
				   opt, arg);
	if (ret || *out >= LAYOUT_BIOS_END)
		return config_fail(err, errlen, "%s %s: must be below 0x%llx (a raw guest starts in real "
				   "mode)", opt, arg, (unsigned long long)LAYOUT_BIOS_END);
	return 0;
}

/* --debug-console stdio|file=PATH[,timestamps=on|off]: the suffix is taken off the end, so a path
 * may itself hold commas. */
static int debugcon_arg(struct vm_config *cfg, const char *arg, char *err, size_t errlen)
{
	static const char *const suffix[] = { ",timestamps=on", ",timestamps=off" };
	size_t len = strlen(arg);

	for (int i = 0; i < 2; i++) {
		size_t n = strlen(suffix[i]);

		if (len > n && !strcmp(arg + len - n, suffix[i])) {
			cfg->debugcon_timestamps = i == 0;
			len -= n;
			break;
		}
	}
	if (len == 5 && !strncmp(arg, "stdio", 5)) {
		cfg->debugcon = DEBUGCON_STDIO;
		return 0;
	}
	if (len > 5 && !strncmp(arg, "file=", 5)) {
		cfg->debugcon = DEBUGCON_FILE;
		if (len - 5 >= PATH_MAX)
			return config_fail(err, errlen, "--debug-console: path too long (%zu bytes, at most %d)",
					   len - 5, PATH_MAX - 1);
		if (!(cfg->debugcon_path = config_strndup(cfg, arg + 5, len - 5)))
			return config_fail(err, errlen, "--debug-console: too much option text");
		return 0;
	}
	return config_fail(err, errlen, "--debug-console %s: expected stdio or file=PATH, optionally "
			   "followed by ,timestamps=on or ,timestamps=off", arg);
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

void config_defaults(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->memory_bytes = 512 * MIB;
	cfg->cpus = 1;
	cfg->serial = SERIAL_STDIO;
	cfg->host_quirks = true;
	cfg->acpi = true;
}

/* The options of `ckvm test`: only recorded here; test_mode_prepare() checks the patterns, the
 * duration and the report spec (it needs the matcher), so that config stays free of it. */
static const char *opt_name(int c)
{
	for (const struct option *o = run_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

static int test_opt(struct test_config *t, int c, char *arg, char *err, size_t errlen)
{
	if (c < OPT_EXPECT || c > OPT_EXIT_PASS)
		return -EINVAL;
	if (!t->enabled)
		return config_fail(err, errlen, "run: --%s is an option of 'ckvm test'",
				   opt_name(c));
	switch (c) {
	case OPT_EXPECT:
	case OPT_FAIL_ON: {
		unsigned *n = c == OPT_EXPECT ? &t->n_expect : &t->n_fail_on;

		if (*n == CONFIG_TEST_PATTERNS_MAX)
			return config_fail(err, errlen, "test: more than %d --%s patterns",
					   CONFIG_TEST_PATTERNS_MAX, opt_name(c));
		(c == OPT_EXPECT ? t->expect : t->fail_on)[(*n)++] = arg;
		break;
	}
	case OPT_TIMEOUT: t->timeout = arg; break;
	case OPT_SCREEN_DUMP: t->screen_dump = arg; break;
	case OPT_REPORT: t->report = arg; break;
	case OPT_TEST_NAME: t->name = arg; break;
	case OPT_EXIT_PASS: t->exit_pass = arg; break;
	default: return -EINVAL;
	}
	return 0;
}

static int parse_run_opt(struct vm_config *cfg, int c, char *arg, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	switch (c) {
	case OPT_KERNEL: cfg->kernel = arg; break;
	case OPT_INITRD: cfg->initrd = arg; break;
	case OPT_CMDLINE: cfg->cmdline = arg; break;
	case OPT_MEMORY: {
		char size[32];

		if ((ret = config_memory_opts(cfg, arg, size, sizeof(size), err, errlen)) ||
		    (ret = memory_arg(size, &cfg->memory_bytes, err, errlen)))
			return ret;
		/* MFD_HUGETLB files grow in whole huge pages; a partial one would be unmappable */
		if (cfg->memory_hugepages && cfg->memory_bytes % (2u << 20))
			return config_fail(err, errlen, "--memory %s: with hugepages=on the size must be a "
					   "multiple of 2M", arg);
		break;
	}
	case OPT_CPUS:
		/* the real limits (the host's KVM, the MP table) are named by config_validate/_check_host */
		if ((ret = num_arg("--cpus", arg, 1, UINT_MAX, &v, err, errlen)))
			return ret;
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
			return config_fail(err, errlen, "--serial %s: expected stdio, file=PATH or none", arg);
		break;
	case OPT_TEST_EXIT: cfg->test_exit = true; break;
	case OPT_KFORMAT:
		if (!strcmp(arg, "auto")) cfg->kernel_format = KFMT_AUTO;
		else if (!strcmp(arg, "bzimage")) cfg->kernel_format = KFMT_BZIMAGE;
		else if (!strcmp(arg, "elf")) cfg->kernel_format = KFMT_ELF;
		else if (!strcmp(arg, "raw")) cfg->kernel_format = KFMT_RAW;
		else
			return config_fail(err, errlen, "--kernel-format %s: expected auto, bzimage, elf or raw", arg);
		break;
	case OPT_KDECOMP:
		if (!strcmp(arg, "host")) cfg->kernel_decompress = KDECOMP_HOST;
		else if (!strcmp(arg, "guest")) cfg->kernel_decompress = KDECOMP_GUEST;
		else
			return config_fail(err, errlen, "--kernel-decompress %s: expected host or guest", arg);
		break;
	case OPT_LOAD:
		cfg->load_set = true;
		return addr_arg("--load-addr", arg, &cfg->load_gpa, err, errlen);
	case OPT_ENTRY:
		cfg->entry_set = true;
		return addr_arg("--entry", arg, &cfg->entry_gpa, err, errlen);
	case OPT_DISK:
		return config_disk_parse(cfg, arg, err, errlen);
	case OPT_NET:
		return config_net_parse(cfg, arg, err, errlen);
	case OPT_NO_QUIRKS: cfg->host_quirks = false; break;
	case OPT_NO_ACPI: cfg->acpi = false; break;
	case OPT_PV_OFF:
		if (parse_pv_off(arg, &cfg->pv_off))
			return config_fail(err, errlen, "--pv-off %s: expected a list of clock,eoi,unhalt,"
					   "tlb-flush,send-ipi,steal-time,sched-yield,poll-control,async-pf or all",
					   arg);
		break;
	case OPT_BOOT_TIMER: cfg->boot_timer = true; break;
	case OPT_DEBUGCON:
		return debugcon_arg(cfg, arg, err, errlen);
	case OPT_PRINT: cfg->print_config = true; break;
	case OPT_VERBOSE: cfg->verbose++; break;
	case OPT_API_SOCK: cfg->api_sock = arg; break;
	case OPT_BIOS: cfg->bios = arg && *arg ? arg : CONFIG_BIOS_DEFAULT; break;
	case OPT_FLOPPY: cfg->floppy = arg; break;
	case OPT_SECCOMP:
		if (!strcmp(arg, "kill")) cfg->seccomp = SANDBOX_KILL;
		else if (!strcmp(arg, "log")) cfg->seccomp = SANDBOX_LOG;
		else if (!strcmp(arg, "off")) cfg->seccomp = SANDBOX_OFF;
		else
			return config_fail(err, errlen, "--seccomp %s: expected kill, log or off", arg);
		break;
	case OPT_RESTORE: cfg->restore_dir = arg; break;
	case OPT_INCOMING:
		if (strncmp(arg, "tcp:", 4) && strncmp(arg, "unix:", 5))
			return config_fail(err, errlen, "--incoming %s: expected tcp:ADDR:PORT or unix:PATH", arg);
		cfg->incoming = arg;
		break;
	case OPT_SECCOMP_TRIGGER:
		if ((ret = sandbox_role_parse(arg)) < 0)
			return config_fail(err, errlen, "--seccomp-test-trigger %s: expected main, vcpu, io, "
					   "vblk, serial-out, api or gdb", arg);
		cfg->seccomp_trigger = ret + 1;
		break;
	case OPT_GDB:
		cfg->gdb = arg;
		return gdb_stub_spec_check(arg, err, errlen);
	case OPT_GDB_WAIT: cfg->gdb_wait = true; break;
	case OPT_RNG:
		return config_rng_parse(cfg, arg, err, errlen);
	case OPT_VSOCK:
		return config_vsock_parse(cfg, arg, err, errlen);
	case OPT_BALLOON:
		return config_balloon_parse(cfg, arg, err, errlen);
	case OPT_FS:
		return config_fs_parse(cfg, arg, err, errlen);
	default:
		return test_opt(&cfg->test, c, arg, err, errlen);
	}
	return 0;
}

/* Options that may be given more than once; any other given twice is an error (the first value
 * would be ignored without a word). */
static bool opt_repeatable(int c)
{
	return c == OPT_DISK || c == OPT_NET || c == OPT_PV_OFF || c == OPT_VERBOSE ||
	       c == OPT_EXPECT || c == OPT_FAIL_ON ||
	       c == OPT_FS;
}

int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_action *action,
		 char *err, size_t errlen)
{
	uint64_t seen = 0;
	int c, idx, ret;

	config_defaults(cfg);
	*action = CONFIG_RUN;
	if (argc < 2)
		return config_fail(err, errlen, "missing command (try 'ckvm --help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*action = CONFIG_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		*action = CONFIG_VERSION;
		return 0;
	}
	if (!strcmp(argv[1], "test")) {
		/* `ckvm test`: every run option, plus test_opt's; the test-exit port is on */
		cfg->test.enabled = true;
		cfg->test_exit = true;
	} else if (strcmp(argv[1], "run"))
		return config_fail(err, errlen, "unknown command '%s' (try 'ckvm --help')", argv[1]);
	optind = 0;	/* 0, not 1: glibc then also forgets a short-option cluster of an earlier parse */
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":", run_opts, &idx)) != -1) {
		if (c == '?' || c == ':') {
			char shortopt[3] = { '-', (char)optopt, '\0' };
			/* A short option has optopt set; a long one was the last argv element consumed. */
			const char *what = optopt > 0 && optopt < 256 ? shortopt : argv[optind];

			return config_fail(err, errlen, c == '?' ? "%s: unknown option '%s'" :
					   "%s: option '%s' needs a value", argv[1], what);
		}
		if (c == OPT_HELP) {
			*action = CONFIG_HELP;
			return 0;
		}
		if (!opt_repeatable(c) && c - OPT_KERNEL < 64) {
			if (seen & 1ULL << (c - OPT_KERNEL))
				return config_fail(err, errlen, "%s: --%s given twice", argv[1], run_opts[idx].name);
			seen |= 1ULL << (c - OPT_KERNEL);
		}
		/* --bios takes its optional PATH as the next word too (getopt only knows --bios=PATH),
		 * unless that word is another option. */
		if (c == OPT_BIOS && !optarg && optind < argc - 1 && argv[optind + 1][0] != '-')
			optarg = argv[1 + optind++];
		if ((ret = parse_run_opt(cfg, c, optarg, err, errlen)))
			return ret;
	}
	if (optind < argc - 1)
		return config_fail(err, errlen, "%s: unexpected argument '%s'", argv[1], argv[optind + 1]);
	if (cfg->test.enabled && cfg->api_sock)
		return config_fail(err, errlen, "test: --api-sock cannot be used with 'ckvm test'");
	return config_validate(cfg, err, errlen);
}
