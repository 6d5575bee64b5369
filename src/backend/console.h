/* Serial console backend: where the UART's output goes (--serial stdio|file=PATH|none) and, in stdio
 * mode, standard input fed into the UART from the event loop, with a Ctrl-A escape:
 *   Ctrl-A x  stop the VM (VM_STOP_USER)    Ctrl-A Ctrl-A  send one Ctrl-A    Ctrl-A h  help
 * A terminal on stdin is put in raw mode while the console is attached. */
#ifndef CKVM_BACKEND_CONSOLE_H
#define CKVM_BACKEND_CONSOLE_H

#include <stdint.h>

#include "core/vmm_ops.h"

struct console;
struct uart;
struct evloop;
struct file_ids;

/* Same order as config.h's enum serial_mode. */
enum console_mode { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct console_config {
	enum console_mode mode;
	const char *path;		/* CONSOLE_FILE: opened with outfile_open(), mode 0644 */
	const char *opt;		/* CONSOLE_FILE: names it in messages ("--serial file=") */
	struct file_ids *files;		/* CONSOLE_FILE: the VM's inputs and outputs, or NULL */
	struct evloop *ev;		/* input is read on this loop's thread */
	const struct vmm_ops *vmm;	/* request_stop() for Ctrl-A x */
	int in_fd;			/* CONSOLE_STDIO input: normally STDIN_FILENO (0) */
};

/* Opens the output side. 0 or -errno: a file that cannot be used (logged by outfile_open: not
 * created, an input of this VM, locked by another process, ...), -ENOMEM, -EINVAL (no path). */
int console_create(struct console **out, const struct console_config *cfg);

/* The fd the guest's output goes to: STDOUT_FILENO, the file, or -1. */
int console_out_fd(const struct console *con);

/* uart_config.tx callback (arg = the console): one byte of guest output, queued for console_out_fd()
 * by serial_out (never blocks; a full buffer drops and counts). Any thread; NULL console discards. */
void console_tx(void *con, uint8_t c);

/* uart_config.rx_ready callback (arg = the console): the guest made room in the receive FIFO.
 * Thread-safe and non-blocking (it writes an eventfd). */
void console_rx_ready(void *con);

/* Start the output side (any mode), then feed input into uart (CONSOLE_STDIO only). Puts a terminal
 * in raw mode and registers console_restore() with atexit(). Call on the main thread before
 * evloop_run() starts. Non-terminal input (pipe, file, /dev/null, closed fd) is read while there is
 * some; at EOF it is no longer watched and the VM keeps running. 0 or -errno. */
int console_attach(struct console *con, struct uart *uart);

/* Put the terminal back the way console_attach() found it. Idempotent, async-signal-safe (only
 * tcsetattr), so it may be called from signal handlers, atexit handlers and error paths alike;
 * console_destroy() calls it too. */
void console_restore(void);

/* Job control, for the SIGTSTP/SIGTTIN/SIGTTOU and SIGCONT handlers (async-signal-safe):
 * console_suspend() puts a raw terminal back to cooked before the process stops (if the terminal is
 * ours: foreground); console_resume() re-enters raw mode when continued in the foreground, and
 * leaves the terminal alone in the background (until a later SIGCONT finds us in front). */
void console_suspend(void);
void console_resume(void);

/* Call after the vCPUs (which may call console_rx_ready and console_tx) and the event loop have
 * stopped. Flushes queued output for at most SERIAL_OUT_FLUSH_MS (then drops it: a stalled reader
 * must not hold up exit), logs the bytes dropped if any, restores the terminal. NULL is fine. */
void console_destroy(struct console *con);

#endif
