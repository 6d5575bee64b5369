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
	OPT_RNG, OPT_VSOCK, OPT_BALLOON,
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
	{ "rng", optional_argument, NULL, OPT_RNG },
	{ "vsock", required_argument, NULL, OPT_VSOCK },
	{ "balloon", required_argument, NULL, OPT_BALLOON },
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

static int parse_run_opt(struct vm_config *cfg, int c, char *arg, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	switch (c) {
	case OPT_KERNEL: cfg->kernel = arg; break;
	case OPT_INITRD: cfg->initrd = arg; break;
	case OPT_CMDLINE: cfg->cmdline = arg; break;
	case OPT_MEMORY:
		return memory_arg(arg, &cfg->memory_bytes, err, errlen);
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
	case OPT_SECCOMP:
		if (!strcmp(arg, "kill")) cfg->seccomp = SANDBOX_KILL;
		else if (!strcmp(arg, "log")) cfg->seccomp = SANDBOX_LOG;
		else if (!strcmp(arg, "off")) cfg->seccomp = SANDBOX_OFF;
		else
			return config_fail(err, errlen, "--seccomp %s: expected kill, log or off", arg);
		break;
	case OPT_SECCOMP_TRIGGER:
		if ((ret = sandbox_role_parse(arg)) < 0)
			return config_fail(err, errlen, "--seccomp-test-trigger %s: expected main, vcpu, io, "
					   "vblk, serial-out or api", arg);
		cfg->seccomp_trigger = ret + 1;
		break;
	case OPT_RNG:
		return config_rng_parse(cfg, arg, err, errlen);
	case OPT_VSOCK:
		return config_vsock_parse(cfg, arg, err, errlen);
	case OPT_BALLOON:
		return config_balloon_parse(cfg, arg, err, errlen);
	default:
		return -EINVAL;
	}
	return 0;
}

/* Options that may be given more than once; any other given twice is an error (the first value
 * would be ignored without a word). */
static bool opt_repeatable(int c)
{
	return c == OPT_DISK || c == OPT_NET || c == OPT_PV_OFF || c == OPT_VERBOSE;
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
	if (strcmp(argv[1], "run"))
		return config_fail(err, errlen, "unknown command '%s' (try 'ckvm --help')", argv[1]);
	optind = 0;	/* 0, not 1: glibc then also forgets a short-option cluster of an earlier parse */
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":", run_opts, &idx)) != -1) {
		if (c == '?' || c == ':') {
			char shortopt[3] = { '-', (char)optopt, '\0' };
			/* A short option has optopt set; a long one was the last argv element consumed. */
			const char *what = optopt > 0 && optopt < 256 ? shortopt : argv[optind];

			return config_fail(err, errlen, c == '?' ? "run: unknown option '%s'" :
					   "run: option '%s' needs a value", what);
		}
		if (c == OPT_HELP) {
			*action = CONFIG_HELP;
			return 0;
		}
		if (!opt_repeatable(c) && c - OPT_KERNEL < 64) {
			if (seen & 1ULL << (c - OPT_KERNEL))
				return config_fail(err, errlen, "run: --%s given twice", run_opts[idx].name);
			seen |= 1ULL << (c - OPT_KERNEL);
		}
		if ((ret = parse_run_opt(cfg, c, optarg, err, errlen)))
			return ret;
	}
	if (optind < argc - 1)
		return config_fail(err, errlen, "run: unexpected argument '%s'", argv[optind + 1]);
	return config_validate(cfg, err, errlen);
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
	fprintf(f, "boot-timer=%s\n", c->boot_timer ? "on" : "off");
	if (c->debugcon != DEBUGCON_OFF)
		fprintf(f, "debug-console=%s%s,timestamps=%s\n", c->debugcon == DEBUGCON_STDIO ? "stdio" :
			"file=", c->debugcon == DEBUGCON_FILE ? c->debugcon_path : "",
			c->debugcon_timestamps ? "on" : "off");
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
	config_vdevs_print(c, f);
	fprintf(f, "seccomp=%s\n", c->seccomp == SANDBOX_KILL ? "kill" :
		c->seccomp == SANDBOX_LOG ? "log" : "off");
}

