/* The legacy devices' lifecycle (device.h): save -> restore into a fresh device gives the same
 * guest-visible registers; hostile records are refused with the device unchanged; the CMOS clock
 * and the PM timer are guest-relative across a restore; resets; every device in one registry.
 * The hostile cases flip bytes at the record offsets of each device's state struct (named below):
 * a change of layout must bump the device's state_version and these offsets with it. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "core/device.h"
#include "dev/acpi_pm.h"
#include "dev/boot_timer.h"
#include "dev/cmos.h"
#include "dev/debugcon.h"
#include "dev/pci.h"
#include "dev/test_exit.h"
#include "dev/uart8250.h"
#include "fake_vmm.h"
#include "port_io.h"
#include "test.h"

static struct fake_vmm fv;
static struct vmm_ops fops;
static uint8_t rec[1024];

/* Round trip through the registry's record: 0 when b took a's state. */
static int copy_state(struct device *a, struct device *b)
{
	size_t used = 0;
	ssize_t n = device_save(a, rec, sizeof(rec));

	if (n < 0)
		return (int)n;
	return device_restore(b, rec, (size_t)n, &used);
}

/* The device's payload with byte off XORed by x must be refused, and d must be left as it was
 * (compared over its first cmp bytes: a live timer makes the rest differ from save to save). */
static void check_refused(struct device *d, size_t off, uint8_t x, size_t cmp)
{
	uint8_t good[512], before[512], after[512];
	ssize_t n = d->ops->save(d, good, sizeof(good));

	CHECK(n > 0 && (size_t)n > off);
	if (n <= 0 || (size_t)n <= off)
		return;
	memcpy(before, good, (size_t)n);
	good[off] ^= x;
	CHECK_EQ(d->ops->restore(d, good, (size_t)n), -EINVAL);
	CHECK_EQ(d->ops->restore(d, good, (size_t)n - 1), -EINVAL);	/* short */
	CHECK_EQ(d->ops->save(d, after, sizeof(after)), n);
	CHECK(memcmp(before, after, cmp) == 0);
}

/* UART: struct uart_regs = ier fcr lcr mcr lsr msr scr dll dlm thr_ipending rx_head rx_count rx[16] */
enum { U_IER, U_FCR, U_LCR, U_MCR, U_LSR, U_MSR, U_SCR, U_DLL, U_DLM, U_THR, U_HEAD, U_COUNT, U_LEN = 28 };

static struct uart *mk_uart(uint32_t gsi)
{
	struct uart *u = NULL;
	struct uart_config c = { .vmm = &fops, .gsi = gsi };

	CHECK_EQ(uart_create(&u, &c), 0);
	return u;
}

