package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/azemu/azemu/internal/billing"
)

// manifest describes the source files the sheet is generated from, in
// order of preference: where two sources price the same thing, the one
// listed first wins (verbatim API responses before derived tables).
type manifest struct {
	// RetrievedAt is when azemu's maintainers read these sources.
	RetrievedAt string   `json:"retrievedAt"`
	Sources     []source `json:"sources"`
}

// source is one file of the sources folder.
type source struct {
	File string `json:"file"`
	// Source tells a user where the figures come from (x_source).
	Source string `json:"source"`
	// CapturedAt is when the figures were read from the API, or the bound
	// known: "2026-06-18", "2026-04-04 or later" (x_capturedAt).
	CapturedAt string `json:"capturedAt"`
	// Provenance tells a reviewer exactly where the file was found:
	// repository, path and commit (x_provenance).
	Provenance string `json:"provenance"`
	// Note says what the file is and how its capture date is known; it
	// stays in the manifest.
	Note string `json:"note"`
	// Format is the file's format (see formats.go); empty for Retail
	// Prices API pages.
	Format string `json:"format,omitempty"`
	// Fill gives fields every row of the file shares by the query that
	// made it and the file leaves out (serviceName, currencyCode, type).
	Fill map[string]string `json:"fill,omitempty"`
}

// row is a selected item and where it came from.
type row struct {
	target target
	item   map[string]any
	source *source
	eff    string // effectiveStartDate, for choosing among one source's rows
}

// disagreement is a price two sources give differently; the first wins.
// Where one source gives two prices for one thing with nothing to choose
// between them (no effectiveStartDate tells the newer), the source is
// ambiguous there and gives none: lost is empty and kept lists both.
type disagreement struct {
	key        string // what is priced, for the note
	kept, lost string // "price (file)"
}

