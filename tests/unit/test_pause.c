/* vm_pause/vm_resume/vm_pause_point (src/core/vm_pause.c) without /dev/kvm: fake vCPU threads run
 * the vCPU loop's pause point around a "guest" that counts, a kick is the real signal and
 * immediate_exit. Pause parks all, resume lets them count on, a stop wakes parked vCPUs, a vCPU
 * stuck in a device makes the pause time out and withdraw, a withdrawn kick is cleared. */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "core/vcpu.h"
#include "core/vm.h"
#include "core/vm_pause.h"
#include "log.h"
#include "test.h"

#define NCPU 3

static struct vm vm;
static struct vcpu vcpus[NCPU];
static struct kvm_run runs[NCPU];
static unsigned long work[NCPU];
static int stuck_ms[NCPU];	/* a vCPU busy in a device this long (atomic: two threads) */

static void *fake_vcpu(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGURG);	/* vcpu_kick's signal */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (vm_stop_reason(&vm) == VM_STOP_NONE) {
		if (vm_pause_point(v))
			continue;
		int stuck = __atomic_load_n(&stuck_ms[v->id], __ATOMIC_RELAXED);

		if (stuck) {	/* signals do not end it (a kick lands meanwhile) */
			struct timespec t0, t;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			do {
				usleep(1000);
				clock_gettime(CLOCK_MONOTONIC, &t);
			} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < stuck);
			__atomic_store_n(&stuck_ms[v->id], 0, __ATOMIC_RELAXED);
		}
		/* "KVM_RUN": returns at once while immediate_exit is set, else runs a little. */
		if (!__atomic_load_n(&v->run->immediate_exit, __ATOMIC_ACQUIRE))
			__atomic_add_fetch(&work[v->id], 1, __ATOMIC_RELAXED);
		usleep(100);
	}
	return NULL;
}

static void on_kick(int sig)
{
	(void)sig;
}

static unsigned long total(void)
{
	unsigned long t = 0;

	for (int i = 0; i < NCPU; i++)
		t += __atomic_load_n(&work[i], __ATOMIC_RELAXED);
	return t;
}

static void start(void)
{
	struct sigaction sa = { .sa_handler = on_kick };
	sigset_t set;

	sigaction(SIGURG, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGURG);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&vm, 0, sizeof(vm));
	pthread_mutex_init(&vm.lock, NULL);
	pthread_cond_init(&vm.stopped, NULL);
	vm.ncpus = NCPU;
	vm.vcpus = vcpus;
	for (int i = 0; i < NCPU; i++) {
		vcpus[i] = (struct vcpu){ .vm = &vm, .id = (unsigned)i, .fd = -1, .run = &runs[i] };
		pthread_create(&vcpus[i].thread, NULL, fake_vcpu, &vcpus[i]);
		vcpus[i].started = true;
	}
}

static void test_pause_resume(void)
{
	uint64_t ns = 0;
	unsigned long a, b;

	usleep(20000);
	CHECK(total() > 0);
	CHECK_EQ(vm_pause(&vm, 1000000000LL, &ns), 0);
	CHECK(vm_paused(&vm));
	CHECK_EQ(vm.pause.parked, NCPU);
	CHECK(ns > 0 && ns < 1000000000ULL);
	a = total();
	usleep(50000);
	b = total();
	CHECK_EQ(a, b);			/* nothing runs while paused */
	CHECK_EQ(vm_pause(&vm, 1000000000LL, &ns), 0);	/* again: a no-op */
	CHECK_EQ(vm.pause.pauses, 1);
	CHECK_EQ(vm_resume(&vm), 0);
	CHECK(!vm_paused(&vm));
	usleep(50000);
	CHECK(total() > b);		/* and runs again: the pause's kick was used up */
	for (int i = 0; i < NCPU; i++)
		CHECK_EQ(__atomic_load_n(&runs[i].immediate_exit, __ATOMIC_ACQUIRE), 0);
	CHECK_EQ(vm_resume(&vm), 0);	/* resume of a running VM: a no-op */
}

static void test_stuck_vcpu_times_out(void)
{
	unsigned long b;

	__atomic_store_n(&stuck_ms[1], 400, __ATOMIC_RELAXED);
	usleep(5000);			/* vCPU 1 is now "in a device" */
	CHECK_EQ(vm_pause(&vm, 100000000LL, NULL), -ETIMEDOUT);
	CHECK(!vm_paused(&vm));		/* withdrawn: the others run on */
	usleep(500000);
	b = total();
	usleep(50000);
	CHECK(total() > b);
	for (int i = 0; i < NCPU; i++)	/* the withdrawn pause's kicks are cleared, no busy loop */
		CHECK_EQ(__atomic_load_n(&runs[i].immediate_exit, __ATOMIC_ACQUIRE), 0);
}

static void test_stop_while_paused(void)
{
	CHECK_EQ(vm_pause(&vm, 1000000000LL, NULL), 0);
	vm_stop(&vm, VM_STOP_USER, 0, "test");
	for (int i = 0; i < NCPU; i++)
		pthread_join(vcpus[i].thread, NULL);	/* woken from the park, left the loop */
	CHECK_EQ(vm.pause.parked, 0);
	CHECK_EQ(vm_pause(&vm, 1000000000LL, NULL), -ESHUTDOWN);
}

int main(void)
{
	log_threshold = LOG_WARN;
	start();
	RUN(test_pause_resume);
	RUN(test_stuck_vcpu_times_out);
	RUN(test_stop_while_paused);
	return test_summary();
}