static void test_uart(void)
{
	struct uart *a, *b;
	const uint8_t in[] = "abc";
	uint8_t va, vb;

	fake_vmm_init(&fv, &fops);
	a = mk_uart(4);
	b = mk_uart(3);
	CHECK_STR(uart_device(a)->name, "com1");
	port_out8(&uart_bus_ops, a, 3, 0x80);		/* DLAB: divisor 0x0201 */
	port_out8(&uart_bus_ops, a, 0, 0x01);
	port_out8(&uart_bus_ops, a, 1, 0x02);
	port_out8(&uart_bus_ops, a, 3, 0x1b);		/* 8E1 */
	port_out8(&uart_bus_ops, a, 2, 0x87);		/* FIFO on, trigger 8 */
	port_out8(&uart_bus_ops, a, 4, 0x0b);		/* DTR RTS OUT2 */
	port_out8(&uart_bus_ops, a, 7, 0x5a);
	port_out8(&uart_bus_ops, a, 1, 0x01);		/* IER: received data */
	CHECK_EQ(uart_rx_push(a, in, 3), 3);
	CHECK_EQ(fv.line[4], 1);
	CHECK_EQ(fv.line[3], 0);
	CHECK_EQ(copy_state(uart_device(a), uart_device(b)), 0);
	CHECK_EQ(fv.line[3], 1);			/* the restored UART drives its own line */
	/* Every register reads the same, in the same order (reads of RBR, IIR, LSR, MSR have effects). */
	for (int round = 0; round < 3; round++)
		for (unsigned r = 0; r < UART_NR_PORTS; r++) {
			va = port_in8(&uart_bus_ops, a, r);
			vb = port_in8(&uart_bus_ops, b, r);
			CHECK_EQ(va, vb);
		}
	CHECK_EQ(fv.line[3], fv.line[4]);

	check_refused(uart_device(b), U_IER, 0x10, U_LEN);	/* IER bits 4-7 */
	check_refused(uart_device(b), U_FCR, 0x02, U_LEN);	/* a clear-FIFO bit is never stored */
	check_refused(uart_device(b), U_MCR, 0x20, U_LEN);
	check_refused(uart_device(b), U_LSR, 0x20, U_LEN);	/* THRE is always set */
	check_refused(uart_device(b), U_LSR, 0x01, U_LEN);	/* DR disagrees with the FIFO */
	check_refused(uart_device(b), U_MSR, 0x10, U_LEN);	/* CTS disagrees with the MCR */
	check_refused(uart_device(b), U_THR, 0x02, U_LEN);
	check_refused(uart_device(b), U_HEAD, 0x10, U_LEN);	/* head 16 */
	check_refused(uart_device(b), U_COUNT, 0x11, U_LEN);	/* 17 bytes in a 16-byte FIFO */

	/* Reset: power-on registers, the line dropped. */
	CHECK_EQ(uart_rx_push(b, in, 2), 2);
	port_out8(&uart_bus_ops, b, 1, 0x01);
	port_out8(&uart_bus_ops, b, 4, 0x08);
	CHECK_EQ(fv.line[3], 1);
	uart_device(b)->ops->reset(uart_device(b));
	CHECK_EQ(fv.line[3], 0);
	CHECK_EQ(port_in8(&uart_bus_ops, b, 3), 0x03);
	CHECK_EQ(port_in8(&uart_bus_ops, b, 5), 0x60);	/* THRE TEMT, no data */
	CHECK_EQ(port_in8(&uart_bus_ops, b, 7), 0);
	uart_destroy(a);
	uart_destroy(b);
}

/* CMOS: struct cmos_state = int64 offset_sec, index, ram[128], pad[7] */
enum { C_OFFSET = 0, C_INDEX = 8, C_RAM = 9, C_PAD = 137, C_LEN = 144 };

static time_t host_now;

static time_t fake_clock(void)
{
	return host_now;
}

static struct cmos *mk_cmos(void)
{
	struct cmos *c = NULL;
	struct cmos_config cfg = { .ram_below_4g = 256 << 20, .nr_cpus = 2, .now = fake_clock };

	CHECK_EQ(cmos_create(&c, &cfg), 0);
	return c;
}

static uint8_t cmos_rd(struct cmos *c, uint8_t idx)
{
	port_out8(&cmos_bus_ops, c, 0, idx);
	return port_in8(&cmos_bus_ops, c, 1);
}

static void cmos_wr(struct cmos *c, uint8_t idx, uint8_t v)
{
	port_out8(&cmos_bus_ops, c, 0, idx);
	port_out8(&cmos_bus_ops, c, 1, v);
}

