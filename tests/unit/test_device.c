/* device registry: order of pause/resume/destroy, rollback of a failed pause, lookup by name and
 * kind, and the versioned record (header checks against hostile bytes, device left unchanged). */
#include <errno.h>
#include <stdlib.h>

#include "core/device.h"
#include "test.h"

struct toy {
	struct device dev;
	int fail_pause;
	uint32_t state;
};

static char trace[64];

static void note(const char *what, const struct device *d)
{
	size_t n = strlen(trace);

	snprintf(trace + n, sizeof(trace) - n, "%c%c", what[0], d->name[0]);
}

static int toy_pause(struct device *d, int64_t deadline_ns)
{
	(void)deadline_ns;
	note("p", d);
	return device_of(d, struct toy, dev)->fail_pause ? -ETIMEDOUT : 0;
}

static void toy_resume(struct device *d) { note("r", d); }
static void toy_destroy(struct device *d) { note("d", d); }

static ssize_t toy_save(struct device *d, void *buf, size_t cap)
{
	struct toy *t = device_of(d, struct toy, dev);

	if (cap < sizeof(t->state))
		return -ENOSPC;
	memcpy(buf, &t->state, sizeof(t->state));
	return sizeof(t->state);
}

static int toy_restore(struct device *d, const void *buf, size_t len)
{
	struct toy *t = device_of(d, struct toy, dev);
	uint32_t v;

	if (len != sizeof(v))
		return -EINVAL;
	memcpy(&v, buf, sizeof(v));
	if (v > 1000)
		return -EINVAL;
	t->state = v;
	return 0;
}

static const struct device_ops toy_ops = {
	.kind = "toy", .state_version = 3, .pause = toy_pause, .resume = toy_resume,
	.save = toy_save, .restore = toy_restore, .destroy = toy_destroy,
};
static const struct device_ops other_ops = { .kind = "other", .destroy = toy_destroy };

static void test_order_and_rollback(void)
{
	struct toy a, b, c;
	struct devreg r = { 0 };

	device_init(&a.dev, &toy_ops, "a");
	device_init(&b.dev, &other_ops, "b");
	device_init(&c.dev, &toy_ops, "c");
	a.fail_pause = c.fail_pause = 0;
	CHECK_EQ(devreg_add(&r, &a.dev), 0);
	CHECK_EQ(devreg_add(&r, &b.dev), 0);
	CHECK_EQ(devreg_add(&r, &c.dev), 0);
	CHECK_EQ(devreg_add(&r, &c.dev), -EEXIST);
	CHECK_EQ(r.n, 3);
	CHECK(devreg_find(&r, "b") == &b.dev);
	CHECK(devreg_find(&r, "z") == NULL);
	CHECK(devreg_nth(&r, "toy", 1) == &c.dev);
	CHECK(devreg_nth(&r, "toy", 2) == NULL);
	CHECK_EQ(devreg_count(&r, "toy"), 2);

	trace[0] = 0;
	CHECK_EQ(devreg_pause(&r, 0), 0);
	devreg_resume(&r);
	CHECK_STR(trace, "papcrcra");	/* b has no pause op: it is paused and resumed silently */

	trace[0] = 0;
	c.fail_pause = 1;
	CHECK_EQ(devreg_pause(&r, 0), -ETIMEDOUT);
	CHECK_STR(trace, "papcra");	/* a was rolled back; c stays running */
	CHECK_EQ(a.dev.paused + b.dev.paused + c.dev.paused, 0);

	trace[0] = 0;
	devreg_destroy(&r);
	CHECK_STR(trace, "dcdbda");
	CHECK_EQ(r.n, 0);
}

static void test_record(void)
{
	struct toy a, b;
	unsigned char buf[256];
	size_t used = 0;
	ssize_t n;

	device_init(&a.dev, &toy_ops, "disk0");
	device_init(&b.dev, &toy_ops, "disk0");
	a.state = 42;
	b.state = 7;
	CHECK_EQ(device_save(&a.dev, buf, 10), -ENOSPC);
	n = device_save(&a.dev, buf, sizeof(buf));
	CHECK(n > 4);
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n, &used), 0);
	CHECK_EQ(b.state, 42);
	CHECK_EQ(used, (size_t)n);

	/* truncated, a foreign name, a foreign version, a bad payload: refused, b unchanged */
	b.state = 7;
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n - 1, &used), -EINVAL);
	CHECK_EQ(device_restore(&b.dev, buf, 8, &used), -EINVAL);
	snprintf(b.dev.name, sizeof(b.dev.name), "disk1");
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n, &used), -EINVAL);
	snprintf(b.dev.name, sizeof(b.dev.name), "disk0");
	buf[4] ^= 1;
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n, &used), -EINVAL);
	buf[4] ^= 1;
	buf[n - 1] = 0xff;		/* state > 1000 */
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n, &used), -EINVAL);
	memset(buf + 12, 'x', 52);	/* kind and name without their NULs */
	CHECK_EQ(device_restore(&b.dev, buf, (size_t)n, &used), -EINVAL);
	CHECK_EQ(b.state, 7);
}

static unsigned toy_stop(struct device *d, int64_t deadline_ns)
{
	(void)deadline_ns;
	note("s", d);
	return d->name[0] == 'x' ? 2 : 0;	/* "x" abandons two requests */
}

static const struct device_ops stopper_ops = { .kind = "stopper", .stop = toy_stop, .destroy = toy_destroy };

/* The VM ends: every device stops in order, with its stop op or else its pause (a failed pause is
 * not an error any more); and the abandoned requests add up. */
static void test_stop(void)
{
	struct toy a, x, c;
	struct devreg r = { 0 };

	device_init(&a.dev, &toy_ops, "a");
	device_init(&x.dev, &stopper_ops, "x");
	device_init(&c.dev, &toy_ops, "c");
	a.fail_pause = 0;
	c.fail_pause = 1;
	CHECK_EQ(devreg_add(&r, &a.dev), 0);
	CHECK_EQ(devreg_add(&r, &x.dev), 0);
	CHECK_EQ(devreg_add(&r, &c.dev), 0);
	trace[0] = 0;
	CHECK_EQ(devreg_stop(&r, 0), 2);
	CHECK_STR(trace, "pasxpc");
	CHECK(a.dev.paused && x.dev.paused && c.dev.paused);
	trace[0] = 0;
	devreg_destroy(&r);
	CHECK_STR(trace, "dcdxda");
}

int main(void)
{
	RUN(test_order_and_rollback);
	RUN(test_record);
	RUN(test_stop);
	return test_summary();
}
