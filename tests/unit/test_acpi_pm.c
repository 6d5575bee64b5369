/* ACPI PM device through a port bus: S5 request -> VM_STOP_POWEROFF, other sleep types ignored (WAK_STS),
 * SCI_EN hardwired, write-one-to-clear status, PM timer arithmetic, odd widths and offsets. */
#include <errno.h>
#include <stdlib.h>

#include "arch/x86/layout.h"
#include "dev/acpi_pm.h"
#include "test.h"

static int stops;
static enum vm_stop_reason last_why;

static void fake_stop(void *ctx, enum vm_stop_reason why, int code)
{
	(void)ctx;
	(void)code;
	stops++;
	last_why = why;
}

static const struct vmm_ops vmm = { .request_stop = fake_stop };
static struct bus io;
static struct acpi_pm *pm;

static uint32_t in(uint64_t port, uint32_t len)
{
	uint32_t v = 0;

	bus_read(&io, port, &v, len);
	return v;
}

static void out(uint64_t port, uint32_t v, uint32_t len)
{
	bus_write(&io, port, &v, len);
}

#define CNT (PORT_ACPI_PM_BASE + ACPI_PM_CNT_OFF)
#define STS (PORT_ACPI_PM_BASE + ACPI_PM_STS_OFF)
#define EN  (PORT_ACPI_PM_BASE + ACPI_PM_EN_OFF)
#define TMR (PORT_ACPI_PM_BASE + ACPI_PM_TMR_REG_OFF)

static uint32_t slp(unsigned typ, bool en)
{
	return typ << ACPI_PM1_CNT_SLP_TYP_SHIFT | (en ? ACPI_PM1_CNT_SLP_EN : 0);
}

static void test_s5(void)
{
	stops = 0;
	CHECK_EQ(in(CNT, 2) & ACPI_PM1_CNT_SCI_EN, 1);
	/* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN. */
	out(CNT, slp(ACPI_PM_SLP_TYP_S5, false) | 1, 2);
	CHECK_EQ(stops, 0);
	out(CNT, slp(ACPI_PM_SLP_TYP_S5, true) | 1, 2);
	CHECK_EQ(stops, 1);
	CHECK_EQ(last_why, VM_STOP_POWEROFF);
	CHECK_EQ(in(CNT, 2) & ACPI_PM1_CNT_SLP_EN, 0);		/* write-only bit */
	/* Byte access to the high half alone carries SLP_TYP and SLP_EN. */
	out(CNT + 1, slp(ACPI_PM_SLP_TYP_S5, true) >> 8, 1);
	CHECK_EQ(stops, 2);
	/* A 32-bit write starting at PM1_EN reaches PM1_CNT too. */
	out(EN, slp(ACPI_PM_SLP_TYP_S5, true) << 16, 4);
	CHECK_EQ(stops, 3);
}

static void test_other_sleep(void)
{
	unsigned typ;

	stops = 0;
	for (typ = 0; typ < 8; typ++) {
		if (typ == ACPI_PM_SLP_TYP_S5)
			continue;
		out(CNT, slp(typ, true), 2);
		CHECK(in(STS, 2) & ACPI_PM1_STS_WAK);		/* "woke up" at once */
		out(STS, ACPI_PM1_STS_WAK, 2);			/* write one to clear */
		CHECK_EQ(in(STS, 2) & ACPI_PM1_STS_WAK, 0);
	}
	CHECK_EQ(stops, 0);
	/* SLP_TYP = S5 without SLP_EN does nothing. */
	out(CNT, slp(ACPI_PM_SLP_TYP_S5, false), 2);
	CHECK_EQ(stops, 0);
	CHECK_EQ(in(CNT, 2) >> ACPI_PM1_CNT_SLP_TYP_SHIFT & 7, ACPI_PM_SLP_TYP_S5);
	out(CNT, 0, 2);
}

