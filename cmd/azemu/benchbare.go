package main

// azemu bench-bare: the bare HTTPS server in a process of its own, which
// azemu bench starts when it measures a target in another process, so that
// both servers it compares pay for a process of their own (its scheduler,
// its network poller) and neither shares one with the clients.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// benchBareCommand is the hidden subcommand; it is not in the usage, as
// only azemu bench runs it.
const benchBareCommand = "bench-bare"

// benchBare serves the bare server on loopback, writes its URL as one
// line to stdout, and serves until stdin ends (the bench closes it, or
// exits).
func benchBare(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, str := newFlags(benchBareCommand, stderr)
	cert, key, vms := "", "", ""
	str(&cert, "cert", "", "the server's certificate (PEM)")
	str(&key, "key", "", "its key (PEM)")
	str(&vms, "vms", "1", "map entries, one per VM")
	if err := parseFlagsOnly(fs, args, stderr, "Usage: azemu bench-bare --cert FILE --key FILE --vms N (run by azemu bench)\n\n"); err != nil {
		return helpOK(err)
	}
	n, err := positiveInt("vms", vms)
	if err != nil {
		return err
	}
	url, stop, err := startBare(cert, key, n)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(stdout, url)
	_, _ = io.Copy(io.Discard, stdin)
	return nil
}

// bareProcess is a bare server in a child process.
type bareProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startBareProcess starts command (this executable and benchBareCommand)
// with the bare server's flags and waits for its URL.
func startBareProcess(command []string, certFile, keyFile string, vms int) (string, *bareProcess, error) {
	cmd := exec.Command(command[0], append(command[1:], "-cert", certFile, "-key", keyFile, "-vms", strconv.Itoa(vms))...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	p := &bareProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "https://127.0.0.1:") {
		p.stop()
		return "", nil, fmt.Errorf("the bare server's process did not start: %q %v", line, err)
	}
	return strings.TrimSpace(line), p, nil
}

// stop ends the child: its stdin closed, then killed if it has not gone
// within a few seconds.
func (p *bareProcess) stop() {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// cpu is the child's CPU time so far (Linux), 0 when unknown.
func (p *bareProcess) cpu() time.Duration {
	d, _ := processCPUOf(p.cmd.Process.Pid)
	return d
}

// processCPUOf is the user and system CPU time of process pid, from
// /proc/PID/stat (in clock ticks of 1/100 s, as Linux reports them to
// every process).
func processCPUOf(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing one.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, errors.New("no command name in /proc/PID/stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("/proc/PID/stat is short")
	}
	// utime and stime are the 14th and 15th fields, the 12th and 13th
	// after the name.
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("/proc/PID/stat: utime or stime is not a number")
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
