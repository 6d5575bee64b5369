/* CLI parsing: sizes, sub-options, and the one-line errors for bad input. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/tap.h"
#include "config.h"
#include "test.h"

static struct vm_config cfg;
static enum config_action act;
static char err[512];

#define ARGV(...) ((char *[]){ "ckvm", __VA_ARGS__, NULL })
#define NARGS(...) ((int)(sizeof((char *[]){ "ckvm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) config_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &cfg, &act, err, sizeof(err))

static void test_numbers(void)
{
	uint64_t v = 0;

	CHECK_EQ(config_parse_u64("42", 0, 100, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(config_parse_u64("0100", 0, 1000, &v), 0);	/* decimal, never octal */
	CHECK_EQ(v, 100);
	CHECK_EQ(config_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK_EQ(v, UINT64_MAX);
	CHECK_EQ(config_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ(v, UINT64_MAX);				/* saturated: "above the maximum" */
	CHECK_EQ(config_parse_u64("0", 1, 10, &v), -ERANGE);
	CHECK_EQ(v, 0);
	CHECK_EQ(config_parse_u64("11", 1, 10, &v), -ERANGE);
	CHECK_EQ(config_parse_u64(" -18446744073709551614", 1, UINT32_MAX, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("-1", 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("+1", 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64(" 1", 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("1 ", 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("0x10", 0, 100, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("", 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64(NULL, 0, 10, &v), -EINVAL);
	CHECK_EQ(config_parse_u64("99999999999999999999x", 0, UINT64_MAX, &v), -EINVAL);

	CHECK_EQ(config_parse_addr("0x1000", &v), 0);
	CHECK_EQ(v, 0x1000);
	CHECK_EQ(config_parse_addr("0XfF", &v), 0);
	CHECK_EQ(v, 0xff);
	CHECK_EQ(config_parse_addr("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(config_parse_addr("010", &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(config_parse_addr("0x", &v), -EINVAL);
	CHECK_EQ(config_parse_addr("0x1g", &v), -EINVAL);
	CHECK_EQ(config_parse_addr("-0x1", &v), -EINVAL);
	CHECK_EQ(config_parse_addr("0x10000000000000000", &v), -ERANGE);
}

static void test_sizes(void)
{
	uint64_t v = 0;

	CHECK_EQ(config_parse_size("512M", &v), 0);
	CHECK_EQ(v, 512ULL << 20);
	CHECK_EQ(config_parse_size("2G", &v), 0);
	CHECK_EQ(v, 2ULL << 30);
	CHECK_EQ(config_parse_size("64k", &v), 0);
	CHECK_EQ(v, 64ULL << 10);
	CHECK_EQ(config_parse_size("1GiB", &v), 0);
	CHECK_EQ(v, 1ULL << 30);
	CHECK_EQ(config_parse_size("256MB", &v), 0);
	CHECK_EQ(v, 256ULL << 20);
	CHECK_EQ(config_parse_size("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(config_parse_size("0100M", &v), 0);		/* issue 13: was octal, 64M */
	CHECK_EQ(v, 100ULL << 20);
	CHECK_EQ(config_parse_size("0x1000", &v), -EINVAL);
	CHECK_EQ(config_parse_size("12X", &v), -EINVAL);
	CHECK_EQ(config_parse_size("12MX", &v), -EINVAL);
	CHECK_EQ(config_parse_size("12B", &v), -EINVAL);
	CHECK_EQ(config_parse_size("", &v), -EINVAL);
	CHECK_EQ(config_parse_size("-5M", &v), -EINVAL);
	CHECK_EQ(config_parse_size(" 5M", &v), -EINVAL);
	CHECK_EQ(config_parse_size("5 M", &v), -EINVAL);
	CHECK_EQ(config_parse_size("M", &v), -EINVAL);
	CHECK_EQ(config_parse_size("99999999999999999999", &v), -ERANGE);
	CHECK_EQ(config_parse_size("17179869184G", &v), -ERANGE);
}

static void test_mac(void)
{
	uint8_t m[6];

	CHECK_EQ(tap_mac_parse("52:54:00:12:34:56", m), 0);
	CHECK_EQ(m[5], 0x56);
	CHECK_EQ(tap_mac_parse("52:54:00:12:34", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("52:54:00:12:34:56:78", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("01:00:5e:00:00:01", m), -EADDRNOTAVAIL);	/* multicast */
	CHECK_EQ(m[0], 0x01);
	CHECK_EQ(tap_mac_parse("00:00:00:00:00:00", m), -EADDRNOTAVAIL);	/* all-zero */
	CHECK_EQ(tap_mac_parse("zz:54:00:12:34:56", m), -EINVAL);
}

static void test_good_run(void)
{
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--memory", "256M", "--cpus", "4", "--cmdline",
		       "console=ttyS0", "--serial", "file=/tmp/x", "--test-exit", "--disk",
		       "path=/bin/sh,readonly=on,serial=abc", "--net", "tap=tap0,mac=52:54:00:00:00:01",
		       "--pv-off", "tlb-flush,steal-time"), 0);
	CHECK_EQ(act, CONFIG_RUN);
	CHECK_EQ(cfg.memory_bytes, 256ULL << 20);
	CHECK_EQ(cfg.cpus, 4);
	CHECK_EQ(cfg.serial, SERIAL_FILE);
	CHECK_STR(cfg.serial_path, "/tmp/x");
	CHECK(cfg.test_exit);
	CHECK_EQ(cfg.ndisks, 1);
	CHECK(cfg.disks[0].readonly);
	CHECK_STR(cfg.disks[0].serial, "abc");
	CHECK_EQ(cfg.nnets, 1);
	CHECK_STR(cfg.nets[0].tap, "tap0");
	CHECK(cfg.nets[0].mac_set);
	CHECK_EQ(cfg.pv_off, (1u << 9) | (1u << 5));
	CHECK(cfg.host_quirks);
	CHECK_EQ(cfg.kernel_decompress, KDECOMP_HOST);	/* the default */
	CHECK_EQ(PARSE("run", "--kernel=/bin/sh", "--kernel-decompress", "guest"), 0);
	CHECK_EQ(cfg.kernel_decompress, KDECOMP_GUEST);
	CHECK_EQ(PARSE("run", "--kernel=/bin/sh", "--kernel-format", "raw", "--load-addr", "0x1000",
		       "--entry", "0x1000", "--no-host-quirks"), 0);
	CHECK_EQ(cfg.kernel_format, KFMT_RAW);
	CHECK_EQ(cfg.entry_gpa, 0x1000);
	CHECK(!cfg.host_quirks);
	CHECK_EQ(PARSE("--help"), 0);
	CHECK_EQ(act, CONFIG_HELP);
	CHECK_EQ(PARSE("--version"), 0);
	CHECK_EQ(act, CONFIG_VERSION);
}

/* Each bad input fails with a message naming the problem. */
static void expect_error(int ret, const char *needle)
{
	CHECK_EQ(ret, -EINVAL);
	if (!strstr(err, needle)) {
		t_fail++;
		printf("FAIL %s: error \"%s\" lacks \"%s\"\n", t_name, err, needle);
	} else {
		t_pass++;
	}
	CHECK(strchr(err, '\n') == NULL);		/* one line */
}

static void test_bad_input(void)
{
	expect_error(PARSE("run", "--kernel", "/nonexistent"), "/nonexistent");
	expect_error(PARSE("run", "--kernel", "/tmp"), "not a regular file");
	expect_error(PARSE("run"), "--kernel");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "lots"), "--memory");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "1M"), "at least 16M");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", "0"), "--cpus");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", "two"), "--cpus");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--bogus"), "--bogus");
	expect_error(PARSE("run", "--kernel"), "--kernel");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--serial", "tcp"), "--serial");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--kernel-format", "raw"), "--load-addr");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "readonly=on"), "--disk");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/nonexistent.img"), "nonexistent");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=t0,mac=01:02:03:04:05:06"), "--net");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--pv-off", "warp"), "--pv-off");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--kernel-decompress", "gpu"), "--kernel-decompress");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "extra"), "extra");
	expect_error(PARSE("frobnicate"), "frobnicate");
	CHECK_EQ(config_check_host(&cfg, 2, 1ULL << 30, err, sizeof(err)), 0);
	cfg.cpus = 8;
	expect_error(config_check_host(&cfg, 2, 1ULL << 30, err, sizeof(err)), "at most 2");
	cfg.cpus = 1;
	cfg.memory_bytes = 2ULL << 30;
	expect_error(config_check_host(&cfg, 2, 1ULL << 30, err, sizeof(err)), "--memory");
}