static void test_registers(void)
{
	out(CNT, 0, 2);					/* try to clear SCI_EN */
	CHECK_EQ(in(CNT, 2), ACPI_PM1_CNT_SCI_EN);
	out(EN, 0x0121, 2);
	CHECK_EQ(in(EN, 2), 0x0121);
	out(EN + 1, 0x05, 1);
	CHECK_EQ(in(EN, 2), 0x0521);
	out(STS, 0xffff, 2);				/* clears; never sets */
	CHECK_EQ(in(STS, 2), 0);
	CHECK_EQ(in(PORT_ACPI_PM_BASE, 4), 0x05210000);
	out(EN, 0, 2);
	CHECK_EQ(in(PORT_ACPI_PM_BASE + 6, 2), 0);		/* hole */
	out(TMR, 0xffffffff, 4);			/* timer is read-only: harmless */
}

static void test_odd_access(void)
{
	uint8_t buf[8];

	stops = 0;
	memset(buf, 0xff, sizeof(buf));
	/* A write that runs past the end of the device: bytes beyond are dropped. */
	CHECK_EQ(bus_write(&io, TMR + 2, buf, 2), 0);
	acpi_pm_ops.write(pm, ACPI_PM_RANGE_LEN - 1, buf, 8);
	acpi_pm_ops.write(pm, ACPI_PM_RANGE_LEN + 100, buf, 8);
	acpi_pm_ops.write(pm, 0, buf, 0);
	memset(buf, 0, sizeof(buf));
	acpi_pm_ops.read(pm, ACPI_PM_RANGE_LEN - 1, buf, 8);
	CHECK(buf[1] == 0xff && buf[7] == 0xff);
	acpi_pm_ops.read(pm, UINT64_MAX - 2, buf, 8);	/* offset + len wraps */
	CHECK(buf[0] == 0xff && buf[7] == 0xff);
	/* All ones written to PM1_CNT: SLP_TYP 7 with SLP_EN is not S5. */
	memset(buf, 0xff, sizeof(buf));
	acpi_pm_ops.write(pm, ACPI_PM_CNT_OFF, buf, 2);
	CHECK_EQ(stops, 0);
	out(STS, 0xffff, 2);
	out(CNT, 0, 2);
	CHECK(in(CNT, 2) == ACPI_PM1_CNT_SCI_EN);
}

static void test_timer(void)
{
	uint32_t a, b;

	CHECK_EQ(acpi_pm_timer_ticks(0), 0);
	CHECK_EQ(acpi_pm_timer_ticks(1000000000ULL), ACPI_PM_TIMER_HZ);
	CHECK_EQ(acpi_pm_timer_ticks(1000), 3);
	CHECK_EQ(acpi_pm_timer_ticks(3600ULL * 1000000000ULL), (uint32_t)(3600ULL * ACPI_PM_TIMER_HZ));
	/* No overflow for huge uptimes: the value just wraps at 2^32. */
	CHECK_EQ(acpi_pm_timer_ticks(100000ULL * 1000000000ULL),
		 (uint32_t)(100000ULL * ACPI_PM_TIMER_HZ));
	(void)acpi_pm_timer_ticks(UINT64_MAX);
	a = in(TMR, 4);
	b = in(TMR, 4);
	CHECK(b >= a);					/* device is seconds old: no wrap */
	CHECK(in(TMR + 3, 1) - (a >> 24) <= 1);	/* byte read of the top byte */
}

int main(void)
{
	bus_init(&io, "pio");
	if (acpi_pm_create(&pm, &vmm) ||
	    bus_add(&io, PORT_ACPI_PM_BASE, ACPI_PM_RANGE_LEN, &acpi_pm_ops, pm, "acpi-pm"))
		return 1;
	RUN(test_s5);
	RUN(test_other_sleep);
	RUN(test_registers);
	RUN(test_odd_access);
	RUN(test_timer);
	bus_free(&io);
	acpi_pm_destroy(pm);
	return test_summary();
}
