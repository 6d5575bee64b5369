# kimage (no boot): the default guest's bzImage, inflated on the host, holds the build's vmlinux
# segments byte for byte; loaded with nokaslr it sits at 16 MiB unchanged, with KASLR undoing the
# relocations gives vmlinux back (tests/unit/test_kimage.c, built next to ckvm).
BIN=$(dirname "$CKVM")/tests/unit/test_kimage
OUT=$WORK/$T.out
if [ ! -x "$BIN" ]; then
	bad "$BIN not built (make $(basename "$(dirname "$CKVM")")/tests/unit/test_kimage)"
elif CKVM_CACHE=$CACHE "$BIN" > "$OUT" 2>&1; then
	ok "$(sed -n 's/^ *real bzImage: //p' "$OUT"); $(tail -n 1 "$OUT")"
	grep -E '^  ' "$OUT"
else
	bad "$(grep -E 'FAIL' "$OUT" | head -n 3 | tr '\n' ' ')"
fi