static char tmpdir[64], img[128], img_link[128], img2[128];

static void files_make(void)
{
	int fd;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ckvm-cfg-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	snprintf(img, sizeof(img), "%s/disk.img", tmpdir);
	snprintf(img2, sizeof(img2), "%s/disk2.img", tmpdir);
	snprintf(img_link, sizeof(img_link), "%s/link.img", tmpdir);
	fd = open(img, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	fd = open(img2, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(symlink(img, img_link), 0);
}

static void files_remove(void)
{
	unlink(img_link);
	unlink(img);
	unlink(img2);
	rmdir(tmpdir);
}

/* Issue 13 finding 6: each case gets its own message, not a generic one, and nothing is accepted
 * silently. */
static void test_specific_errors(void)
{
	char disk[160], ro[160], longpath[5200];

	/* numbers */
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--memory", "0100M"), 0);
	CHECK_EQ(cfg.memory_bytes, 100ULL << 20);
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", " -18446744073709551614"),
		     "not a decimal number");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", "-1"), "not a decimal number");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", "0"), "at least 1");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--cpus", "99999999999999999999"), "at most");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "0x1000M"), "not a size");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "99999999999999999999"), "too large");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "16781313"), "multiple of 4K");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--cpus", "100000"), 0);	/* host decides */
	expect_error(config_check_host(&cfg, 1024, 1ULL << 30, err, sizeof(err)),
		     "--cpus 100000: this host's KVM allows at most 1024");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--no-acpi", "--cpus", "300"),
		     "the MP table lists at most 254 CPUs");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--no-acpi", "--cpus", "254"), 0);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--cpus", "5000"), 0);
	expect_error(config_check_host(&cfg, 8192, 1ULL << 30, err, sizeof(err)), "at most 4096");

	/* a single-valued option given twice would lose its first value */
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "1G", "--memory", "2G"),
		     "--memory given twice");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--serial", "none", "--serial", "stdio"),
		     "--serial given twice");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--pv-off", "eoi", "--pv-off", "clock", "--verbose",
		       "--verbose"), 0);

	/* --disk */
	snprintf(disk, sizeof(disk), "path=%s", img);
	snprintf(ro, sizeof(ro), "path=%s,readonly=on", img_link);
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", disk, "--disk", ro), "given twice");
	expect_error(PARSE("run", "--kernel", img, "--disk", img_link), "is also the kernel image");
	CHECK_EQ(PARSE("run", "--kernel", img, "--disk", ro), 0);	/* both only read */
	snprintf(ro, sizeof(ro), "path=%s", img2);
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--disk", disk, "--disk", ro), 0);
	CHECK_EQ(cfg.ndisks, 2);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	memcpy(longpath, "path=/", 6);
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", longpath), "path too long");
	longpath[4000] = 0;	/* legal lengths fit, for every disk */
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", longpath, "--disk", longpath, "--disk",
			   longpath, "--disk", longpath, "--disk", longpath, "--disk", longpath, "--disk",
			   longpath, "--disk", longpath), "File name too long");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,speed=9"), "unknown key 'speed'");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,path=/y"), "path given twice");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,readonly=yes"), "on or off");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,serial=123456789012345678901"),
		     "at most 20");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path="), "empty path");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,"), "empty item");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--disk", "path=/x,ro"), "'ro' is not key=value");

	/* --net */
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=0123456789abcdef"),
		     "tap name too long");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=0123456789abcde"), 0);
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=rt%d"), "'%'");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=a/b"), "'/'");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=a b"), "' '");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap="), "empty tap name");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=t0,mac=01:02:03:04:05:06"),
		     "multicast");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=t0,mac=00:00:00:00:00:00"),
		     "all-zero");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=t0,mac=52:54"), "not a MAC address");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "tap=t0,vlan=2"), "unknown key 'vlan'");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "mac=52:54:00:00:00:01"), "tap=NAME");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "t0", "--net", "t0"), "given twice");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--net", "t0,mac=52:54:00:00:00:01", "--net",
			   "t1,mac=52:54:00:00:00:01"), "two network devices");

	/* --kernel-format raw would ignore these */
