/* ACPI PM fixed-hardware registers: PM1a_EVT (status/enable), PM1a_CNT (sleep: S5 powers the VM off)
 * and PM_TMR (32-bit, 3.579545 MHz, from CLOCK_MONOTONIC). ACPI 6.x 4.8.3 "PM1 Event/Control Registers",
 * 4.8.3.3 "Power Management Timer". Accessed from vCPU threads, serialised by a mutex. */
#include "dev/acpi_pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/isa_split.h"
#include "log.h"

#define ACPI_PM_STATE_VERSION	1

/* The guest-visible registers. The timer is not here: it is a function of host time (t0_ns, wiring
 * of this host); save stores its value instead and restore re-anchors t0_ns. */
struct acpi_pm_regs {
	uint16_t sts, en, cnt;
};

/* What save writes: the registers and the timer's value at the save. */
struct acpi_pm_record {
	struct acpi_pm_regs r;
	uint16_t pad;		/* explicit, zero */
	uint32_t tmr;
};

struct acpi_pm {
	struct device dev;
	pthread_mutex_t lock;
	const struct vmm_ops *vmm;
	struct acpi_pm_regs r;
	uint64_t t0_ns;		/* CLOCK_MONOTONIC time at which the timer read 0 (mod 2^64) */
	uint32_t tmr;		/* PM_TMR as sampled for the read in progress */
};

static uint64_t acpi_pm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint32_t acpi_pm_timer_ticks(uint64_t ns)
{
	/* Split to avoid overflowing 64 bits: whole seconds and the remainder separately. */
	uint64_t sec = ns / 1000000000ULL, rem = ns % 1000000000ULL;

	return (uint32_t)(sec * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / 1000000000ULL);
}