// build generates the sheet from the manifest and the files' contents.
func build(m manifest, files map[string][]byte) ([]byte, error) {
	if m.RetrievedAt == "" {
		return nil, fmt.Errorf("manifest: no retrievedAt")
	}
	want := targetKeys()
	chosen := map[string]*row{}
	var disagreements []disagreement
	for i := range m.Sources {
		src := &m.Sources[i]
		if src.Source == "" || src.CapturedAt == "" || src.Provenance == "" || src.Note == "" {
			return nil, fmt.Errorf("%s: a source needs source, capturedAt, provenance and note", src.File)
		}
		data, ok := files[src.File]
		if !ok {
			return nil, fmt.Errorf("%s: listed in the manifest but not found", src.File)
		}
		items, err := sourceItems(src, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.File, err)
		}
		mine := map[string]*row{}
		ambiguous := map[string][]string{} // key -> the prices it has
		for _, raw := range items {
			key, ok, err := billing.RowKey(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", src.File, err)
			}
			t, wanted := want[key]
			if !ok || !wanted {
				continue
			}
			var item map[string]any
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&item); err != nil {
				return nil, fmt.Errorf("%s: %w", src.File, err)
			}
			eff, _ := item["effectiveStartDate"].(string)
			r := &row{target: t, item: item, source: src, eff: eff}
			switch old := mine[key]; {
			case old == nil || eff > old.eff:
				mine[key] = r
			case eff == old.eff && price(old) != price(r):
				if len(ambiguous[key]) == 0 {
					ambiguous[key] = []string{price(old)}
				}
				ambiguous[key] = append(ambiguous[key], price(r))
			}
		}
		for key, prices := range ambiguous {
			r := mine[key]
			delete(mine, key)
			disagreements = append(disagreements, disagreement{r.target.category + " " + r.target.name + " in " + r.target.region,
				strings.Join(prices, " and ") + " (" + src.File + ")", ""})
		}
		for key, r := range mine {
			old := chosen[key]
			if old == nil {
				chosen[key] = r
				continue
			}
			if price(old) != price(r) {
				disagreements = append(disagreements, disagreement{r.target.category + " " + r.target.name + " in " + r.target.region,
					price(old) + " (" + old.source.File + ")", price(r) + " (" + r.source.File + ")"})
			}
		}
	}
	var rows []*row
	for _, t := range targets() {
		if r := chosen[t.key]; r != nil {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(disagreements, func(a, b disagreement) int { return strings.Compare(a.key, b.key) })

	var b bytes.Buffer
	note, err := json.Marshal(sheetNote(rows, disagreements))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "{\n  \"x_note\": %s,\n  \"Items\": [\n", note)
	for i, r := range rows {
		r.item["x_source"] = fmt.Sprintf("%s (%s)", r.source.Source, r.target.region)
		r.item["x_capturedAt"] = r.source.CapturedAt
		r.item["x_retrievedAt"] = m.RetrievedAt
		r.item["x_provenance"] = r.source.Provenance
		line, err := marshalItem(r.item)
		if err != nil {
			return nil, err
		}
		b.WriteString("    ")
		b.Write(line)
		if i < len(rows)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("  ]\n}\n")
	// What the sheet says must be what azemu reads.
	sheet, err := billing.ParsePriceSheet(bytes.NewReader(b.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("generated sheet: %w", err)
	}
	if sheet.Len() != len(rows) {
		return nil, fmt.Errorf("generated sheet prices %d keys from %d rows", sheet.Len(), len(rows))
	}
	return b.Bytes(), nil
}

func price(r *row) string { return fmt.Sprint(r.item["retailPrice"]) }

// marshalItem writes an item on one line with its keys sorted, numbers as
// written in the source.
func marshalItem(item map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(item); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// pageItems gives the items of a source file: a Retail Prices API page
// ({"Items": [...]}), an array of pages, or an array of recorded exchanges
// whose "body" is a page.
func pageItems(data []byte) ([]json.RawMessage, error) {
	type page struct {
		Items []json.RawMessage `json:"Items"`
		Body  *struct {
			Items []json.RawMessage `json:"Items"`
		} `json:"body"`
	}
	trimmed := bytes.TrimSpace(data)
	var pages []page
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		if err := json.Unmarshal(trimmed, &pages); err != nil {
			return nil, err
		}
	case bytes.HasPrefix(trimmed, []byte("{")):
		var p page
		if err := json.Unmarshal(trimmed, &p); err != nil {
			return nil, err
		}
		pages = []page{p}
	default:
		return nil, fmt.Errorf("not a Retail Prices API page")
	}
	var out []json.RawMessage
	for _, p := range pages {
		out = append(out, p.Items...)
		if p.Body != nil {
			out = append(out, p.Body.Items...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Items")
	}
	return out, nil
}

// regionTally is what one category of the sheet prices in one region.
type regionTally struct{ priced, missing []string }

// coverage says, region by region, what one category of the sheet prices:
// "214 of 1060 priced: all in northeurope, westeurope; in eastus only
// Standard_D2s_v3; none in eastus2, ...", naming families (familyOf), not
// sizes, where a region lacks a few.
func coverage(regions map[string]*regionTally) string {
	priced, total := 0, 0
	var all, none, partial []string
	for _, region := range sheetRegions {
		r := regions[region]
		priced += len(r.priced)
		total += len(r.priced) + len(r.missing)
		switch {
		case len(r.missing) == 0:
			all = append(all, region)
		case len(r.priced) == 0:
			none = append(none, region)
		case len(r.priced) <= len(r.missing):
			partial = append(partial, "in "+region+" only "+strings.Join(r.priced, ", "))
		default:
			var fams []string
			for _, n := range r.missing {
				if strings.HasPrefix(n, "Standard_") {
					n = familyOf(n)
				}
				if !slices.Contains(fams, n) {
					fams = append(fams, n)
				}
			}
			partial = append(partial, "in "+region+" all but "+strings.Join(fams, ", "))
		}
	}
	if priced == total {
		return fmt.Sprintf("all %d priced", total)
	}
	var parts []string
	if len(all) > 0 {
		parts = append(parts, "all in "+strings.Join(all, ", "))
	}
	parts = append(parts, partial...)
	if len(none) > 0 {
		parts = append(parts, "none in "+strings.Join(none, ", ")+" (no published figure was found)")
	}
	return fmt.Sprintf("%d of %d priced: %s", priced, total, strings.Join(parts, "; "))
}

// sheetNote says what the sheet is, where it comes from and what it leaves
// unpriced, from the rows it has.
func sheetNote(rows []*row, disagreements []disagreement) string {
	var b strings.Builder
	b.WriteString("azemu's embedded default price sheet, in the Azure Retail Prices API format (https://prices.azure.com/api/retail/prices): pay-as-you-go USD list prices. ")
	b.WriteString("Generated by `go run ./cmd/azemu-prices` from the exports and tables in internal/billing/prices/sources (their README says where each was found); no figure is typed by hand or inferred. ")
	b.WriteString("Every row says where its figure comes from (x_source), when it was captured (x_capturedAt), when azemu read it (x_retrievedAt) and, for the reviewer, exactly where (x_provenance). ")
	fmt.Fprintf(&b, "Regions: %s. ", strings.Join(sheetRegions, ", "))
	have := map[string]bool{}
	for _, r := range rows {
		have[r.target.key] = true
	}
	cats := map[string]map[string]*regionTally{} // category -> region -> names
	var order []string
	for _, t := range targets() {
		c := cats[t.category]
		if c == nil {
			c = map[string]*regionTally{}
			cats[t.category] = c
			order = append(order, t.category)
		}
		r := c[t.region]
		if r == nil {
			r = &regionTally{}
			c[t.region] = r
		}
		if have[t.key] {
			r.priced = append(r.priced, t.name)
		} else {
			r.missing = append(r.missing, t.name)
		}
	}
	fmt.Fprintf(&b, "Priced %d of the %d prices azemu looks for; a resource without a row is reported unpriced, never free. ", len(rows), len(targets()))
	for _, name := range order {
		fmt.Fprintf(&b, "%s: %s. ", name, coverage(cats[name]))
	}
	for _, d := range disagreements {
		if d.lost == "" {
			fmt.Fprintf(&b, "A source is ambiguous on %s: %s, left out. ", d.key, d.kept)
			continue
		}
		fmt.Fprintf(&b, "Sources disagree on %s: kept %s over %s. ", d.key, d.kept, d.lost)
	}
	b.WriteString("Use --prices FILE with a full export for real work.")
	return b.String()
}
