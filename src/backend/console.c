/* Serial console backend: UART output to stdout/a file/nowhere (through serial_out, which never
 * blocks), stdin (raw terminal, pipe, file) into the UART with a Ctrl-A escape, and flow control
 * against the guest's 16-byte FIFO (rx_ready kicks). Input runs on the event-loop (I/O) thread;
 * console_rx_ready and console_tx on vCPU threads; the terminal's suspend/resume in signal handlers
 * on any thread; the rest on main. */
#include "backend/console.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include "backend/outfile.h"
#include "backend/serial_out.h"
#include "core/evloop.h"
#include "dev/uart8250.h"
#include "log.h"

#define ESCAPE_CHAR	0x01		/* Ctrl-A */
#define READ_CHUNK	1024
#define PEND_SIZE	(64 * 1024)	/* input waiting for FIFO room (a large paste) */

struct console {
	enum console_mode mode;
	struct evloop *ev;
	const struct vmm_ops *vmm;
	struct uart *uart;
	int in_fd, out_fd;
	int file_fd;		/* owned, CONSOLE_FILE; handed to `out` once that exists */
	int kick_fd;		/* eventfd written by console_rx_ready */
	struct serial_out *out;	/* where console_tx sends the guest's output; NULL: nowhere */
	bool tty;		/* input is a terminal: always read (so the escape works), drop on overflow */
	bool pollable;		/* input works with epoll (not a regular file or /dev/null) */
	bool watching, eof, esc, raw;
	size_t pend_off, pend_len;
	uint8_t pend[PEND_SIZE];
};

/* Terminal state, kept in statics so that signal handlers and atexit can reach it without an
 * argument. term_state changes by atomic exchange/compare-and-swap only; the termios copies are
 * written before the state says RAW and only read after it did.
 *   TERM_IDLE       not ours (never raw, or restored for good)
 *   TERM_RAW        raw mode is on, console_restore() must undo it
 *   TERM_SUSPENDED  job-control stop, or continued in the background: cooked until console_resume() */
enum { TERM_IDLE, TERM_RAW, TERM_SUSPENDED };
static int term_state;
static struct termios saved_termios, raw_termios;
static int saved_fd = -1;
static bool atexit_done;

/* tcsetattr() from a background process group raises SIGTTOU, which would stop us: keep it
 * blocked for the call (then the kernel lets it through). Async-signal-safe. */