uint64_t acpi_pm_timer_ns(uint32_t ticks)
{
	/* Rounded up: the first nanosecond at which acpi_pm_timer_ticks() reaches ticks. */
	return ((uint64_t)ticks * 1000000000ULL + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ;
}

/* Lifecycle (device.h). The timer keeps running while the VM is paused (as the guest's kvm-clock
 * and TSC do: a PM timer that stood still would make the guest's clocksource watchdog distrust its
 * TSC); only a restore moves it, to continue from the saved value. */

static struct acpi_pm *pm_of(struct device *d)
{
	return device_of(d, struct acpi_pm, dev);
}

static const struct acpi_pm_regs power_on = { .cnt = ACPI_PM1_CNT_SCI_EN };

static void acpi_pm_dev_reset(struct device *d)
{
	struct acpi_pm *pm = pm_of(d);

	pthread_mutex_lock(&pm->lock);
	pm->r = power_on;
	pthread_mutex_unlock(&pm->lock);
}

static ssize_t acpi_pm_dev_save(struct device *d, void *buf, size_t cap)
{
	struct acpi_pm *pm = pm_of(d);
	struct acpi_pm_record rec = { 0 };

	if (cap < sizeof(rec))
		return -ENOSPC;
	pthread_mutex_lock(&pm->lock);
	rec.r = pm->r;
	rec.tmr = acpi_pm_timer_ticks(acpi_pm_now_ns() - pm->t0_ns);
	pthread_mutex_unlock(&pm->lock);
	memcpy(buf, &rec, sizeof(rec));
	return sizeof(rec);
}

/* SCI_EN is hardwired, SLP_EN never stays set, and WAK_STS is the only status bit the model sets. */
static int acpi_pm_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct acpi_pm *pm = pm_of(d);
	struct acpi_pm_record rec;

	if (len != sizeof(rec))
		return -EINVAL;
	memcpy(&rec, buf, sizeof(rec));
	if (rec.pad || (rec.r.sts & ~ACPI_PM1_STS_WAK) || !(rec.r.cnt & ACPI_PM1_CNT_SCI_EN) ||
	    (rec.r.cnt & ACPI_PM1_CNT_SLP_EN))
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	pm->r = rec.r;
	/* Modulo 2^64, like every use of t0_ns: the guest's next read continues from rec.tmr. */
	pm->t0_ns = acpi_pm_now_ns() - acpi_pm_timer_ns(rec.tmr);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

static void acpi_pm_dev_destroy(struct device *d)
{
	acpi_pm_destroy(pm_of(d));
}

static const struct device_ops acpi_pm_dev_ops = {
	.kind = "acpi-pm",
	.state_version = ACPI_PM_STATE_VERSION,
	.reset = acpi_pm_dev_reset,
	.save = acpi_pm_dev_save,
	.restore = acpi_pm_dev_restore,
	.destroy = acpi_pm_dev_destroy,
};

struct device *acpi_pm_device(struct acpi_pm *pm)
{
	return &pm->dev;
}

int acpi_pm_create(struct acpi_pm **out, const struct vmm_ops *vmm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	device_init(&pm->dev, &acpi_pm_dev_ops, "acpi-pm");
	pm->vmm = vmm;
	pm->r = power_on;
	pm->t0_ns = acpi_pm_now_ns();
	*out = pm;
	return 0;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* One byte of the register image; off is inside the range. */
static uint8_t acpi_pm_read_byte(void *dev, unsigned off)
{
	struct acpi_pm *pm = dev;
	uint16_t reg;

	if (off >= ACPI_PM_TMR_REG_OFF)
		return (uint8_t)(pm->tmr >> (8 * (off - ACPI_PM_TMR_REG_OFF)));
	switch (off & ~1u) {
	case ACPI_PM_STS_OFF:
		reg = pm->r.sts;
		break;
	case ACPI_PM_EN_OFF:
		reg = pm->r.en;
		break;
	case ACPI_PM_CNT_OFF:
		reg = pm->r.cnt & ~ACPI_PM1_CNT_SLP_EN;	/* SLP_EN is write-only */
		break;
	default:
		return 0;				/* 6..7: unused */
	}
	return (uint8_t)(reg >> (8 * (off & 1)));
}

static void acpi_pm_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct acpi_pm *pm = dev;
	uint32_t tmr = 0;

	pthread_mutex_lock(&pm->lock);
	if (off < ACPI_PM_RANGE_LEN && off + len > ACPI_PM_TMR_REG_OFF)
		tmr = acpi_pm_timer_ticks(acpi_pm_now_ns() - pm->t0_ns);
	pm->tmr = tmr;
	isa_split_read(off, data, len, ACPI_PM_RANGE_LEN, acpi_pm_read_byte, pm);
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_write_byte(void *dev, unsigned off, uint8_t v)
{
	struct acpi_pm *pm = dev;
	unsigned shift = 8 * (off & 1);
	uint16_t mask = (uint16_t)(0xffu << shift);

	switch (off & ~1u) {
	case ACPI_PM_STS_OFF:
		pm->r.sts &= (uint16_t)~((unsigned)v << shift);	/* write one to clear */
		break;
	case ACPI_PM_EN_OFF:
		pm->r.en = (uint16_t)((pm->r.en & ~mask) | ((unsigned)v << shift));
		break;
	case ACPI_PM_CNT_OFF:
		pm->r.cnt = (uint16_t)((pm->r.cnt & ~mask) | ((unsigned)v << shift));
		pm->r.cnt |= ACPI_PM1_CNT_SCI_EN;			/* hardwired: ACPI mode only */
		break;
	default:
		break;						/* timer and holes: read-only */
	}
}

static void acpi_pm_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct acpi_pm *pm = dev;
	unsigned slp_typ = 0;
	bool sleep = false;

	pthread_mutex_lock(&pm->lock);
	isa_split_write(off, data, len, ACPI_PM_RANGE_LEN, acpi_pm_write_byte, pm);
	if (pm->r.cnt & ACPI_PM1_CNT_SLP_EN) {
		sleep = true;
		slp_typ = (pm->r.cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
		pm->r.cnt &= (uint16_t)~ACPI_PM1_CNT_SLP_EN;
		/* A sleep we do not implement "wakes" at once, so the OS's wait for WAK_STS ends. */
		if (slp_typ != ACPI_PM_SLP_TYP_S5)
			pm->r.sts |= ACPI_PM1_STS_WAK;
	}
	pthread_mutex_unlock(&pm->lock);

	if (!sleep)
		return;
	if (slp_typ == ACPI_PM_SLP_TYP_S5) {
		log_info("acpi", "guest requested S5 (soft off)");
		vmm_request_stop(pm->vmm, VM_STOP_POWEROFF, 0);
	} else {
		log_guest("acpi", "sleep type %u not supported, ignored", slp_typ);
	}
}

const struct bus_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};
