# Stop tests (tests/stop/run.py, python3): stalled serial output, every catchable signal, job control,
# Ctrl-A x, the README's exit statuses, a hung disk (hang.so, an LD_PRELOAD shim that never answers
# disk I/O on the file whose inode the test names). Each stop must end ckvm within 5 s with the
# terminal restored.
STOP_DIR := $(O)/tests/stop

$(STOP_DIR)/hang.so: tests/stop/hang.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -O2 $(WARN) -shared -fPIC -o $@ $< -ldl

check-stop: guests $(O)/ckvm $(STOP_DIR)/hang.so
	tests/run-tier.sh stop "tests/stop/run.py $(O)/ckvm $(GUEST_DIR) $(STOP_DIR)/hang.so"

.PHONY: check-stop
