# Host-side kernel decompression. Each library whose header the compiler finds is linked in and its
# format enabled (HAVE_<LIB>); scripts/deps.sh installs all of them. A format whose library is missing
# makes the kernel loader fall back to the guest's own decompressor, with one line saying which.
SRCS += src/boot/decompress.c

decomp_hash := \#
decomp_has = $(shell printf '$(decomp_hash)include <$(1)>\n' | $(CC) -E -x c - >/dev/null 2>&1 && echo y)
DECOMP_LIBS := $(if $(call decomp_has,zlib.h),-DHAVE_ZLIB:-lz) \
	       $(if $(call decomp_has,bzlib.h),-DHAVE_BZIP2:-lbz2) \
	       $(if $(call decomp_has,lzma.h),-DHAVE_LZMA:-llzma) \
	       $(if $(call decomp_has,lzo/lzo1x.h),-DHAVE_LZO:-llzo2) \
	       $(if $(call decomp_has,lz4.h),-DHAVE_LZ4:-llz4) \
	       $(if $(call decomp_has,zstd.h),-DHAVE_ZSTD:-lzstd)
DECOMP_DEFS := $(foreach l,$(DECOMP_LIBS),$(word 1,$(subst :, ,$(l))))
CPPFLAGS += $(DECOMP_DEFS)
LDLIBS   += $(foreach l,$(DECOMP_LIBS),$(word 2,$(subst :, ,$(l))))