static void test_cmos(void)
{
	struct cmos *a = mk_cmos(), *b;
	uint8_t ra[128], rb[128];

	/* The guest sets 2001-02-03 04:05:06 under B.SET, then writes a RAM byte. */
	static const uint8_t set_time[][2] = {
		{ 0x0b, 0x82 }, { 0x00, 0x06 }, { 0x02, 0x05 }, { 0x04, 0x04 }, { 0x07, 0x03 },
		{ 0x08, 0x02 }, { 0x09, 0x01 }, { 0x32, 0x20 }, { 0x0b, 0x02 }, { 0x40, 0xa5 },
	};

	host_now = 1700000000;				/* 2023-11-14 22:13:20 UTC */
	for (size_t i = 0; i < sizeof(set_time) / sizeof(set_time[0]); i++)
		cmos_wr(a, set_time[i][0], set_time[i][1]);
	CHECK_EQ(cmos_rd(a, 0x09), 0x01);

	/* Saved at one host time, restored an hour later on a "fresh" machine: the guest's clock keeps
	 * its offset from the host's, so both read the same guest time at the same host time. */
	host_now += 3600;
	b = mk_cmos();
	CHECK_EQ(cmos_rd(b, 0x09), 0x23);			/* the fresh one runs on host time */
	CHECK_EQ(copy_state(cmos_device(a), cmos_device(b)), 0);
	for (unsigned r = 0; r < sizeof(ra); r++) {
		ra[r] = cmos_rd(a, (uint8_t)r);
		rb[r] = cmos_rd(b, (uint8_t)r);
	}
	CHECK(memcmp(ra, rb, sizeof(ra)) == 0);
	CHECK_EQ(rb[0x04], 0x05);				/* 05:05:06: an hour on from the set time */
	CHECK_EQ(rb[0x00], 0x06);
	CHECK_EQ(rb[0x40], 0xa5);
	port_out8(&cmos_bus_ops, a, 0, 0x15);		/* the index latch travels too */
	CHECK_EQ(copy_state(cmos_device(a), cmos_device(b)), 0);
	CHECK_EQ(port_in8(&cmos_bus_ops, b, 1), 0x80);	/* 640 KiB base memory, low byte */

	check_refused(cmos_device(b), C_OFFSET + 7, 0x40, C_LEN);	/* offset far beyond year 9999 */
	check_refused(cmos_device(b), C_INDEX, 0x80, C_LEN);
	check_refused(cmos_device(b), C_RAM + 0x0a, 0x80, C_LEN);	/* UIP in register A */
	check_refused(cmos_device(b), C_RAM + 0x0c, 0x01, C_LEN);	/* register C */
	check_refused(cmos_device(b), C_RAM + 0x0d, 0x80, C_LEN);	/* register D */
	check_refused(cmos_device(b), C_PAD + 6, 0x01, C_LEN);

	/* Reset keeps the battery-backed RAM and clock, clears B's interrupt enables. */
	cmos_wr(b, 0x0b, 0x72);
	cmos_device(b)->ops->reset(cmos_device(b));
	CHECK_EQ(cmos_rd(b, 0x0b), 0x02);
	CHECK_EQ(cmos_rd(b, 0x40), 0xa5);
	CHECK_EQ(cmos_rd(b, 0x09), 0x01);
	cmos_destroy(a);
	cmos_destroy(b);
}

/* ACPI PM: struct acpi_pm_record = sts en cnt pad (u16 each), tmr (u32) */
enum { P_STS = 0, P_EN = 2, P_CNT = 4, P_PAD = 6, P_TMR = 8, P_REGS_LEN = 8 };
#define PM_TICKS_PER_MIN	(60 * (uint32_t)ACPI_PM_TIMER_HZ)

static uint32_t pm_in(struct acpi_pm *pm, unsigned off, uint32_t len)
{
	uint32_t v = 0;

	acpi_pm_ops.read(pm, off, &v, len);
	return v;
}

static void pm_out(struct acpi_pm *pm, unsigned off, uint32_t v, uint32_t len)
{
	acpi_pm_ops.write(pm, off, &v, len);
}

