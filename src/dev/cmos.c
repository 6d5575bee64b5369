/* CMOS RAM and real-time clock in the style of the Motorola MC146818A (datasheet: registers A-D,
 * BCD/binary and 12/24-hour modes, the SET bit), plus the PC/AT CMOS memory-size bytes.
 * Runs on vCPU threads; one mutex covers the index register and the RAM. */
#include "dev/cmos.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/isa_split.h"
#include "log.h"

#define CMOS_SIZE	128
#define CMOS_INDEX_MASK	0x7f	/* bit 7 of the index is the NMI disable bit: ignored */

#define REG_SEC		0x00
#define REG_MIN		0x02
#define REG_HOUR	0x04
#define REG_WDAY	0x06
#define REG_MDAY	0x07
#define REG_MONTH	0x08
#define REG_YEAR	0x09
#define REG_A		0x0a
#define REG_B		0x0b
#define REG_C		0x0c
#define REG_D		0x0d
#define REG_CENTURY	0x32

#define A_UIP		0x80
#define A_DEFAULT	0x26	/* 32.768 kHz time base, 1024 Hz periodic rate */
#define B_SET		0x80
#define B_DM_BINARY	0x04
#define B_24H		0x02
#define B_DEFAULT	B_24H
#define D_VRT		0x80	/* valid RAM and time */
#define HOUR_PM		0x80

/* PC/AT memory-size bytes */
#define REG_BASE_KB_LO	0x15
#define REG_EXT_KB_LO	0x17	/* 0x17/0x18 */
#define REG_CKSUM_HI	0x2e
#define REG_EXT_KB2_LO	0x30	/* 0x30/0x31 copy of 0x17/0x18 */
#define REG_MEM16M_LO	0x34	/* 0x34/0x35 */
#define REG_MEM4G_LO	0x5b	/* 0x5b..0x5d */
#define REG_SMP_COUNT	0x5f
/* Boot devices (Bochs/QEMU/SeaBIOS): 0x3d first device in bits 0-3, second in 4-7; the third in bits
 * 4-7 of 0x38 (bit 0 of 0x38: skip the floppy boot-signature check, left 0). */
#define REG_BOOT_12	0x3d
#define REG_BOOT_3	0x38

#define CMOS_STATE_VERSION	1
/* The furthest a guest can set its clock from the host's: year 9999 (century byte 99) from 1970. */
#define CMOS_OFFSET_MAX_SEC	(10000LL * 366 * 86400)

/* The guest-visible state, saved byte for byte. The clock is kept relative to the host's wall
 * clock (an offset, not a host timestamp), so a restore on another host or later keeps the guest's
 * idea of "now minus host now". */
struct cmos_state {
	int64_t offset_sec;	/* guest time = host UTC + offset */
	uint8_t index;
	uint8_t ram[CMOS_SIZE];	/* while B.SET is set, the time registers live here */
	uint8_t pad[7];		/* explicit, zero: no uninitialised bytes in a record */
};

struct cmos {
	struct device dev;
	pthread_mutex_t lock;
	time_t (*now)(void);
	struct cmos_state st;
};

static bool is_time_reg(unsigned r)
{
	switch (r) {
	case REG_SEC: case REG_MIN: case REG_HOUR: case REG_WDAY:
	case REG_MDAY: case REG_MONTH: case REG_YEAR: case REG_CENTURY:
		return true;
	}
	return false;
}

static time_t host_now(const struct cmos *c)
{
	return c->now ? c->now() : time(NULL);
}

