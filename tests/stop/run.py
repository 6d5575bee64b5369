#!/usr/bin/env python3
"""Stop tests: every way of stopping ckvm ends it in bounded time and leaves the terminal as it was.

Usage: run.py CKVM GUEST_DIR HANG_SO [TEST...]
  stall-pipe-SIG    stdout a pipe nobody reads; SIGTERM/SIGINT/SIGHUP end ckvm within 5 s, status 0
  stall-debugcon    the same with --debug-console stdio (and --serial none): no vCPU gets stuck
  stall-pty-KEY     ckvm on a terminal nobody reads; Ctrl-A x or a signal ends it within 5 s, terminal
                    restored
  signal-SIG        ckvm on a terminal (read); each catchable signal either stops it within 5 s
                    (status 0 for HUP/INT/TERM, else death by that signal) with the terminal restored,
                    or is ignored (XFSZ, PIPE, URG) with ckvm still running in raw mode
  jobctl            SIGTSTP/SIGTTIN/SIGTTOU stop ckvm with the terminal cooked, SIGCONT in the
                    foreground makes it raw again, in the background leaves it cooked
  exit-status       the README's exit statuses (0 1 2 3 and (V<<1)|1)
  hung-disk-*       a disk whose back-end never answers (hang.so), with a read in flight, or also a
                    vCPU inside the device's reset: SIGTERM still ends ckvm within 5 s, with one
                    line saying what was abandoned
  seccomp-ROLE      --seccomp-test-trigger ROLE (main vcpu io vblk serial-out api) on a terminal: one
                    line names the role and the call (getsid), exit status 4, terminal restored
  seccomp-log/off   the same trigger (every role) with --seccomp log or off does not end ckvm: the
                    guest's own test-exit status comes back
The guests: spew (prints forever), blkread/blkreset (read sector 0), hello, triplefault, exitcode.
Prints PASS/FAIL per test and "N passed, N failed"; exits non-zero on any failure.
Any ThreadSanitizer/AddressSanitizer report on ckvm's stderr fails the test (for check-tsan). Against
a TSan build the fault signals sent with kill() are skipped: TSan takes them for synchronous faults
and runs the handler inside its own runtime, where it may crash (SIGSEGV) instead.
"""
import errno
import fcntl
import os
import resource
import shutil
import signal
import struct
import sys
import tempfile
import termios
import threading
import time

STOP_BOUND = 5.0        # the acceptance bound for any stop
START_BOUND = 30.0      # generous: sanitizer builds on a loaded 2-core host start slowly

CKVM, GDIR, HANG_SO = (os.path.abspath(a) for a in sys.argv[1:4])
ONLY = sys.argv[4:]
WORK = tempfile.mkdtemp(prefix="ckvm-stop-")
SPEW = ["--kernel", os.path.join(GDIR, "spew.elf")]
with open(CKVM, "rb") as _f:
    TSAN = b"libtsan.so" in _f.read()
# Signals ThreadSanitizer's runtime treats as synchronous (compiler-rt's is_sync_signal): it runs
# their handlers in place, so one sent from outside races the runtime and may end the process by
# SIGSEGV. SIGSYS is among them; SIGPIPE is too but ckvm ignores it. The ASan stop tier covers them.
TSAN_SYNC = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGTRAP, signal.SIGABRT,
             signal.SIGFPE, signal.SIGSYS}
passed = failed = 0
took_s = None           # how long the last stop took (for the PASS line)


def report(name, why):
    global passed, failed, took_s
    if why:
        failed += 1
        print(f"FAIL {name} ({why})", flush=True)
    else:
        passed += 1
        print(f"PASS {name}" + (f" (stopped in {took_s:.2f} s)" if took_s is not None else ""),
              flush=True)
    took_s = None


