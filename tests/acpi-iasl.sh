#!/bin/sh
# Cross-check ckvm's generated ACPI tables with ACPICA's iasl: test_acpi dumps the tables of a 4-vCPU
# machine (ACPI_DUMP_DIR), iasl disassembles DSDT, FADT, MADT and FACS, and the DSDT's disassembly is
# compiled again. Any iasl error fails. Usage: tests/acpi-iasl.sh [BUILD_DIR]  (default: build)
O=${1:-build}
prog=${TEST_ACPI:-$O/tests/unit/test_acpi}
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "$2" ] && sed 's/^/    /' "$2" | grep -iE 'error|warning' | head -20; }

command -v iasl >/dev/null 2>&1 || { echo "iasl not found (apt-get install acpica-tools)"; echo "0 passed, 1 failed"; exit 1; }
if [ -z "$TEST_ACPI" ]; then
	make -s O="$O" "$prog" >/dev/null || { echo "build of $prog failed"; echo "0 passed, 1 failed"; exit 1; }
fi
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

if ACPI_DUMP_DIR="$dir" "$prog" >"$dir/unit.log" 2>&1; then ok "dump tables"; else bad "dump tables" "$dir/unit.log"; fi
for t in dsdt facp apic facs; do
	if [ ! -s "$dir/$t.dat" ]; then bad "$t: not dumped"; continue; fi
	(cd "$dir" && iasl -d "$t.dat") >"$dir/$t.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || grep -qiE '(^|[^a-z])error' "$dir/$t.log" || [ ! -s "$dir/$t.dsl" ]; then
		bad "iasl -d $t" "$dir/$t.log"
	else
		ok "iasl -d $t"
	fi
done
# FADT/MADT: the disassembler flags bad checksums and lengths in its listing.
for t in facp apic; do
	if [ -s "$dir/$t.dsl" ] && ! grep -qiE 'incorrect checksum|invalid|error' "$dir/$t.dsl"; then
		ok "$t listing clean"
	else
		bad "$t listing clean" "$dir/$t.dsl"
	fi
done
# The DSDT must survive a round trip through the ASL compiler without errors.
if [ -s "$dir/dsdt.dsl" ]; then
	(cd "$dir" && iasl -p "$dir/re" dsdt.dsl) >"$dir/re.log" 2>&1
	if [ $? -eq 0 ] && grep -q ' 0 Errors' "$dir/re.log"; then
		ok "iasl recompiles dsdt.dsl ($(grep -oE '[0-9]+ Warnings' "$dir/re.log"))"
	else
		bad "iasl recompiles dsdt.dsl" "$dir/re.log"
	fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
