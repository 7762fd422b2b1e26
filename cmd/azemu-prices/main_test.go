package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/billing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was generated (go test ./cmd/azemu-prices -update to accept):\n%s", path, got)
	}
}

// The generator selects exactly the rows azemu prices, in the sheet's
// regions, the newest of one source's rows for a meter, the first source's
// row where two price one meter (naming the disagreement), and adds each
// row's provenance.
func TestBuildGolden(t *testing.T) {
	sheet, err := generate(filepath.Join("testdata", "sources"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sheet.golden.json", sheet)

	p, err := billing.ParsePriceSheet(bytes.NewReader(sheet))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k      billing.MeterKey
		want   string // "" for unpriced
		source string
	}{
		{billing.MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: billing.OSLinux, Unit: billing.UnitHour}, "0.096", "test page (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: billing.OSWindows, Unit: billing.UnitHour}, "0.188", "test page (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "Standard_D2s_v3", OS: billing.OSLinux, Spot: true, Unit: billing.UnitHour}, "0.018816", "test page (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "Standard_B2s", OS: billing.OSLinux, Unit: billing.UnitHour}, "0.0416", "test table (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "S10", Unit: billing.UnitMonth}, "5.888", "test capture (eastus)"},
		{billing.MeterKey{Location: "westeurope", SKU: "P10", Unit: billing.UnitMonth}, "21.68", "test page (westeurope)"},
		{billing.MeterKey{Location: "westeurope", SKU: "Standard IPv4 Static Public IP", Unit: billing.UnitHour}, "0.005", "test page (westeurope)"},
		{billing.MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: billing.OSWindows, Unit: billing.UnitHour}, "0.212", "test snapshot (westeurope)"},
		{billing.MeterKey{Location: "westeurope", SKU: "Standard_D4s_v3", OS: billing.OSLinux, Spot: true, Unit: billing.UnitHour}, "0.044352", "test snapshot (westeurope)"},
		{billing.MeterKey{Location: "westeurope", SKU: "Standard_E2s_v5", OS: billing.OSLinux, Unit: billing.UnitHour}, "", ""},
		{billing.MeterKey{Location: "westeurope", SKU: "Standard_D2s_v3", OS: billing.OSLinux, Unit: billing.UnitHour}, "", ""},
		{billing.MeterKey{Location: "eastus", SKU: "P10", Unit: billing.UnitMonth}, "19.71", "test disk table (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "S4", Unit: billing.UnitMonth}, "1.536", "test disk table (eastus)"},
		{billing.MeterKey{Location: "eastus", SKU: "Standard_M32ts", OS: billing.OSLinux, Unit: billing.UnitHour}, "", ""},
		{billing.MeterKey{Location: "brazilsouth", SKU: "Standard_D2s_v3", OS: billing.OSLinux, Unit: billing.UnitHour}, "", ""},
	} {
		pr, ok := p.Lookup(c.k)
		if got := map[bool]string{true: pr.Exact}[ok]; got != c.want {
			t.Errorf("%v: priced %q, want %q", c.k, got, c.want)
		}
		if ok && !strings.HasSuffix(pr.Source, c.source) {
			t.Errorf("%v: source %q, want ...%q", c.k, pr.Source, c.source)
		}
	}
	var raw struct {
		Note  string `json:"x_note"`
		Items []map[string]any
	}
	if err := json.Unmarshal(sheet, &raw); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"kept 0.096 (page.json) over 0.097 (capture.json)",
		"kept 0.096 (page.json) over 0.0188 (table.json)",
		"public IP: 1 of 40 priced: in westeurope only Standard IPv4 Static Public IP;",
		"Sources disagree on disk P10 in westeurope: kept 21.68 (page.json) over 21.7 (flexera.json)",
		"A source is ambiguous on Linux Standard_E2s_v5 in westeurope: 0.152 and 0.153 (radar.json), left out",
	} {
		if !strings.Contains(raw.Note, want) {
			t.Errorf("note lacks %q:\n%s", want, raw.Note)
		}
	}
	for i, it := range raw.Items {
		for _, f := range []string{"x_source", "x_capturedAt", "x_retrievedAt", "x_provenance"} {
			if s, _ := it[f].(string); s == "" {
				t.Errorf("row %d has no %s", i, f)
			}
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	page := []byte(`{"Items":[{"currencyCode":"USD","retailPrice":0.096,"armRegionName":"eastus","armSkuName":"Standard_D2s_v3","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption"}]}`)
	good := source{File: "a.json", Source: "s", CapturedAt: "2026-01-01", Provenance: "p", Note: "n"}
	for name, c := range map[string]struct {
		m     manifest
		files map[string][]byte
	}{
		"no retrievedAt":    {manifest{Sources: []source{good}}, map[string][]byte{"a.json": page}},
		"missing file":      {manifest{RetrievedAt: "x", Sources: []source{good}}, map[string][]byte{}},
		"no provenance":     {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c"}}}, map[string][]byte{"a.json": page}},
		"not a page":        {manifest{RetrievedAt: "x", Sources: []source{good}}, map[string][]byte{"a.json": []byte(`"x"`)}},
		"no items":          {manifest{RetrievedAt: "x", Sources: []source{good}}, map[string][]byte{"a.json": []byte(`{"Items":[]}`)}},
		"a negative price":  {manifest{RetrievedAt: "x", Sources: []source{good}}, map[string][]byte{"a.json": bytes.Replace(page, []byte("0.096"), []byte("-0.096"), 1)}},
		"an unknown format": {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c", Provenance: "p", Note: "n", Format: "csv"}}}, map[string][]byte{"a.json": page}},
		"a page with fill":  {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c", Provenance: "p", Note: "n", Fill: map[string]string{"serviceName": "x"}}}}, map[string][]byte{"a.json": page}},
		"a filled price": {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c", Provenance: "p", Note: "n", Format: formatRadar, Fill: map[string]string{"retailPrice": "1"}}}},
			map[string][]byte{"a.json": []byte(`{"a|b|Consumption|":{"armRegionName":"eastus","retailPrice":1,"skuName":"D2s v3","productName":"Virtual Machines DSv3 Series","unitOfMeasure":"1 Hour"}}`)}},
		"a radar key of three parts": {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c", Provenance: "p", Note: "n", Format: formatRadar}}},
			map[string][]byte{"a.json": []byte(`{"a|b|Consumption":{"armRegionName":"eastus","retailPrice":1}}`)}},
		"a Flexera key that is not its sku": {manifest{RetrievedAt: "x", Sources: []source{{File: "a.json", Source: "s", CapturedAt: "c", Provenance: "p", Note: "n", Format: formatFlexeraDisks}}},
			map[string][]byte{"a.json": []byte(`{"eastus":{"P10_LRS":{"sku":"P20 LRS","pricePerUnit":1,"unitOfMeasure":"1/Month","productName":"Premium SSD Managed Disks"}}}`)}},
	} {
		if _, err := build(c.m, c.files); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}

// Generations whose figures flip back and forth leave their family out;
// a figure that changes once is a price change and the newest is kept.
func TestImportKarpenterGolden(t *testing.T) {
	var gens []table
	for _, name := range []string{"gen1.go.txt", "gen2.go.txt", "gen3.go.txt"} {
		f, err := os.Open(filepath.Join("testdata", "karpenter", name))
		if err != nil {
			t.Fatal(err)
		}
		g, err := parseTable(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, g)
	}
	page, err := importKarpenter(gens)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "karpenter.golden.json", page)
	for _, want := range []string{`"Standard_D#as_v5"`, `"armSkuName":"Standard_B1s","serviceName"`, `"retailPrice":0.012,`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	if bytes.Contains(page, []byte(`"armSkuName":"Standard_D2as_v5"`)) {
		t.Error("an ambiguous family was imported")
	}
	if _, err := importKarpenter([]table{gens[2], gens[0]}); err == nil {
		t.Error("generations out of order imported")
	}
	if _, err := parseTable(strings.NewReader("package x\n")); err == nil {
		t.Error("a file that is no table parsed")
	}
}

// The committed sheet is what the committed sources generate: nobody edits
// it by hand.
func TestCommittedSheetIsGenerated(t *testing.T) {
	root := filepath.Join("..", "..")
	sheet, err := generate(filepath.Join(root, defaultSources))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile(filepath.Join(root, defaultSheet))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sheet, committed) {
		t.Errorf("%s is not what %s generates: run go run ./cmd/azemu-prices", defaultSheet, defaultSources)
	}
}

// A VM row's skuName, in the spellings the Retail Prices API uses, names
// the ARM size; other shapes name none.
func TestArmSkuNameOf(t *testing.T) {
	for in, want := range map[string]string{
		"D2s v3": "Standard_D2s_v3", "D2s v3 Spot": "Standard_D2s_v3", "B1s": "Standard_B1s",
		"B1s Low Priority": "Standard_B1s", "Standard_E2bds_v5 Spot": "Standard_E2bds_v5", "standard_DC48s_v3": "Standard_DC48s_v3",
		"F16s v2": "Standard_F16s_v2", "HB120-16rs_v3": "Standard_HB120-16rs_v3",
		"D2 v3/D2s v3": "", "": "", "D2s  v3": "", "EC8as_cc_v5": "",
	} {
		got, ok := armSkuNameOf(in)
		if got != want || ok != (want != "") {
			t.Errorf("armSkuNameOf(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// select keeps, verbatim and in the file's own format, exactly the entries
// the sheet can use.
func TestSelectGolden(t *testing.T) {
	for _, c := range []struct{ format, in, golden string }{
		{formatRadar, "radar.json", "select-radar.golden.json"},
		{formatFlexeraDisks, "flexera.json", "select-flexera.golden.json"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "sources", c.in))
		if err != nil {
			t.Fatal(err)
		}
		sel, err := selectSource(c.format, data)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, c.golden, sel)
		// What select keeps reads back as the same items, less the rest.
		all, err := sourceItems(&source{Format: c.format}, data)
		if err != nil {
			t.Fatal(err)
		}
		kept, err := sourceItems(&source{Format: c.format}, sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) == 0 || len(kept) >= len(all) {
			t.Errorf("%s: kept %d of %d items", c.in, len(kept), len(all))
		}
		for _, it := range kept {
			if !slices.ContainsFunc(all, func(a json.RawMessage) bool { return bytes.Equal(a, it) }) {
				t.Errorf("%s: select changed %s", c.in, it)
			}
		}
	}
	if _, err := selectSource(formatRetail, []byte(`{"Items":[]}`)); err == nil {
		t.Error("select read a format it does not know")
	}
}