#define RAW "run", "--kernel", "/bin/sh", "--kernel-format", "raw", "--load-addr", "0x1000", "--entry", "0x1000"
	CHECK_EQ(PARSE(RAW), 0);
	expect_error(PARSE(RAW, "--disk", disk), "--kernel-format raw: --disk does not apply");
	expect_error(PARSE(RAW, "--net", "t0"), "--kernel-format raw: --net does not apply");
	expect_error(PARSE(RAW, "--initrd", "/bin/sh"), "--kernel-format raw: --initrd does not apply");
	expect_error(PARSE(RAW, "--cmdline", "x"), "--kernel-format raw: --cmdline does not apply");
	expect_error(PARSE(RAW, "--no-acpi"), "--kernel-format raw: --no-acpi does not apply");
	expect_error(PARSE(RAW, "--cpus", "2"), "--kernel-format raw: --cpus 2 does not apply");
#undef RAW
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--kernel-format", "raw", "--load-addr", "0x100000",
			   "--entry", "0x100000"), "must be below 0x100000");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--kernel-format", "raw", "--load-addr", "0x2000",
			   "--entry", "0x1000"), "outside the image");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--kernel-format", "raw", "--load-addr", "0xff000",
			   "--entry", "0xff000"), "do not fit below 1 MiB");
}