def spawn(args, fd0, fd1, fd2, ctty=False, env=None):
    """fork+exec ckvm on the given fds; ctty: in its own session with fd0 as controlling terminal."""
    pid = os.fork()
    if pid == 0:
        try:
            for s in (signal.SIGPIPE, signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGTTOU,
                      signal.SIGTTIN, signal.SIGTSTP, signal.SIGXFSZ):
                signal.signal(s, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            if ctty:
                os.setsid()
            os.dup2(fd0, 0)
            os.dup2(fd1, 1)
            os.dup2(fd2, 2)
            if ctty:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            os.execve(CKVM, [CKVM, "run"] + args, env if env is not None else os.environ)
        finally:
            os._exit(127)
    return pid


def wait_exit(pid, bound):
    """Poll for exit until bound seconds pass: (status, seconds) or (None, bound)."""
    t0 = time.monotonic()
    while True:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return st, time.monotonic() - t0
        if time.monotonic() - t0 > bound:
            return None, bound
        time.sleep(0.02)


def kill_hard(pid):
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def until(cond, bound):
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > bound:
            return False
        time.sleep(0.02)
    return True


def describe(st):
    if st is None:
        return "still running"
    if os.WIFEXITED(st):
        return f"exit status {os.WEXITSTATUS(st)}"
    if os.WIFSIGNALED(st):
        return f"killed by {signal.Signals(os.WTERMSIG(st)).name}"
    return f"wait status {st:#x}"


def errfile(name):
    return os.open(os.path.join(WORK, name + ".err"), os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)


def stderr_of(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 1 << 20).decode(errors="replace")


def sanitizer_report(text):
    for marker in ("WARNING: ThreadSanitizer", "ERROR: AddressSanitizer", "runtime error:"):
        if marker in text:
            return "sanitizer report on stderr: " + text[text.index(marker):][:200].replace("\n", "|")
    return None


def wchar(pid):
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def unread(fd):
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def stalled(pid, reader, quiet_s=0.5):
    """True once output waits in reader (a pipe's read end, a pty master) and ckvm has finished no
    write for quiet_s (a write blocked on the full pipe or terminal does not count until it returns):
    the guest prints all the time, so its output is stuck."""
    last, since = wchar(pid), time.monotonic()
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = wchar(pid)
        if now < 0:
            return False
        if now != last or not unread(reader):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True
    return False


def is_raw(fd):
    return not (termios.tcgetattr(fd)[3] & termios.ICANON)


class Drain(threading.Thread):
    """Reads a pty master so that ckvm's output never stalls."""

    def __init__(self, fd):
        super().__init__(daemon=True)
        self.fd = fd
        self.stop = False
        self.start()

    def run(self):
        while not self.stop:
            try:
                if not os.read(self.fd, 65536):
                    break
            except OSError:
                break


def end_result(name, pid, st, took, err_fd, expect):
    """Common checks after a stop: ended in time, expected status, no sanitizer report."""
    global took_s
    took_s = took
    if st is None:
        kill_hard(pid)
        return f"did not end within {STOP_BOUND:.0f} s"
    got = describe(st)
    if got != expect:
        return f"{got}, expected {expect}"
    return sanitizer_report(stderr_of(err_fd))


# ---- stdout a pipe nobody reads --------------------------------------------------------------

def test_stall_pipe(sig, args=SPEW):
    r, w = os.pipe()
    fcntl.fcntl(w, 1031, 4096)     # F_SETPIPE_SZ
    null = os.open("/dev/null", os.O_RDONLY)
    err = errfile("stall-pipe")
    pid = spawn(args, null, w, err)
    os.close(w)
    why = None
    if not stalled(pid, r):  # the pipe is full (its last page may be partly used: not FIONREAD)
        why = "output never stalled"
        kill_hard(pid)
    else:
        os.kill(pid, sig)
        st, took = wait_exit(pid, STOP_BOUND)
        why = end_result("", pid, st, took, err, "exit status 0")
        text = stderr_of(err)
        if not why and "abandoned" in text:     # a vCPU blocked in a write would be abandoned
            why = text[text.index("abandoned"):].split("\n")[0]
    for fd in (r, null, err):
        os.close(fd)
    return why


# ---- ckvm on a terminal ----------------------------------------------------------------------

def on_pty(args=SPEW, env=None, name="pty"):
    m, s = os.openpty()
    before = termios.tcgetattr(s)
    err = errfile(name)
    pid = spawn(args, s, s, err, ctty=True, env=env)
    return m, s, before, err, pid


def test_stall_pty(key):
    """Nobody reads the terminal; Ctrl-A x (typed) or a signal must still end ckvm."""
    m, s, before, err, pid = on_pty(name="stall-pty")
    why = None
    if not until(lambda: is_raw(s), START_BOUND):
        why = "terminal never went raw"
    elif not stalled(pid, m):
        why = "output never stalled"
    if why:
        kill_hard(pid)
    else:
        if key == "ctrl-a-x":
            os.write(m, b"\x01x")
        else:
            os.kill(pid, key)
        st, took = wait_exit(pid, STOP_BOUND)
        why = end_result("", pid, st, took, err, "exit status 0")
        if not why and termios.tcgetattr(s) != before:
            why = "terminal not restored"
    for fd in (m, s, err):
        os.close(fd)
    return why


def test_signal(sig):
    m, s, before, err, pid = on_pty(name="signal")
    drain = Drain(m)
    why = None
    if not until(lambda: is_raw(s), START_BOUND):
        why = "terminal never went raw"
        kill_hard(pid)
    elif sig in (signal.SIGXFSZ, signal.SIGPIPE, signal.SIGURG):
        os.kill(pid, sig)
        st, _ = wait_exit(pid, 0.5)     # must NOT end: give it the time to do so wrongly
        if st is not None:
            why = f"{describe(st)} on an ignored signal"
        elif not is_raw(s):
            why = "terminal left raw mode"
        else:
            os.write(m, b"\x01x")
            st, took = wait_exit(pid, STOP_BOUND)
            why = end_result("", pid, st, took, err, "exit status 0")
    else:
        os.kill(pid, sig)
        st, took = wait_exit(pid, STOP_BOUND)
        if sig in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):
            expect = "exit status 0"
        else:
            expect = f"killed by {signal.Signals(sig).name}"
        why = end_result("", pid, st, took, err, expect)
    if not why and termios.tcgetattr(s) != before:
        why = "terminal not restored"
    drain.stop = True
    for fd in (s, err):
        os.close(fd)
    os.close(m)
    return why


