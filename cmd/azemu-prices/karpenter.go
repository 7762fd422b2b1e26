package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Azure's Karpenter provider (github.com/Azure/karpenter-provider-azure)
// keeps a table of every VM size's Linux pay-as-you-go price per region,
// generated from the Retail Prices API (pkg/providers/pricing/
// zz_generated.pricing.go, "// generated at <time>"). Its generator keeps,
// for each armSkuName, the retailPrice of any Consumption row that is not
// Windows, Spot or Low Priority. Where a size has two such rows (its
// "Cloud Services" row carries the Windows rate), the table holds one of
// them at random, so a family whose figures flip back and forth between
// generations is ambiguous and is left out whole.

// table is one generation of the Karpenter price table.
type table struct {
	generatedAt string                       // from the "// generated at" line
	prices      map[string]map[string]string // region -> armSkuName -> price as written
}

var (
	generatedAtLine = regexp.MustCompile(`^// generated at (\S+)`)
	regionLine      = regexp.MustCompile(`^\s*initialOnDemandPrices\["([a-z0-9]+)"\]\s*=`)
	priceLine       = regexp.MustCompile(`^\s*"([^"]+)":\s*([0-9]+(\.[0-9]+)?),`)
)

// parseTable reads one generation of the table.
func parseTable(r io.Reader) (table, error) {
	t := table{prices: map[string]map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	region := ""
	for sc.Scan() {
		line := sc.Text()
		if m := generatedAtLine.FindStringSubmatch(line); m != nil {
			t.generatedAt = m[1]
			continue
		}
		if m := regionLine.FindStringSubmatch(line); m != nil {
			region = m[1]
			t.prices[region] = map[string]string{}
			continue
		}
		if m := priceLine.FindStringSubmatch(line); m != nil && region != "" {
			t.prices[region][m[1]] = m[2]
		}
	}
	if err := sc.Err(); err != nil {
		return table{}, err
	}
	if t.generatedAt == "" || len(t.prices) == 0 {
		return table{}, fmt.Errorf("not a Karpenter price table: no %q line or no regions", "// generated at")
	}
	return t, nil
}

// trimPrice writes a table figure as the decimal it is: "0.096000" is 0.096.
func trimPrice(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// ambiguousFamilies gives the families (see familyOf) some size of which, in
// some region, goes back to a figure it had before a different one, over
// the generations in order: the mark of two rows picked at random. A
// figure that changes once and stays is a price change, not ambiguity.
func ambiguousFamilies(gens []table) map[string]bool {
	out := map[string]bool{}
	type rs struct{ region, size string }
	history := map[rs][]string{}
	for _, g := range gens {
		for region, sizes := range g.prices {
			for size, price := range sizes {
				k := rs{region, size}
				h := history[k]
				if len(h) == 0 || h[len(h)-1] != price {
					if slices.Contains(h, price) {
						out[familyOf(size)] = true
					}
					history[k] = append(h, price)
				}
			}
		}
	}
	return out
}

// karpenterPage is what import-karpenter writes: a Retail Prices page of the
// newest generation's figures for the sheet's regions and sizes, less the
// ambiguous families, with the generations it read.
type karpenterPage struct {
	Generations []string          `json:"x_generations"`
	Ambiguous   []string          `json:"x_ambiguousFamilies"`
	Items       []json.RawMessage `json:"Items"`
}

// importKarpenter builds the page from generations in order, oldest first.
func importKarpenter(gens []table) ([]byte, error) {
	if len(gens) == 0 {
		return nil, fmt.Errorf("no generations")
	}
	for i := 1; i < len(gens); i++ {
		if gens[i].generatedAt < gens[i-1].generatedAt {
			return nil, fmt.Errorf("generations out of order: %s after %s", gens[i].generatedAt, gens[i-1].generatedAt)
		}
	}
	amb := ambiguousFamilies(gens)
	newest := gens[len(gens)-1]
	page := karpenterPage{Items: []json.RawMessage{}}
	for _, g := range gens {
		page.Generations = append(page.Generations, g.generatedAt)
	}
	for f := range amb {
		page.Ambiguous = append(page.Ambiguous, f)
	}
	slices.Sort(page.Ambiguous)
	for _, region := range sheetRegions {
		for _, size := range vmSizes() {
			price, ok := newest.prices[region][size]
			if !ok || amb[familyOf(size)] {
				continue
			}
			item, err := json.Marshal(struct {
				CurrencyCode  string      `json:"currencyCode"`
				RetailPrice   json.Number `json:"retailPrice"`
				ArmRegionName string      `json:"armRegionName"`
				ArmSkuName    string      `json:"armSkuName"`
				ServiceName   string      `json:"serviceName"`
				ServiceFamily string      `json:"serviceFamily"`
				UnitOfMeasure string      `json:"unitOfMeasure"`
				Type          string      `json:"type"`
			}{"USD", json.Number(trimPrice(price)), region, size, "Virtual Machines", "Compute", "1 Hour", "Consumption"})
			if err != nil {
				return nil, err
			}
			page.Items = append(page.Items, item)
		}
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	gen, _ := json.Marshal(page.Generations)
	ambJSON, _ := json.Marshal(page.Ambiguous)
	fmt.Fprintf(&b, "  \"x_generations\": %s,\n  \"x_ambiguousFamilies\": %s,\n  \"Items\": [\n", gen, ambJSON)
	for i, it := range page.Items {
		b.WriteString("    ")
		b.Write(it)
		if i < len(page.Items)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes(), nil
}
