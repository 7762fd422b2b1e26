package main

import (
	"io"
	"strings"
	"testing"
)

func TestSpeedMustBeAPositiveNumber(t *testing.T) {
	for _, bad := range []string{"0", "-2", "NaN", "nan", "Inf", "+Inf", "-Inf", "fast"} {
		if _, err := parseServe([]string{"--speed", bad}, io.Discard); err == nil || !strings.Contains(err.Error(), "--speed") {
			t.Errorf("--speed %s: err = %v, want one about --speed", bad, err)
		}
	}
	c, err := parseServe([]string{"--speed", "2.5"}, io.Discard)
	if err != nil || c.speed != 2.5 {
		t.Fatalf("--speed 2.5: speed %v, err %v", c.speed, err)
	}
}

func TestServeMemoryLimitFlag(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want int64
		bad  bool
	}{
		{arg: "", want: 0},
		{arg: "off", bad: true},
		{arg: "1048576", want: 1 << 20},
		{arg: "4096B", want: 4096},
		{arg: "64KiB", want: 64 << 10},
		{arg: "300MiB", want: 300 << 20},
		{arg: "2GiB", want: 2 << 30},
		{arg: "1TiB", want: 1 << 40},
		{arg: "2GB", bad: true},
		{arg: "2 GiB", bad: true},
		{arg: "MiB", bad: true},
		{arg: "0", bad: true},
		{arg: "-1MiB", bad: true},
		{arg: "9999999TiB", bad: true},
	} {
		c, err := parseServe([]string{"--memory-limit", tc.arg}, io.Discard)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "--memory-limit") {
				t.Errorf("--memory-limit %q: %d, %v, want a refusal naming the flag", tc.arg, c.memoryLimit, err)
			}
			continue
		}
		if err != nil || c.memoryLimit != tc.want {
			t.Errorf("--memory-limit %q: %d, %v, want %d", tc.arg, c.memoryLimit, err, tc.want)
		}
	}
	t.Setenv("AZEMU_MEMORY_LIMIT", "1GiB")
	if c, err := parseServe(nil, io.Discard); err != nil || c.memoryLimit != 1<<30 {
		t.Errorf("AZEMU_MEMORY_LIMIT=1GiB: %d, %v", c.memoryLimit, err)
	}
}