# ---- job control: ckvm as a job of a small "shell" in its own session ------------------------

def jobctl_shell(result_w):
    """Runs in a forked session leader that owns a new terminal, like a shell with one job."""
    os.setsid()
    m, s = os.openpty()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    signal.signal(signal.SIGTTOU, signal.SIG_IGN)   # a shell may take the terminal back
    before = termios.tcgetattr(s)
    err = errfile("jobctl")
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGTTOU, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            for fd, to in ((s, 0), (s, 1), (err, 2)):
                os.dup2(fd, to)
            os.execv(CKVM, [CKVM, "run"] + SPEW)
        finally:
            os._exit(127)
    os.setpgid(pid, pid)
    os.tcsetpgrp(s, pid)                            # the job runs in the foreground
    drain = Drain(m)
    cooked = lambda: termios.tcgetattr(s) == before

    def stopped_by(sig):
        t0 = time.monotonic()
        while time.monotonic() - t0 < STOP_BOUND:
            p, st = os.waitpid(pid, os.WNOHANG | os.WUNTRACED)
            if p == pid:
                return os.WIFSTOPPED(st) and os.WSTOPSIG(st) == sig
            time.sleep(0.02)
        return False

    def step():
        if not until(lambda: is_raw(s), START_BOUND):
            return "terminal never went raw"
        for sig in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
            os.kill(pid, sig)
            if not stopped_by(sig):
                return f"{signal.Signals(sig).name} did not stop ckvm"
            if not cooked():
                return f"terminal still raw while stopped by {signal.Signals(sig).name}"
            os.kill(pid, signal.SIGCONT)            # `fg`: still the foreground job
            if not until(lambda: is_raw(s), STOP_BOUND):
                return f"SIGCONT after {signal.Signals(sig).name} did not re-enter raw mode"
        os.kill(pid, signal.SIGTSTP)
        if not stopped_by(signal.SIGTSTP):
            return "SIGTSTP did not stop ckvm"
        os.tcsetpgrp(s, os.getpgrp())               # `bg`: the shell keeps the terminal
        os.kill(pid, signal.SIGCONT)
        p, st = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return f"{describe(st)} after bg"
        time.sleep(0.5)                             # must NOT go raw: give it time to do so wrongly
        if not cooked():
            return "continued in the background, ckvm took the terminal raw"
        os.tcsetpgrp(s, pid)                        # `fg`
        os.kill(pid, signal.SIGCONT)
        if not until(lambda: is_raw(s), STOP_BOUND):
            return "fg after bg did not re-enter raw mode"
        os.write(m, b"\x01x")
        st, took = wait_exit(pid, STOP_BOUND)
        why = end_result("", pid, st, took, err, "exit status 0")
        if not why and not cooked():
            why = "terminal not restored at exit"
        return why

    try:
        why = step()
    except Exception as e:          # report, never hang the parent
        why = f"exception {e!r}"
    kill_hard(pid)
    drain.stop = True
    os.write(result_w, (why or "").encode())
    os._exit(0)


