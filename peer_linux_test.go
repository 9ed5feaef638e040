package main

import (
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/transport/v5/stdnet"
)

// TestUDPSocketBuffers: the sockets ICE opens get the bigger buffers newAPI
// asks for (as far as net.core.rmem_max and wmem_max allow), without which a
// bulk transfer drops packets at the receiver and runs at half speed.
func TestUDPSocketBuffers(t *testing.T) {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	bn := bufferedNet{Net: n, size: udpSocketBuffer}
	uc, err := bn.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	pc, err := bn.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, c := range []any{uc, pc} {
		for _, o := range []struct {
			opt   int
			limit string
		}{{syscall.SO_RCVBUF, "rmem_max"}, {syscall.SO_SNDBUF, "wmem_max"}} {
			// Linux doubles the size asked for (bookkeeping) and caps the
			// request at the sysctl limit.
			want := 2 * min(udpSocketBuffer, sysctlInt(t, "/proc/sys/net/core/"+o.limit))
			if got := sockoptInt(t, c, o.opt); got < want {
				t.Errorf("%T: socket option %d is %d, want at least %d", c, o.opt, got, want)
			}
		}
	}
}

// TestBufferedNetSeesNewInterfaces: the network newAPI builds once per run
// lists interfaces as they are when asked, not as they were at start-up.
func TestBufferedNetSeesNewInterfaces(t *testing.T) {
	gopeerBin(t) // a private network namespace, where adding an address is harmless
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	bn := bufferedNet{Net: n, size: udpSocketBuffer}
	const addr = "127.0.0.77"
	if out, err := exec.Command("ip", "addr", "add", addr+"/8", "dev", "lo").CombinedOutput(); err != nil {
		t.Skipf("cannot add an address to lo: %v: %s", err, out)
	}
	defer exec.Command("ip", "addr", "del", addr+"/8", "dev", "lo").Run()
	ifs, err := bn.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if strings.HasPrefix(a.String(), addr+"/") {
				return
			}
		}
	}
	t.Errorf("interfaces do not show %s, added after the network was made", addr)
}

func sysctlInt(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sockoptInt(t *testing.T, c any, opt int) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no file descriptor", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := raw.Control(func(fd uintptr) { v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, opt) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return v
}

func TestPingInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"":      0, // the dialect's: pypeer's 15 s
		"100ms": 100 * time.Millisecond,
		"1ms":   0, // too fast to be meant
		"-1s":   0,
		"soon":  0,
	} {
		if got := pingIntervalFrom(in); got != want {
			t.Errorf("pingIntervalFrom(%q) = %v, want %v", in, got, want)
		}
	}
}
