//go:build !linux

package main

import (
	"errors"
	"net"
)

// udpSegment is Linux's UDP segmentation offload, which other systems lack.
func udpSegment(c *net.UDPConn, size int) error {
	return errors.New("UDP segmentation offload is Linux only")
}