/* A parse that stopped inside a short-option cluster must not leak into the next parse, and the
 * error names the option, not the command. */
static void test_reparse(void)
{
	expect_error(PARSE("run", "-xQ"), "unknown option '-x'");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh"), 0);
	CHECK(cfg.kernel && !strcmp(cfg.kernel, "/bin/sh"));
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory"), "option '--memory' needs a value");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--bogus"), "unknown option '--bogus'");
}

/* `ckvm test`: its options recorded in order, the test-exit port on; they are refused by `run`,
 * and errors name the command given. */
static void test_test_command(void)
{
	CHECK_EQ(PARSE("test", "--kernel", "/bin/sh", "--expect", "a", "--fail-on", "PANIC", "--expect",
		       "b$", "--timeout", "2s", "--screen-dump", "-", "--report", "junit:r.xml", "--name", "n",
		       "--exit-pass", "0x10"), 0);
	CHECK_EQ(act, CONFIG_RUN);
	CHECK(cfg.test.enabled);
	CHECK(cfg.test_exit);
	CHECK_EQ(cfg.test.n_expect, 2);
	CHECK_STR(cfg.test.expect[0], "a");
	CHECK_STR(cfg.test.expect[1], "b$");
	CHECK_EQ(cfg.test.n_fail_on, 1);
	CHECK_STR(cfg.test.fail_on[0], "PANIC");
	CHECK_STR(cfg.test.timeout, "2s");
	CHECK_STR(cfg.test.screen_dump, "-");
	CHECK_STR(cfg.test.report, "junit:r.xml");
	CHECK_STR(cfg.test.name, "n");
	CHECK_STR(cfg.test.exit_pass, "0x10");
	CHECK_EQ(PARSE("run", "--kernel", "/bin/sh"), 0);
	CHECK(!cfg.test.enabled && !cfg.test_exit);
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--expect", "x"), "run: --expect is an option of 'ckvm test'");
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--timeout", "1s"), "run: --timeout is an option of 'ckvm test'");
	expect_error(PARSE("test", "--kernel", "/bin/sh", "--timeout", "1s", "--timeout", "2s"),
		     "test: --timeout given twice");
	expect_error(PARSE("test", "--kernel", "/bin/sh", "--bogus"), "test: unknown option '--bogus'");
	expect_error(PARSE("test", "--kernel", "/bin/sh", "--api-sock", "/tmp/s"), "--api-sock cannot be used");
}

int main(void)
{
	RUN(test_numbers);
	RUN(test_sizes);
	RUN(test_mac);
	RUN(test_good_run);
	RUN(test_bad_input);
	files_make();
	RUN(test_specific_errors);
	files_remove();
	RUN(test_reparse);
	RUN(test_test_command);
	return test_summary();
}
