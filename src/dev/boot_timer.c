/* Boot timer modelled on Firecracker's boot-timer device (a guest write of the byte 123 at offset 0
 * marks the end of its boot), reachable through MMIO and, for guests that cannot map MMIO, a port.
 * Runs on vCPU threads; its state is two atomics, so it takes no lock. */
#include "dev/boot_timer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct boot_timer {
	struct device dev;
	uint64_t (*now_ns)(void);
	uint64_t (*cpu_ns)(void);
	unsigned signals;		/* atomic */
	uint64_t first_ns;		/* atomic; 0 until the first signal */
	unsigned long log_sec;		/* log_ratelimit state */
	unsigned log_count;
};

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void boot_timer_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	(void)dev;
	(void)off;
	memset(data, 0, len);
}

static void boot_timer_signal(struct boot_timer *bt, uint64_t off, const void *data, uint32_t len,
			      const char *via)
{
	uint64_t ns, cpu, zero = 0;
	unsigned n;

	if (off != 0 || len != 1 || *(const uint8_t *)data != BOOT_TIMER_MAGIC)
		return;
	ns = bt->now_ns();
	cpu = bt->cpu_ns();
	n = __atomic_add_fetch(&bt->signals, 1, __ATOMIC_RELAXED);
	__atomic_compare_exchange_n(&bt->first_ns, &zero, ns ? ns : 1, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	if (log_ratelimit(&bt->log_sec, &bt->log_count))
		log_info("boot-timer", "guest boot time %llu.%03llu ms since exec (ckvm CPU %llu.%03llu ms; "
			 "%s, signal %u)", (unsigned long long)(ns / 1000000),
			 (unsigned long long)(ns / 1000 % 1000), (unsigned long long)(cpu / 1000000),
			 (unsigned long long)(cpu / 1000 % 1000), via, n);
}

static void boot_timer_mmio_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	boot_timer_signal(dev, off, data, len, "MMIO");
}

static void boot_timer_pio_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	boot_timer_signal(dev, off, data, len, "port");
}

const struct bus_ops boot_timer_mmio_ops = {
	.read = boot_timer_read,
	.write = boot_timer_mmio_write,
};

const struct bus_ops boot_timer_pio_ops = {
	.read = boot_timer_read,
	.write = boot_timer_pio_write,
};

/* Lifecycle (device.h): no guest-visible state (reads are zero; the signal count and time are host measurements), so no save or restore: the registry
 * records an empty payload and refuses a non-empty one. */
static void boot_timer_dev_destroy(struct device *d)
{
	boot_timer_destroy(device_of(d, struct boot_timer, dev));
}

static const struct device_ops boot_timer_dev_ops = {
	.kind = "boot-timer",
	.state_version = 1,
	.destroy = boot_timer_dev_destroy,
};

struct device *boot_timer_device(struct boot_timer *bt)
{
	return &bt->dev;
}

int boot_timer_create(struct boot_timer **out, const struct boot_timer_config *cfg)
{
	struct boot_timer *bt = calloc(1, sizeof(*bt));

	if (!bt)
		return -ENOMEM;
	device_init(&bt->dev, &boot_timer_dev_ops, "boot-timer");
	bt->now_ns = cfg && cfg->now_ns ? cfg->now_ns : log_since_exec_ns;
	bt->cpu_ns = cfg && cfg->cpu_ns ? cfg->cpu_ns : process_cpu_ns;
	*out = bt;
	return 0;
}

void boot_timer_destroy(struct boot_timer *bt)
{
	free(bt);
}

unsigned boot_timer_signals(const struct boot_timer *bt)
{
	return __atomic_load_n(&bt->signals, __ATOMIC_RELAXED);
}

uint64_t boot_timer_first_ns(const struct boot_timer *bt)
{
	return __atomic_load_n(&bt->first_ns, __ATOMIC_RELAXED);
}
