/* clockprobe: measures the guest's clocks against the host's clock without any host-side timing.
 * The CMOS RTC (ports 0x70/0x71) is ckvm's view of the host clock, answered synchronously on each
 * read; the probe waits for its seconds register to change and reads CLOCK_REALTIME and
 * CLOCK_MONOTONIC right at that edge, i.e. at a whole host second. One line per edge:
 *   CKVM-RTCEDGE TAG I HOST_SECOND_OF_DAY GUEST_WALL GUEST_MONO
 * tests/linux/t_clock.sh compares edges taken before and after a long sleep. Built static into the
 * initramfs. Usage: clockprobe TAG COUNT */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

static unsigned rtc_read(unsigned char reg)
{
	outb(reg, 0x70);
	return inb(0x71);
}

static unsigned bcd(unsigned v, int binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 0xf);
}

/* Host second of day from the RTC (binary or BCD per register B; 24-hour mode assumed). */
static long rtc_second_of_day(void)
{
	int binary = rtc_read(0x0b) & 0x04;

	return (long)bcd(rtc_read(0x04), binary) * 3600 + bcd(rtc_read(0x02), binary) * 60 +
	       bcd(rtc_read(0x00), binary);
}

int main(int argc, char **argv)
{
	const char *tag = argc > 1 ? argv[1] : "S";
	int count = argc > 2 ? atoi(argv[2]) : 3;

	if (ioperm(0x70, 2, 1) < 0) {
		perror("clockprobe: ioperm");
		return 1;
	}
	for (int i = 0; i < count; i++) {
		struct timespec wall, mono;
		unsigned start = rtc_read(0x00), now;
		char line[160];
		long sod;
		int n;

		do		/* poll for the seconds edge (at most ~1 s) */
			now = rtc_read(0x00);
		while (now == start);
		clock_gettime(CLOCK_REALTIME, &wall);
		clock_gettime(CLOCK_MONOTONIC, &mono);
		sod = rtc_second_of_day();
		n = snprintf(line, sizeof(line), "CKVM-RTCEDGE %s %d %ld %lld.%09ld %lld.%09ld\n", tag, i,
			     sod, (long long)wall.tv_sec, wall.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec);
		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			return 1;
	}
	return 0;
}