static void test_acpi_pm(void)
{
	struct acpi_pm *a = NULL, *b = NULL;
	struct device *db;
	uint8_t raw[16];
	uint32_t t1, t2, t3, saved;

	fake_vmm_init(&fv, &fops);
	CHECK_EQ(acpi_pm_create(&a, &fops), 0);
	CHECK_EQ(acpi_pm_create(&b, &fops), 0);
	db = acpi_pm_device(b);
	pm_out(a, ACPI_PM_EN_OFF, 0x0121, 2);
	pm_out(a, ACPI_PM_CNT_OFF, 1u << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN, 2);
	CHECK_EQ(pm_in(a, ACPI_PM_STS_OFF, 2), ACPI_PM1_STS_WAK);	/* an S1 "wakes" at once */

	/* The timer continues across save -> restore into a fresh device: never backwards. */
	t1 = pm_in(a, ACPI_PM_TMR_REG_OFF, 4);
	CHECK_EQ(acpi_pm_device(a)->ops->save(acpi_pm_device(a), raw, sizeof(raw)), 12);
	memcpy(&saved, raw + P_TMR, 4);
	CHECK_EQ(db->ops->restore(db, raw, 12), 0);
	t2 = pm_in(b, ACPI_PM_TMR_REG_OFF, 4);
	t3 = pm_in(b, ACPI_PM_TMR_REG_OFF, 4);
	CHECK((uint32_t)(saved - t1) < PM_TICKS_PER_MIN);
	CHECK((uint32_t)(t2 - saved) < PM_TICKS_PER_MIN);
	CHECK((uint32_t)(t3 - t2) < PM_TICKS_PER_MIN);
	for (unsigned r = 0; r < ACPI_PM_TMR_REG_OFF; r += 2)
		CHECK_EQ(pm_in(a, r, 2), pm_in(b, r, 2));

	/* Anchored far from the fresh device's own count, and across the 32-bit wrap. */
	saved = 0xffffff00u;
	memcpy(raw + P_TMR, &saved, 4);
	CHECK_EQ(db->ops->restore(db, raw, 12), 0);
	t2 = pm_in(b, ACPI_PM_TMR_REG_OFF, 4);
	CHECK((uint32_t)(t2 - saved) < PM_TICKS_PER_MIN);
	for (int i = 0; i < 1000; i++) {
		t3 = pm_in(b, ACPI_PM_TMR_REG_OFF, 4);
		CHECK((uint32_t)(t3 - t2) < PM_TICKS_PER_MIN);
		t2 = t3;
	}

	/* The inverse the restore uses is exact: the first ns of each tick. */
	for (uint32_t t = 1; t < 0xf0000000u; t = t * 3 + 7) {
		CHECK_EQ(acpi_pm_timer_ticks(acpi_pm_timer_ns(t)), t);
		CHECK_EQ(acpi_pm_timer_ticks(acpi_pm_timer_ns(t) - 1), t - 1);
	}

	check_refused(db, P_STS, 0x01, P_REGS_LEN);	/* a status bit the model never sets */
	check_refused(db, P_CNT, 0x01, P_REGS_LEN);	/* SCI_EN is hardwired */
	check_refused(db, P_CNT + 1, 0x20, P_REGS_LEN);	/* SLP_EN never stays set */
	check_refused(db, P_PAD, 0x01, P_REGS_LEN);

	db->ops->reset(db);
	CHECK_EQ(pm_in(b, ACPI_PM_EN_OFF, 2), 0);
	CHECK_EQ(pm_in(b, ACPI_PM_STS_OFF, 2), 0);
	CHECK_EQ(pm_in(b, ACPI_PM_CNT_OFF, 2), ACPI_PM1_CNT_SCI_EN);
	acpi_pm_destroy(a);
	acpi_pm_destroy(b);
}

/* PCI host: the CONFIG_ADDRESS latch (u32), then the bridge's 256 config bytes. */
enum { H_ADDR = 0, H_CFG = 4 };

static uint32_t host_cfg(struct pci *pci, uint32_t reg, uint32_t len)
{
	uint32_t a = 0x80000000u | (reg & 0xfc), v = 0;

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.read(pci, 4 + (reg & 3), &v, len);
	return v;
}

static void host_cfg_write(struct pci *pci, uint32_t reg, uint32_t len, uint32_t v)
{
	uint32_t a = 0x80000000u | (reg & 0xfc);

	pci_cfg_io_ops.write(pci, 0, &a, 4);
	pci_cfg_io_ops.write(pci, 4 + (reg & 3), &v, len);
}

