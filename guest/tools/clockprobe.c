/* clockprobe: prints the guest's wall and monotonic clocks, one line per sample, each with ONE
 * write() right after reading the clocks, so the host can timestamp the line as it arrives on the
 * serial port and estimate clock drift (tests/linux/t_clock.sh). Built static into the initramfs.
 * Usage: clockprobe TAG COUNT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *tag = argc > 1 ? argv[1] : "S";
	int count = argc > 2 ? atoi(argv[2]) : 5;

	for (int i = 0; i < count; i++) {
		struct timespec wall, mono;
		char line[128];
		int n;

		clock_gettime(CLOCK_MONOTONIC, &mono);
		clock_gettime(CLOCK_REALTIME, &wall);
		n = snprintf(line, sizeof(line), "CKVM-CLOCK %s %d %lld.%09ld %lld.%09ld\n", tag, i,
			     (long long)wall.tv_sec, wall.tv_nsec, (long long)mono.tv_sec, mono.tv_nsec);
		if (write(STDOUT_FILENO, line, (size_t)n) != n)
			return 1;
		usleep(200000);
	}
	return 0;
}
