package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

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

// familyKey reads a size family as a quota names it (DSv3,
// standardDSv3Family, dsv3): the series and feature letters, then the
// version.
var familyKey = regexp.MustCompile(`^(?i)(?:standard)?([a-z]+?)(v\d+)?(?:family)?$`)

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
	return parseCapacity(raw)
}

func parseCapacity(raw map[string]map[string]int) (engine.Capacity, error) {
	c := engine.Capacity{}
	for region, families := range raw {
		key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(region), " ", ""))
		if key == "" {
			return nil, fmt.Errorf("--capacity: a region has an empty name")
		}
		if c[key] == nil {
			c[key] = map[string]int{}
		}
		for family, cores := range families {
			m := familyKey.FindStringSubmatch(strings.TrimSpace(family))
			if m == nil {
				return nil, fmt.Errorf("--capacity: %q in %s is not a size family such as DSv3", family, region)
			}
			if cores < 0 {
				return nil, fmt.Errorf("--capacity: %s %s: cores must not be negative", region, family)
			}
			c[key][strings.ToUpper(m[1])+strings.ToLower(m[2])] = cores
		}
	}
	return c, nil
}