void config_usage(FILE *f)
{
	fputs("usage: ckvm run --kernel PATH [options]\n"
	      "       ckvm --api-sock PATH [--config-file FILE] [--id ID] [--verbose]\n"
	      "       ckvm --config-file FILE --no-api [--id ID] [--verbose]\n"
	      "       ckvm ctl --api-sock PATH info|pause|resume|shutdown|config\n"
	      "       ckvm --help | --version\n\n"
	      "run options:\n"
	      "  --kernel PATH           bzImage, ELF vmlinux (PVH note or 64-bit entry) or raw binary\n"
	      "  --initrd PATH           initial ramdisk\n"
	      "  --cmdline STR           kernel command line\n"
	      "  --memory SIZE           guest RAM, K/M/G/T suffixes (default 512M, at least 16M)\n"
	      "  --cpus N                vCPUs (default 1; the host's KVM limit, 254 with --no-acpi)\n"
	      "  --serial MODE           stdio (default), file=PATH or none\n"
	      "  --test-exit             enable the test-exit port 0x501 (exit code (V<<1)|1)\n"
	      "  --kernel-format F       auto (default), bzimage, elf or raw\n"
	      "  --kernel-decompress W   bzImage payload inflated by the host (default; KASLR unless\n"
	      "                          nokaslr) or by the guest's own decompressor\n"
	      "  --load-addr A --entry A raw format: load and real-mode entry address (< 1 MiB)\n"
	      "  --disk path=F[,readonly=on][,serial=ID]   virtio-blk disk (raw image), repeatable\n"
	      "  --net tap=NAME[,mac=M]  virtio-net on a tap device, repeatable\n"
	      "  --rng[=bytes_per_sec=N] virtio-rng fed by getrandom(), optionally rate-limited\n"
	      "  --vsock cid=N,socket=PATH   virtio-vsock, Firecracker's hybrid mode: host clients\n"
	      "                          connect to PATH, guest connections to port P reach PATH_P\n"
	      "  --balloon size=N[M][,deflate_on_oom=on][,stats=on]   virtio-balloon, N MiB at boot\n"
	      "  --no-acpi               no ACPI tables (MP table only)\n"
	      "  --pv-off LIST           switch off KVM PV features: clock,eoi,unhalt,tlb-flush,\n"
	      "                          send-ipi,steal-time,sched-yield,poll-control,async-pf,all\n"
	      "  --no-host-quirks        no software-KVM workarounds\n"
	      "  --boot-timer            log the guest's boot time when it writes 123 to MMIO 0xfe000000\n"
	      "                          or port 0x504 (Firecracker's boot-timer signal)\n"
	      "  --debug-console stdio|file=PATH[,timestamps=on]   debug console on ports 0xe9/0x402\n"
	      "  --print-config          print the parsed configuration and exit\n"
	      "  --verbose               debug logging\n"
	      "  --api-sock PATH         serve Firecracker's HTTP API on this Unix socket (0600)\n"
	      "  --seccomp kill|log|off  per-thread seccomp filters (default kill: a forbidden system\n"
	      "                          call ends ckvm with status 4; log: audit log only)\n"
	      "  --seccomp-test-trigger ROLE   tests only: that thread (main, vcpu, io, vblk,\n"
	      "                          serial-out, api) makes one forbidden call\n\n"
	      "Numbers are decimal (addresses also 0x hex). Only --disk, --net, --pv-off and --verbose\n"
	      "may be given more than once. An output file is never one of the VM's inputs.\n"
	      "Console: Ctrl-A x quits, Ctrl-A h help.\n"
	      "Exit status: 0 guest powered off/rebooted, 1 bad usage or input, 2 host error,\n"
	      "             3 guest crashed (triple fault, unhandled instruction), 4 forbidden system\n"
	      "             call (seccomp), (V<<1)|1 test-exit.\n", f);
}
