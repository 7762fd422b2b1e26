package engine

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armid"
)

// familyKey reads a size family as a quota names it (DSv3,
// standardDSv3Family, dsv3): the series and feature letters, then the
// version.
var familyKey = regexp.MustCompile(`^(?i)(?:standard)?([a-z]+?)(v\d+)?(?:family)?$`)

// NewCapacity reads cores per region and size family as a user writes them:
// regions as ARM does (westus; "West US" works too), families as quotas
// name them (DSv3, standardDSv3Family, dsv3: Standard_D2s_v3 is 2 cores of
// DSv3, see SizeFamily).
func NewCapacity(raw map[string]map[string]int) (Capacity, error) {
	c := Capacity{}
	for region, families := range raw {
		key := armid.Location(strings.TrimSpace(region))
		if key == "" {
			return nil, fmt.Errorf("a region has an empty name")
		}
		if c[key] == nil {
			c[key] = map[string]int{}
		}
		for family, cores := range families {
			m := familyKey.FindStringSubmatch(strings.TrimSpace(family))
			if m == nil {
				return nil, fmt.Errorf("%q in %s is not a size family such as DSv3", family, region)
			}
			if cores < 0 {
				return nil, fmt.Errorf("%s %s: cores must not be negative", region, family)
			}
			c[key][strings.ToUpper(m[1])+strings.ToLower(m[2])] = cores
		}
	}
	return c, nil
}

// setCapacity replaces the cores each region offers per size family (nil:
// unlimited). It applies to operations submitted from now on: a plan
// already running keeps the allocation decided when it was submitted.
// Capacity is configuration, not state, so the store does not keep it.
func (e *Engine) setCapacity(c Capacity) {
	e.writeMu.Lock()
	e.cfg.Capacity = c
	e.writeMu.Unlock()
}

// NextDue is when the earliest running plan next takes a step; ok is false
// when no plan is running. A manual clock advanced to it fires that step.
func (e *Engine) NextDue() (at time.Time, ok bool) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	return e.due.peek()
}
