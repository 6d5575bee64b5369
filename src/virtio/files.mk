SRCS +=
SRCS += src/virtio/virtq.c src/virtio/virtio_blk.c
SRCS += src/virtio/virtio_pci.c src/virtio/virtio_net.c
SRCS += src/virtio/virtio_rng.c src/virtio/virtio_vsock.c src/virtio/vsock_pkt.c src/virtio/vsock_host.c
SRCS += src/virtio/virtio_balloon.c
