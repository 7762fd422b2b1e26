package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/azemu/azemu/internal/armapi"
	"github.com/azemu/azemu/internal/engine"
)

// loadFaults reads a --faults file: a JSON array of faults, each as
// POST /_azemu/faults takes it.
func loadFaults(path string) ([]engine.Fault, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--faults: %w", err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("--faults %s: want a JSON array of faults: %w", path, err)
	}
	faults := make([]engine.Fault, 0, len(raw))
	for i, r := range raw {
		f, err := armapi.DecodeFault(r)
		if err != nil {
			return nil, fmt.Errorf("--faults %s: fault %d: %w", path, i, err)
		}
		faults = append(faults, f)
	}
	return faults, nil
}

// loadCapacity reads a --capacity file: {"region": {"family": cores}},
// e.g. {"westus": {"DSv3": 4}}. Regions are written as ARM does
// (westus; "West US" works too) and families as engine.SizeFamily names
// them (Standard_D2s_v3 is 2 cores of DSv3).
func loadCapacity(path string) (engine.Capacity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--capacity: %w", err)
	}
	var raw map[string]map[string]int
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("--capacity %s: want {\"region\": {\"family\": cores}}: %w", path, err)
	}
	c, err := engine.NewCapacity(raw)
	if err != nil {
		return nil, fmt.Errorf("--capacity %s: %w", path, err)
	}
	return c, nil
}
