package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
}

// row is a selected item and where it came from.
type row struct {
	target target
	item   map[string]any
	source *source
	eff    string // effectiveStartDate, for choosing among one source's rows
}

// disagreement is a price two sources give differently; the first wins.
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
		items, err := pageItems(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.File, err)
		}
		mine := map[string]*row{}
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
			if old := mine[key]; old == nil || eff > old.eff {
				mine[key] = &row{target: t, item: item, source: src, eff: eff}
			}
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
	type tally struct {
		priced, total int
		pricedNames   []string
		missing       map[string][]string // family or name -> regions
	}
	cats := map[string]*tally{}
	var order []string
	for _, t := range targets() {
		c := cats[t.category]
		if c == nil {
			c = &tally{missing: map[string][]string{}}
			cats[t.category] = c
			order = append(order, t.category)
		}
		c.total++
		if have[t.key] {
			c.priced++
			c.pricedNames = append(c.pricedNames, t.region+" "+t.name)
			continue
		}
		name := t.name
		if strings.HasPrefix(name, "Standard_") {
			name = familyOf(name)
		}
		if !slices.Contains(c.missing[name], t.region) {
			c.missing[name] = append(c.missing[name], t.region)
		}
	}
	fmt.Fprintf(&b, "Priced %d of the %d prices azemu looks for; a resource without a row is reported unpriced, never free. ", len(rows), len(targets()))
	for _, name := range order {
		c := cats[name]
		switch {
		case c.priced == c.total:
			fmt.Fprintf(&b, "%s: all %d priced. ", name, c.total)
		case c.priced*4 < c.total:
			list := "none"
			if c.priced > 0 {
				list = strings.Join(c.pricedNames, ", ")
			}
			fmt.Fprintf(&b, "%s: %d of %d priced (%s), the rest unpriced: no published figure was found. ", name, c.priced, c.total, list)
		default:
			var parts []string
			for _, n := range slices.Sorted(maps.Keys(c.missing)) {
				regions := c.missing[n]
				if len(regions) == len(sheetRegions) {
					parts = append(parts, n+" (all regions)")
				} else {
					parts = append(parts, n+" ("+strings.Join(regions, ", ")+")")
				}
			}
			fmt.Fprintf(&b, "%s: %d of %d priced; unpriced: %s. ", name, c.priced, c.total, strings.Join(parts, "; "))
		}
	}
	for _, d := range disagreements {
		fmt.Fprintf(&b, "Sources disagree on %s: kept %s over %s. ", d.key, d.kept, d.lost)
	}
	b.WriteString("Use --prices FILE with a full export for real work.")
	return b.String()
}
