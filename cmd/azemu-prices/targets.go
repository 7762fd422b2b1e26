package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The regions the embedded sheet covers: the largest Azure regions by
// deployed capacity, as a first-time fleet is likely to use them.
var sheetRegions = []string{
	"eastus", "eastus2", "westus", "westus2", "centralus", "southcentralus",
	"northeurope", "westeurope", "uksouth", "southeastasia",
}

// vmFamilies are the common general-purpose (B, D), memory-optimised (E)
// and compute-optimised (F) sizes, as armSkuName patterns with # for the
// vCPU count.
var vmFamilies = []string{
	"Standard_D#_v3", "Standard_D#s_v3",
	"Standard_D#_v4", "Standard_D#s_v4", "Standard_D#d_v4", "Standard_D#ds_v4",
	"Standard_D#_v5", "Standard_D#s_v5", "Standard_D#d_v5", "Standard_D#ds_v5", "Standard_D#as_v5", "Standard_D#ads_v5",
	"Standard_E#_v3", "Standard_E#s_v3",
	"Standard_E#_v4", "Standard_E#s_v4", "Standard_E#d_v4", "Standard_E#ds_v4",
	"Standard_E#_v5", "Standard_E#s_v5", "Standard_E#d_v5", "Standard_E#ds_v5", "Standard_E#as_v5", "Standard_E#ads_v5",
	"Standard_F#s_v2",
}

// vmCPUs are the vCPU counts of the common sizes of each family.
var vmCPUs = []string{"2", "4", "8", "16"}

// burstableSizes are the B-series sizes a first fleet uses.
var burstableSizes = []string{"Standard_B1s", "Standard_B1ms", "Standard_B2s", "Standard_B2ms", "Standard_B4ms", "Standard_B8ms"}

// vmSizes lists every size the sheet means to price, in a stable order.
func vmSizes() []string {
	out := append([]string(nil), burstableSizes...)
	for _, f := range vmFamilies {
		for _, n := range vmCPUs {
			out = append(out, strings.Replace(f, "#", n, 1))
		}
	}
	return out
}

var sizeNumber = regexp.MustCompile(`^(Standard_[A-Z]+)[0-9]+`)

// familyOf gives a size's family pattern: Standard_D2s_v5 is Standard_D#s_v5.
func familyOf(size string) string { return sizeNumber.ReplaceAllString(size, "$1#") }

// diskTiers are the tiers of the managed disk types azemu rates.
var diskTiers = func() []string {
	var out []string
	for _, letter := range []string{"P", "E"} {
		for _, n := range []string{"1", "2", "3", "4", "6", "10", "15", "20", "30", "40", "50", "60", "70", "80"} {
			out = append(out, letter+n)
		}
	}
	for _, n := range []string{"4", "6", "10", "15", "20", "30", "40", "50", "60", "70", "80"} {
		out = append(out, "S"+n)
	}
	return out
}()

// publicIPMeters are the public IP meters azemu rates.
var publicIPMeters = []string{
	"Standard IPv4 Static Public IP", "Basic IPv4 Static Public IP", "Basic IPv4 Dynamic Public IP", "Global IPv4 Static Public IP",
}

// target is one price the sheet means to have.
type target struct {
	category string // for the report: "Linux", "Windows", "Linux Spot", "Windows Spot", "disk", "public IP"
	region   string
	name     string // size, tier or meter name
	key      string // as billing.RowKey writes it
}

// targets lists every price the sheet means to have, in report order.
func targets() []target {
	var out []target
	for _, c := range []struct{ category, os, prio string }{
		{"Linux", "linux", ""}, {"Windows", "windows", ""}, {"Linux Spot", "linux", "spot"}, {"Windows Spot", "windows", "spot"},
	} {
		for _, r := range sheetRegions {
			for _, s := range vmSizes() {
				if c.prio == "spot" && slices.Contains(burstableSizes, s) {
					// Azure sells no B-series Spot VM, and publishes no
					// Spot meter for one.
					continue
				}
				out = append(out, target{c.category, r, s, strings.Join([]string{"h", r, strings.ToLower(s), c.os, c.prio}, "|")})
			}
		}
	}
	for _, r := range sheetRegions {
		for _, t := range diskTiers {
			out = append(out, target{"disk", r, t, strings.Join([]string{"m", r, strings.ToLower(t), "", ""}, "|")})
		}
	}
	for _, r := range sheetRegions {
		for _, m := range publicIPMeters {
			out = append(out, target{"public IP", r, m, strings.Join([]string{"ip", r, strings.ToLower(m), "", ""}, "|")})
		}
	}
	return out
}

// targetKeys indexes targets by key.
func targetKeys() map[string]target {
	m := map[string]target{}
	for _, t := range targets() {
		if _, dup := m[t.key]; dup {
			panic(fmt.Sprintf("target %s twice", t.key))
		}
		m[t.key] = t
	}
	return m
}
