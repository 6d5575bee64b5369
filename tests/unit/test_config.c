/* CLI parsing: sizes, sub-options, and the one-line errors for bad input. */
#include <errno.h>

#include "backend/tap.h"
#include "config.h"
#include "test.h"

static struct vm_config cfg;
static enum config_action act;
static char err[512];

#define ARGV(...) ((char *[]){ "ckvm", __VA_ARGS__, NULL })
#define NARGS(...) ((int)(sizeof((char *[]){ "ckvm", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(...) config_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &cfg, &act, err, sizeof(err))

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
	CHECK_EQ(config_parse_size("0x1000", &v), 0);
	CHECK_EQ(v, 0x1000);
	CHECK_EQ(config_parse_size("12X", &v), -EINVAL);
	CHECK_EQ(config_parse_size("", &v), -EINVAL);
	CHECK_EQ(config_parse_size("-5M", &v), -EINVAL);
	CHECK_EQ(config_parse_size("M", &v), -EINVAL);
	CHECK_EQ(config_parse_size("99999999999999999999", &v), -EINVAL);
	CHECK_EQ(config_parse_size("17179869184G", &v), -ERANGE);
}

static void test_mac(void)
{
	uint8_t m[6];

	CHECK_EQ(tap_mac_parse("52:54:00:12:34:56", m), 0);
	CHECK_EQ(m[5], 0x56);
	CHECK_EQ(tap_mac_parse("52:54:00:12:34", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("52:54:00:12:34:56:78", m), -EINVAL);
	CHECK_EQ(tap_mac_parse("01:00:5e:00:00:01", m), -EINVAL);	/* multicast */
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
	expect_error(PARSE("run", "--kernel", "/bin/sh", "--memory", "1M"), "too small");
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

int main(void)
{
	RUN(test_sizes);
	RUN(test_mac);
	RUN(test_good_run);
	RUN(test_bad_input);
	return test_summary();
}
