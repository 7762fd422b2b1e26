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