def test_jobctl():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            jobctl_shell(w)
        finally:
            os._exit(1)
    os.close(w)
    st, _ = wait_exit(pid, 4 * START_BOUND)
    if st is None:
        kill_hard(pid)
        os.close(r)
        return "job-control shell hung"
    why = os.read(r, 4096).decode()
    os.close(r)
    return why or None


# ---- exit statuses and a hung disk -----------------------------------------------------------

def run_status(args, env=None, pre=None):
    null = os.open("/dev/null", os.O_RDWR)
    err = errfile("status")
    argv = (pre or []) + [CKVM, "run"] + args
    pid = os.fork()
    if pid == 0:
        try:
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            for to in (0, 1):
                os.dup2(null, to)
            os.dup2(err, 2)
            os.execvpe(argv[0], argv, env if env is not None else os.environ)
        finally:
            os._exit(127)
    st, _ = wait_exit(pid, 4 * START_BOUND)
    if st is None:
        kill_hard(pid)
    text = stderr_of(err)
    os.close(null)
    os.close(err)
    return st, text


def test_exit_status():
    g = lambda n: os.path.join(GDIR, n)
    cases = [
        ("guest halts", ["--kernel", g("hello.bin"), "--kernel-format", "raw", "--load-addr", "0x1000",
                         "--entry", "0x1000", "--serial", "none"], None, 0),
        ("unknown flag", ["--no-such-flag"], None, 1),
        ("missing kernel", ["--kernel", os.path.join(WORK, "missing")], None, 1),
        ("triple fault", ["--kernel", g("triplefault.elf"), "--serial", "none"], None, 3),
        ("test-exit 0x2a", ["--kernel", g("exitcode.elf"), "--test-exit"], None, 85),
    ]
    for what, args, pre, want in cases:
        st, text = run_status(args, pre=pre)
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != want:
            return f"{what}: {describe(st)}, expected exit status {want}"
        bad = sanitizer_report(text)
        if bad:
            return f"{what}: {bad}"
    # host error: no usable /dev/kvm (a private mount namespace with /dev/null over it)
    if os.path.exists("/usr/bin/unshare") and os.geteuid() == 0:
        st, text = run_status(["--kernel", g("exitcode.elf")], pre=[
            "unshare", "-m", "sh", "-c", 'mount --bind /dev/null /dev/kvm && exec "$0" "$@"'])
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 2:
            return f"no KVM: {describe(st)}, expected exit status 2 ({text.strip()[:100]})"
    return None