static uint8_t to_reg(const struct cmos *c, unsigned v)
{
	if (c->st.ram[REG_B] & B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* -1 when v is not a valid encoding in the current mode. */
static int from_reg(const struct cmos *c, uint8_t v)
{
	if (c->st.ram[REG_B] & B_DM_BINARY)
		return v;
	if ((v >> 4) > 9 || (v & 0xf) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t time_field(const struct cmos *c, unsigned reg, const struct tm *tm)
{
	unsigned year = (unsigned)tm->tm_year + 1900, h;

	switch (reg) {
	case REG_SEC:
		return to_reg(c, (unsigned)tm->tm_sec % 60);	/* no leap second 60 */
	case REG_MIN:
		return to_reg(c, (unsigned)tm->tm_min);
	case REG_HOUR:
		if (c->st.ram[REG_B] & B_24H)
			return to_reg(c, (unsigned)tm->tm_hour);
		h = (unsigned)tm->tm_hour % 12;
		return to_reg(c, h ? h : 12) | (tm->tm_hour >= 12 ? HOUR_PM : 0);
	case REG_WDAY:
		return to_reg(c, (unsigned)tm->tm_wday + 1);	/* 1 = Sunday */
	case REG_MDAY:
		return to_reg(c, (unsigned)tm->tm_mday);
	case REG_MONTH:
		return to_reg(c, (unsigned)tm->tm_mon + 1);
	case REG_YEAR:
		return to_reg(c, year % 100);
	case REG_CENTURY:
		return to_reg(c, (year / 100) % 100);
	}
	return 0;
}

static void guest_tm(const struct cmos *c, struct tm *tm)
{
	time_t t = (time_t)((int64_t)host_now(c) + c->st.offset_sec);

	if (!gmtime_r(&t, tm))
		memset(tm, 0, sizeof(*tm));
}

/* Copy the running clock into the time registers of the RAM (start of a SET update). */
static void time_snapshot(struct cmos *c)
{
	static const unsigned regs[] = { REG_SEC, REG_MIN, REG_HOUR, REG_WDAY, REG_MDAY,
					 REG_MONTH, REG_YEAR, REG_CENTURY };
	struct tm tm;

	guest_tm(c, &tm);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		c->st.ram[regs[i]] = time_field(c, regs[i], &tm);
}

/* Derive the offset from the time registers in RAM; invalid contents keep the old offset. */
static void time_commit(struct cmos *c)
{
	int sec = from_reg(c, c->st.ram[REG_SEC]), min = from_reg(c, c->st.ram[REG_MIN]);
	int mday = from_reg(c, c->st.ram[REG_MDAY]), mon = from_reg(c, c->st.ram[REG_MONTH]);
	int year = from_reg(c, c->st.ram[REG_YEAR]), cent = from_reg(c, c->st.ram[REG_CENTURY]);
	uint8_t hreg = c->st.ram[REG_HOUR];
	int hour;
	struct tm tm = { 0 };
	time_t t;

	if (c->st.ram[REG_B] & B_24H) {
		hour = from_reg(c, hreg);
	} else {
		hour = from_reg(c, hreg & ~HOUR_PM);
		if (hour >= 1 && hour <= 12)
			hour = hour % 12 + ((hreg & HOUR_PM) ? 12 : 0);
		else
			hour = -1;
	}
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || hour > 23 || mday < 1 ||
	    mday > 31 || mon < 1 || mon > 12 || year < 0 || year > 99 || cent < 0 || cent > 99) {
		log_guest("cmos", "guest set an invalid RTC time; keeping the old one");
		return;
	}
	if (cent == 0)
		cent = year < 70 ? 20 : 19;	/* guest never wrote the century byte */
	tm.tm_sec = sec;
	tm.tm_min = min;
	tm.tm_hour = hour;
	tm.tm_mday = mday;
	tm.tm_mon = mon - 1;
	tm.tm_year = cent * 100 + year - 1900;
	t = timegm(&tm);
	c->st.offset_sec = (int64_t)t - (int64_t)host_now(c);
}

static uint8_t data_read(struct cmos *c)
{
	unsigned r = c->st.index;
	struct tm tm;

	if (is_time_reg(r) && !(c->st.ram[REG_B] & B_SET)) {
		guest_tm(c, &tm);
		return time_field(c, r, &tm);
	}
	switch (r) {
	case REG_A:
		return c->st.ram[REG_A] & ~A_UIP;	/* never "update in progress" */
	case REG_C:
		return 0;			/* no interrupt flags: no IRQ 8 sources modelled */
	case REG_D:
		return D_VRT;
	}
	return c->st.ram[r];
}

static void data_write(struct cmos *c, uint8_t v)
{
	unsigned r = c->st.index;
	uint8_t old;

	if (is_time_reg(r)) {
		if (c->st.ram[REG_B] & B_SET) {
			c->st.ram[r] = v;
		} else {
			time_snapshot(c);
			c->st.ram[r] = v;
			time_commit(c);
		}
		return;
	}
	switch (r) {
	case REG_A:
		c->st.ram[REG_A] = v & ~A_UIP;
		break;
	case REG_B:
		old = c->st.ram[REG_B];
		c->st.ram[REG_B] = v;
		if (!(old & B_SET) && (v & B_SET))
			time_snapshot(c);
		else if ((old & B_SET) && !(v & B_SET))
			time_commit(c);
		break;
	case REG_C:
	case REG_D:
		break;	/* read-only */
	default:
		c->st.ram[r] = v;
		break;
	}
}

/* Port 0 is the (write-only) index, port 1 the data of the register it selects. */
static uint8_t port_read(void *dev, unsigned port)
{
	return port == 1 ? data_read(dev) : 0xff;
}

static void port_write(void *dev, unsigned port, uint8_t v)
{
	struct cmos *c = dev;

	if (port == 0)
		c->st.index = v & CMOS_INDEX_MASK;
	else
		data_write(c, v);
}

static void cmos_read(void *dev, uint64_t off, void *data, uint32_t len)
{
	struct cmos *c = dev;

	pthread_mutex_lock(&c->lock);
	isa_split_read(off, data, len, CMOS_NR_PORTS, port_read, c);
	pthread_mutex_unlock(&c->lock);
}

static void cmos_write(void *dev, uint64_t off, const void *data, uint32_t len)
{
	struct cmos *c = dev;

	pthread_mutex_lock(&c->lock);
	isa_split_write(off, data, len, CMOS_NR_PORTS, port_write, c);
	pthread_mutex_unlock(&c->lock);
}

const struct bus_ops cmos_bus_ops = {
	.read = cmos_read,
	.write = cmos_write,
};

static void put16(uint8_t *ram, unsigned reg, unsigned v)
{
	ram[reg] = (uint8_t)v;
	ram[reg + 1] = (uint8_t)(v >> 8);
}

static void memory_layout(struct cmos *c, const struct cmos_config *cfg)
{
	const uint64_t mib = 1ULL << 20;
	uint64_t below = cfg->ram_below_4g, above = cfg->ram_above_4g, v;
	unsigned sum = 0;

	put16(c->st.ram, REG_BASE_KB_LO, 640);
	v = below > mib ? (below - mib) >> 10 : 0;
	v = v > 0xffff ? 0xffff : v;
	put16(c->st.ram, REG_EXT_KB_LO, (unsigned)v);
	put16(c->st.ram, REG_EXT_KB2_LO, (unsigned)v);
	v = below > 16 * mib ? (below - 16 * mib) >> 16 : 0;
	put16(c->st.ram, REG_MEM16M_LO, (unsigned)(v > 0xffff ? 0xffff : v));
	v = above >> 16;
	v = v > 0xffffff ? 0xffffff : v;
	c->st.ram[REG_MEM4G_LO] = (uint8_t)v;
	c->st.ram[REG_MEM4G_LO + 1] = (uint8_t)(v >> 8);
	c->st.ram[REG_MEM4G_LO + 2] = (uint8_t)(v >> 16);
	if (cfg->nr_cpus)
		c->st.ram[REG_SMP_COUNT] = (uint8_t)(cfg->nr_cpus - 1);
	c->st.ram[REG_BOOT_12] = (uint8_t)cfg->boot_order;
	c->st.ram[REG_BOOT_3] = (uint8_t)((cfg->boot_order >> 4) & 0xf0);
	for (unsigned r = 0x10; r < REG_CKSUM_HI; r++)
		sum += c->st.ram[r];
	c->st.ram[REG_CKSUM_HI] = (uint8_t)(sum >> 8);	/* big-endian, unlike the sizes */
	c->st.ram[REG_CKSUM_HI + 1] = (uint8_t)sum;
}

/* Lifecycle (device.h). */

static struct cmos *cmos_of(struct device *d)
{
	return device_of(d, struct cmos, dev);
}

/* A machine reset does not touch battery-backed CMOS: the RAM and the clock survive; the RESET pin
 * clears register B's interrupt enables (MC146818A "RESET"), and the index latch starts over. */
#define B_INT_ENABLES	0x78	/* PIE, AIE, UIE, SQWE */

static void cmos_dev_reset(struct device *d)
{
	struct cmos *c = cmos_of(d);

	pthread_mutex_lock(&c->lock);
	c->st.index = 0;
	c->st.ram[REG_B] &= (uint8_t)~B_INT_ENABLES;
	pthread_mutex_unlock(&c->lock);
}

static ssize_t cmos_dev_save(struct device *d, void *buf, size_t cap)
{
	struct cmos *c = cmos_of(d);

	if (cap < sizeof(c->st))
		return -ENOSPC;
	pthread_mutex_lock(&c->lock);
	memcpy(buf, &c->st, sizeof(c->st));
	pthread_mutex_unlock(&c->lock);
	return sizeof(c->st);
}

/* RAM bytes are the guest's to write, but registers A, C and D hold what the model allows only. */
static bool state_valid(const struct cmos_state *st)
{
	for (size_t i = 0; i < sizeof(st->pad); i++)
		if (st->pad[i])
			return false;
	return st->offset_sec >= -CMOS_OFFSET_MAX_SEC && st->offset_sec <= CMOS_OFFSET_MAX_SEC &&
	       st->index <= CMOS_INDEX_MASK && !(st->ram[REG_A] & A_UIP) && st->ram[REG_C] == 0 &&
	       st->ram[REG_D] == D_VRT;
}

static int cmos_dev_restore(struct device *d, const void *buf, size_t len)
{
	struct cmos *c = cmos_of(d);
	struct cmos_state st;

	if (len != sizeof(st))
		return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (!state_valid(&st))
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	c->st = st;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void cmos_dev_destroy(struct device *d)
{
	cmos_destroy(cmos_of(d));
}

static const struct device_ops cmos_dev_ops = {
	.kind = "cmos",
	.state_version = CMOS_STATE_VERSION,
	.reset = cmos_dev_reset,
	.save = cmos_dev_save,
	.restore = cmos_dev_restore,
	.destroy = cmos_dev_destroy,
};

struct device *cmos_device(struct cmos *c)
{
	return &c->dev;
}

int cmos_create(struct cmos **out, const struct cmos_config *cfg)
{
	struct cmos *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = pthread_mutex_init(&c->lock, NULL);
	if (err) {
		free(c);
		return -err;
	}
	device_init(&c->dev, &cmos_dev_ops, "cmos");
	c->now = cfg->now;
	c->st.ram[REG_A] = A_DEFAULT;
	c->st.ram[REG_B] = B_DEFAULT;
	c->st.ram[REG_D] = D_VRT;
	memory_layout(c, cfg);
	*out = c;
	return 0;
}

void cmos_destroy(struct cmos *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	free(c);
}