static void test_pci_host(void)
{
	struct pci_config pc = LAYOUT_PCI_CONFIG(&fops);
	struct pci *a, *b;
	struct device *db;
	uint32_t latch = 0x80001810u, v = 0;

	fake_vmm_init(&fv, &fops);
	CHECK_EQ(pci_create(&a, &pc), 0);
	CHECK_EQ(pci_create(&b, &pc), 0);
	db = pci_host_device(b);
	host_cfg_write(a, PCI_LATENCY_TIMER, 1, 0x40);
	host_cfg_write(a, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	host_cfg_write(a, PCI_INTERRUPT_LINE, 1, 11);
	pci_cfg_io_ops.write(a, 0, &latch, 4);
	CHECK_EQ(copy_state(pci_host_device(a), db), 0);
	pci_cfg_io_ops.read(b, 0, &v, 4);
	CHECK_EQ(v, latch);
	for (uint32_t r = 0; r < 256; r += 4)
		CHECK_EQ(host_cfg(a, r, 4), host_cfg(b, r, 4));
	CHECK_EQ(host_cfg(b, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);

	check_refused(db, H_ADDR, 0x01, 260);		/* latch bits 0-1 never hold a value */
	check_refused(db, H_ADDR + 3, 0x01, 260);	/* nor bits 24-30 */
	check_refused(db, H_CFG + PCI_VENDOR_ID, 0x01, 260);	/* the machine's ids, not the record's */
	check_refused(db, H_CFG + PCI_CLASS_DEVICE + 1, 0x01, 260);

	db->ops->reset(db);
	CHECK_EQ(host_cfg(b, PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	CHECK_EQ(host_cfg(b, PCI_LATENCY_TIMER, 1), 0);
	CHECK_EQ(host_cfg(b, PCI_VENDOR_ID, 2), 0x8086);
	pci_destroy(a);
	pci_destroy(b);
}

/* Every legacy device in one registry under the names the board gives them; the stateless ones
 * write an empty record and refuse a non-empty one; devreg_destroy frees them all (ASan: no leak). */
static void test_registry(void)
{
	struct pci_config pc = LAYOUT_PCI_CONFIG(&fops);
	struct uart_config uc = { .vmm = &fops, .gsi = 4, .name = "com2" };
	struct cmos_config cc = { .ram_below_4g = 64 << 20 };
	struct debugcon_config dc = { .out_fd = -1 };
	struct devreg r = { 0 };
	struct uart *u;
	struct cmos *c;
	struct acpi_pm *pm;
	struct debugcon *d;
	struct boot_timer *bt;
	struct test_exit *te;
	struct pci *pci;
	struct device *dev;
	size_t used;
	ssize_t n;
	static const char *const names[] = { "com2", "cmos", "acpi-pm", "debugcon", "boot-timer",
					     "test-exit", "pci" };
	unsigned i = 0;

	fake_vmm_init(&fv, &fops);
	CHECK_EQ(uart_create(&u, &uc), 0);
	CHECK_EQ(cmos_create(&c, &cc), 0);
	CHECK_EQ(acpi_pm_create(&pm, &fops), 0);
	CHECK_EQ(debugcon_create(&d, &dc), 0);
	CHECK_EQ(boot_timer_create(&bt, NULL), 0);
	CHECK_EQ(test_exit_create(&te, &fops), 0);
	CHECK_EQ(pci_create(&pci, &pc), 0);
	CHECK_EQ(devreg_add(&r, uart_device(u)), 0);
	CHECK_EQ(devreg_add(&r, cmos_device(c)), 0);
	CHECK_EQ(devreg_add(&r, acpi_pm_device(pm)), 0);
	CHECK_EQ(devreg_add(&r, debugcon_device(d)), 0);
	CHECK_EQ(devreg_add(&r, boot_timer_device(bt)), 0);
	CHECK_EQ(devreg_add(&r, test_exit_device(te)), 0);
	CHECK_EQ(devreg_add(&r, pci_host_device(pci)), 0);
	devreg_for_each(&r, dev) {
		CHECK_STR(dev->name, names[i]);
		i++;
		n = device_save(dev, rec, sizeof(rec));
		CHECK(n > 0);
		CHECK_EQ(device_restore(dev, rec, (size_t)n, &used), 0);
		CHECK_EQ(used, (size_t)n);
	}
	CHECK_EQ(i, 7);
	CHECK_EQ(devreg_pause(&r, 0), 0);
	devreg_resume(&r);
	devreg_reset(&r);
	/* A stateless device's record with a payload appended is not its own. */
	dev = devreg_find(&r, "test-exit");
	n = device_save(dev, rec, sizeof(rec) - 8);
	CHECK(n > 0);
	memset(rec + n, 0, 4);
	rec[8] = 4;					/* the header's payload length */
	CHECK_EQ(device_restore(dev, rec, (size_t)n + 4, &used), -EINVAL);
	devreg_destroy(&r);
	CHECK_EQ(r.n, 0);
}

int main(void)
{
	RUN(test_uart);
	RUN(test_cmos);
	RUN(test_acpi_pm);
	RUN(test_pci_host);
	RUN(test_registry);
	return test_summary();
}
