package main

import (
	"net"
	"syscall"
)

// udpSegmentOpt is UDP_SEGMENT from linux/udp.h (Linux 4.18 and later).
const udpSegmentOpt = 103

// udpSegment asks the kernel to cut every write on c into datagrams of size
// bytes (UDP generic segmentation offload), so that one system call carries
// many datagrams.
func udpSegment(c *net.UDPConn, size int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_UDP, udpSegmentOpt, size)
	}); err != nil {
		return err
	}
	return serr
}