def test_hung_disk(guest):
    """blkread: the read hangs in the back-end; blkreset: a vCPU also waits in the device reset."""
    disk = os.path.join(WORK, "disk.hang")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    out = os.path.join(WORK, guest + ".serial")
    if os.path.exists(out):
        os.unlink(out)
    env = dict(os.environ, LD_PRELOAD=HANG_SO, CKVM_HANG_INO=str(os.stat(disk).st_ino),
               # an ASan build would refuse a preload before it
               ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    null = os.open("/dev/null", os.O_RDWR)
    err = errfile("hung-disk")
    pid = spawn(["--kernel", os.path.join(GDIR, guest + ".elf"), "--test-exit",
                 "--disk", f"path={disk}", "--serial", f"file={out}"], null, null, err, env=env)

    def submitted():
        try:
            with open(out) as f:
                return "read submitted" in f.read()
        except OSError:
            return False
    why = None
    if not until(submitted, START_BOUND):
        why = "the guest never submitted its read"
        kill_hard(pid)
    else:
        os.kill(pid, signal.SIGTERM)
        st, took = wait_exit(pid, STOP_BOUND)
        why = end_result("", pid, st, took, err, "exit status 0")
        text = stderr_of(err)
        if not why and "abandoned 1 in-flight disk request on " + disk not in text:
            why = "no line saying what was abandoned: " + text.strip().replace("\n", "|")[:200]
    os.close(null)
    os.close(err)
    return why


# ---- the seccomp sandbox ---------------------------------------------------------------------

SECCOMP_ROLES = ["main", "vcpu", "io", "vblk", "serial-out", "api"]
TRIGGER_CALL = "getsid (124)"      # the one forbidden call of --seccomp-test-trigger


def sandbox_args(role, guest_args):
    """A disk for the vblk worker, an API socket for the api thread, whatever the role."""
    disk = os.path.join(WORK, "sandbox.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    sock = os.path.join(WORK, f"api-{role}.sock")
    return guest_args + ["--disk", f"path={disk}", "--api-sock", sock, "--seccomp-test-trigger", role]


def test_seccomp_kill(role):
    m, s, before, err, pid = on_pty(sandbox_args(role, SPEW), name="seccomp")
    drain = Drain(m)
    st, took = wait_exit(pid, START_BOUND)
    why = end_result("", pid, st, took, err, "exit status 4")
    text = stderr_of(err)
    lines = [ln for ln in text.splitlines() if "forbidden system call" in ln]
    want = f"ckvm: sandbox: the {role} thread made a forbidden system call: {TRIGGER_CALL}"
    if not why and (len(lines) != 1 or not lines[0].startswith(want)):
        why = f"expected one line '{want}', stderr: " + text.strip().replace("\n", "|")[:300]
    if not why and termios.tcgetattr(s) != before:
        why = "terminal not restored"
    drain.stop = True
    for fd in (s, err, m):
        os.close(fd)
    return why


def test_seccomp_lenient(mode):
    """log: the kernel logs the call and lets it through; off: no filter. ckvm runs on to the
    guest's test-exit (0x2a -> 85) whichever thread made the call."""
    for role in SECCOMP_ROLES:
        args = sandbox_args(role, ["--kernel", os.path.join(GDIR, "exitcode.elf"), "--test-exit",
                                   "--serial", "none", "--seccomp", mode])
        st, text = run_status(args)
        if st is None or not os.WIFEXITED(st) or os.WEXITSTATUS(st) != 85:
            return f"{role}: {describe(st)}, expected exit status 85: " + text.strip()[:200]
        if "forbidden" in text or sanitizer_report(text):
            return f"{role}: " + (sanitizer_report(text) or text.strip()[:200])
    return None


def main():
    tests = []
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        tests.append((f"stall-pipe-{s.name}", lambda s=s: test_stall_pipe(s), None))
    tests.append(("stall-debugcon", lambda: test_stall_pipe(signal.SIGTERM, SPEW + [
        "--serial", "none", "--debug-console", "stdio"]), None))
    for k in ("ctrl-a-x", signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        n = k if isinstance(k, str) else k.name
        tests.append((f"stall-pty-{n}", lambda k=k: test_stall_pty(k), None))
    sigs = [signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2,
            signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU, signal.SIGIO,
            signal.SIGPWR, signal.SIGSTKFLT, signal.SIGRTMIN, signal.SIGRTMAX, signal.SIGQUIT,
            signal.SIGTRAP, signal.SIGSYS, signal.SIGABRT, signal.SIGSEGV, signal.SIGBUS,
            signal.SIGILL, signal.SIGFPE, signal.SIGXFSZ, signal.SIGPIPE, signal.SIGURG]
    for s in sigs:
        skip = "ThreadSanitizer build" if TSAN and s in TSAN_SYNC else None
        tests.append((f"signal-{s.name}", lambda s=s: test_signal(s), skip))
    tests.append(("jobctl", test_jobctl, None))
    tests.append(("exit-status", test_exit_status, None))
    tests.append(("hung-disk-read", lambda: test_hung_disk("blkread"), None))
    tests.append(("hung-disk-reset", lambda: test_hung_disk("blkreset"), None))
    for r in SECCOMP_ROLES:
        tests.append((f"seccomp-{r}", lambda r=r: test_seccomp_kill(r), None))
    for mode in ("log", "off"):
        tests.append((f"seccomp-{mode}", lambda mode=mode: test_seccomp_lenient(mode), None))
    for name, fn, skip in tests:
        if ONLY and not any(name == o or name.startswith(o + "-") for o in ONLY):
            continue
        if skip:
            print(f"SKIP {name} ({skip})", flush=True)
            continue
        try:
            why = fn()
        except Exception as e:
            why = f"exception {e!r}"
        report(name, why)
    print(f"{passed} passed, {failed} failed", flush=True)
    shutil.rmtree(WORK, ignore_errors=True)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