static void term_set(const struct termios *t)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	pthread_sigmask(SIG_BLOCK, &ttou, &old);
	tcsetattr(saved_fd, TCSANOW, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static bool term_foreground(void)
{
	return tcgetpgrp(saved_fd) == getpgrp();
}

void console_restore(void)
{
	if (__atomic_exchange_n(&term_state, TERM_IDLE, __ATOMIC_SEQ_CST) == TERM_RAW)
		term_set(&saved_termios);
}

void console_suspend(void)
{
	int raw = TERM_RAW;

	/* Leave the terminal alone when it belongs to another job (SIGTTIN/SIGTTOU in the background). */
	if (__atomic_compare_exchange_n(&term_state, &raw, TERM_SUSPENDED, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST) && term_foreground())
		term_set(&saved_termios);
}

void console_resume(void)
{
	int state = TERM_SUSPENDED;

	if (!term_foreground()) {
		/* Continued in the background: the shell owns the terminal's modes until `fg`. */
		state = TERM_RAW;
		__atomic_compare_exchange_n(&term_state, &state, TERM_SUSPENDED, false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
		return;
	}
	if (!__atomic_compare_exchange_n(&term_state, &state, TERM_RAW, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST) && state != TERM_RAW)
		return;
	/* RAW now (re-applied even if it was: a shell may have reset the modes while we were stopped). */
	term_set(&raw_termios);
	/* console_restore() may have run in between and found RAW before our tcsetattr: undo it. */
	if (__atomic_load_n(&term_state, __ATOMIC_SEQ_CST) != TERM_RAW)
		term_set(&saved_termios);
}

static int raw_enter(int fd)
{
	if (__atomic_load_n(&term_state, __ATOMIC_SEQ_CST) != TERM_IDLE)
		return -EBUSY;
	if (tcgetattr(fd, &saved_termios) < 0)
		return -errno;
	saved_fd = fd;
	if (!atexit_done && atexit(console_restore) == 0)
		atexit_done = true;
	raw_termios = saved_termios;
	cfmakeraw(&raw_termios);
	raw_termios.c_cc[VMIN] = 1;
	raw_termios.c_cc[VTIME] = 0;
	/* Marked active first: a signal arriving in between then restores rather than leaks raw mode. */
	__atomic_store_n(&term_state, TERM_RAW, __ATOMIC_SEQ_CST);
	if (tcsetattr(fd, TCSANOW, &raw_termios) < 0) {
		int err = -errno;

		__atomic_store_n(&term_state, TERM_IDLE, __ATOMIC_SEQ_CST);
		return err;
	}
	return 0;
}

static void help_print(void)
{
	static const char help[] =
		"\r\nckvm console escapes:\r\n"
		"  Ctrl-A x       stop the VM and exit\r\n"
		"  Ctrl-A Ctrl-A  send Ctrl-A to the guest\r\n"
		"  Ctrl-A h       this help\r\n";

	log_raw(help, sizeof(help) - 1);	/* bounded even when stderr is a stalled terminal */
}

static void pend_append(struct console *con, uint8_t c)
{
	if (con->pend_off + con->pend_len == PEND_SIZE && con->pend_off) {
		memmove(con->pend, con->pend + con->pend_off, con->pend_len);
		con->pend_off = 0;
	}
	if (con->pend_off + con->pend_len == PEND_SIZE) {
		log_guest("console", "guest is not reading the serial port: input dropped");
		return;
	}
	con->pend[con->pend_off + con->pend_len++] = c;
}

static void pend_flush(struct console *con)
{
	size_t n;

	if (!con->pend_len || !con->uart)
		return;
	n = uart_rx_push(con->uart, con->pend + con->pend_off, con->pend_len);
	con->pend_off += n;
	con->pend_len -= n;
	if (!con->pend_len)
		con->pend_off = 0;
}

static bool pend_room(const struct console *con)
{
	return PEND_SIZE - con->pend_len >= READ_CHUNK;
}

static void on_input(void *arg, uint32_t events);

static void watch_set(struct console *con, bool on)
{
	if (!con->pollable || con->eof)
		on = false;
	if (on == con->watching)
		return;
	if (!on) {
		evloop_del(con->ev, con->in_fd);
		con->watching = false;
		return;
	}
	if (evloop_add(con->ev, con->in_fd, EPOLLIN, on_input, con) == 0)
		con->watching = true;
}

static void input_process(struct console *con, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len && !con->eof; i++) {
		uint8_t c = buf[i];

		if (!con->esc) {
			if (c == ESCAPE_CHAR)
				con->esc = true;
			else
				pend_append(con, c);
			continue;
		}
		con->esc = false;
		switch (c) {
		case ESCAPE_CHAR:
			pend_append(con, c);
			break;
		case 'x':
		case 'X':
			log_info("console", "Ctrl-A x: stopping the VM");
			vmm_request_stop(con->vmm, VM_STOP_USER, 0);
			con->eof = true;	/* nothing after the request is delivered */
			break;
		case 'h':
		case 'H':
		case '?':
			help_print();
			break;
		default:
			break;	/* unknown escapes are swallowed */
		}
	}
}

/* One read(); > 0 bytes taken, 0 at end of input (or a hard error), -EAGAIN to wait. */
static ssize_t input_read(struct console *con)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n = read(con->in_fd, buf, sizeof(buf));

	if (n > 0) {
		input_process(con, buf, (size_t)n);
		return n;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return -EAGAIN;
	if (n < 0)
		log_errno(LOG_DEBUG, "console", -errno, "input closed");
	con->eof = true;
	return 0;
}

static void input_pump(struct console *con);

static void on_input(void *arg, uint32_t events)
{
	struct console *con = arg;

	(void)events;	/* EPOLLHUP/EPOLLERR surface as read() returning 0 or an error */
	if (!con->eof && (con->tty || pend_room(con)))
		input_read(con);
	input_pump(con);
}

/* Push what is pending, read on from inputs epoll cannot watch, and watch stdin only while there is
 * room to take what it delivers (a terminal is always watched so the escape keeps working). */
static void input_pump(struct console *con)
{
	for (;;) {
		pend_flush(con);
		if (con->eof || con->pollable || !pend_room(con))
			break;
		if (input_read(con) <= 0)
			break;
	}
	watch_set(con, !con->eof && (con->tty || pend_room(con)));
}

static void on_kick(void *arg, uint32_t events)
{
	struct console *con = arg;
	uint64_t cnt;

	(void)events;
	if (read(con->kick_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_errno(LOG_DEBUG, "console", -errno, "kick eventfd");
	input_pump(con);
}

void console_rx_ready(void *arg)
{
	struct console *con = arg;
	uint64_t one = 1;

	if (con && con->kick_fd >= 0 && write(con->kick_fd, &one, sizeof(one)) < 0)
		return;	/* EAGAIN: a kick is already pending */
}

void console_tx(void *arg, uint8_t c)
{
	struct console *con = arg;

	if (con)
		serial_out_put(con->out, c);
}

int console_attach(struct console *con, struct uart *uart)
{
	int err;

	con->uart = uart;
	if (con->out_fd >= 0 && !con->out) {
		err = serial_out_create(&con->out, con->out_fd, con->file_fd >= 0);
		if (!err)
			con->file_fd = -1;	/* the sink closes it, when nothing writes to it any more */
		if (err == -EBADF) {
			con->out = NULL;	/* stdout closed: the output goes nowhere */
		} else if (err) {
			log_errno(LOG_ERR, "console", err, "serial output");
			return err;
		}
	}
	if (con->mode != CONSOLE_STDIO || con->in_fd < 0)
		return 0;
	if (fcntl(con->in_fd, F_GETFD) < 0) {
		con->eof = true;	/* stdin closed: no input at all */
		return 0;
	}
	con->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (con->kick_fd < 0)
		return -errno;
	err = evloop_add(con->ev, con->kick_fd, EPOLLIN, on_kick, con);
	if (err) {
		close(con->kick_fd);
		con->kick_fd = -1;
		return err;
	}
	con->tty = isatty(con->in_fd);
	if (con->tty) {
		err = raw_enter(con->in_fd);
		if (err)
			log_errno(LOG_WARN, "console", err, "cannot put the terminal in raw mode");
		con->raw = !err;
	}
	err = evloop_add(con->ev, con->in_fd, EPOLLIN, on_input, con);
	if (err == -EPERM) {
		con->pollable = false;	/* regular file or /dev/null: always readable */
	} else if (err) {
		log_errno(LOG_WARN, "console", err, "not reading serial input");
		con->eof = true;
		return 0;
	} else {
		con->pollable = true;
		con->watching = true;
	}
	input_pump(con);
	return 0;
}

int console_create(struct console **out, const struct console_config *cfg)
{
	struct console *con = calloc(1, sizeof(*con));

	if (!con)
		return -ENOMEM;
	con->mode = cfg->mode;
	con->ev = cfg->ev;
	con->vmm = cfg->vmm;
	con->in_fd = cfg->in_fd;
	con->file_fd = -1;
	con->kick_fd = -1;
	switch (cfg->mode) {
	case CONSOLE_STDIO:
		con->out_fd = STDOUT_FILENO;
		break;
	case CONSOLE_FILE:
		if (!cfg->path) {
			free(con);
			return -EINVAL;
		}
		con->file_fd = outfile_open(cfg->files, cfg->opt ? cfg->opt : "serial file ", cfg->path);
		if (con->file_fd < 0) {
			int err = con->file_fd;

			free(con);
			return err;
		}
		con->out_fd = con->file_fd;
		break;
	case CONSOLE_NONE:
	default:
		con->out_fd = -1;
		break;
	}
	*out = con;
	return 0;
}

int console_out_fd(const struct console *con)
{
	return con ? con->out_fd : -1;
}

void console_destroy(struct console *con)
{
	if (!con)
		return;
	if (con->watching)
		evloop_del(con->ev, con->in_fd);
	if (con->kick_fd >= 0) {
		evloop_del(con->ev, con->kick_fd);
		close(con->kick_fd);
	}
	serial_out_destroy(con->out, SERIAL_OUT_FLUSH_MS);	/* bounded: a stalled reader loses */
	if (con->raw)
		console_restore();
	if (con->file_fd >= 0)
		close(con->file_fd);
	free(con);
}
