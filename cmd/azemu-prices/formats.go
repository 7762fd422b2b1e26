package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/azemu/azemu/internal/billing"
)

// The formats a source file can have (the manifest's "format"). Each reader
// turns a file into Retail Prices API items carrying every field the file
// has; what the file leaves out because its query fixed it (serviceName,
// the API's default currency) comes from the manifest's "fill".
const (
	// formatRetail: a Retail Prices API page ({"Items": [...]}), an array of
	// pages, or an array of recorded exchanges whose "body" is a page.
	formatRetail = ""
	// formatRadar: a snapshot of github.com/andy-diericks/azure-pricing-radar
	// (data/latest/<scope>.json): an object keyed "skuId|meterId|type|
	// reservationTerm" whose values keep armRegionName, meterName,
	// productName, retailPrice, skuName, unitOfMeasure and unitPrice of
	// each row the scope's query returned.
	formatRadar = "radar"
	// formatFlexeraDisks: github.com/flexera-public/policy_templates
	// data/azure/azure_md_pricing.json: armRegionName -> disk type ("P10_LRS")
	// -> the currencyCode, skuName ("sku"), retailPrice ("pricePerUnit"),
	// unitOfMeasure and productName of the Consumption row of the managed
	// disk products whose meterName ends in "Disk".
	formatFlexeraDisks = "flexera-disks"
)

// fillable are the fields a manifest's "fill" may set: facts a whole file
// shares by the query that made it, never a price.
var fillable = []string{"serviceName", "currencyCode", "type"}

// sourceItems gives a source file's items as Retail Prices API items.
func sourceItems(src *source, data []byte) ([]json.RawMessage, error) {
	for k := range src.Fill {
		if !slices.Contains(fillable, k) {
			return nil, fmt.Errorf("fill may set only %s, not %q", strings.Join(fillable, ", "), k)
		}
	}
	var items []map[string]any
	var err error
	switch src.Format {
	case formatRetail:
		if len(src.Fill) > 0 {
			return nil, fmt.Errorf("a Retail Prices page needs no fill")
		}
		return pageItems(data)
	case formatRadar:
		items, err = radarItems(data)
	case formatFlexeraDisks:
		items, err = flexeraDiskItems(data)
	default:
		return nil, fmt.Errorf("unknown format %q", src.Format)
	}
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("no items")
	}
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		for k, v := range src.Fill {
			if _, has := it[k]; !has {
				it[k] = v
			}
		}
		raw, err := marshalItem(it)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}

// decodeExact decodes JSON keeping numbers as written.
func decodeExact(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// radarEntry is one value of a radar snapshot.
type radarEntry struct {
	ArmRegionName string      `json:"armRegionName"`
	MeterName     string      `json:"meterName"`
	ProductName   string      `json:"productName"`
	RetailPrice   json.Number `json:"retailPrice"`
	SkuName       string      `json:"skuName"`
	UnitOfMeasure string      `json:"unitOfMeasure"`
	UnitPrice     json.Number `json:"unitPrice"`
}

// radarItems reads a radar snapshot. The snapshot keeps no armSkuName; a
// VM row's is its skuName as ARM spells sizes (see armSkuNameOf).
func radarItems(data []byte) ([]map[string]any, error) {
	var snap map[string]json.RawMessage
	if err := decodeExact(data, &snap); err != nil {
		return nil, fmt.Errorf("not a radar snapshot: %w", err)
	}
	var out []map[string]any
	for _, key := range slices.Sorted(maps.Keys(snap)) {
		it, err := radarItem(key, snap[key])
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func radarItem(key string, raw json.RawMessage) (map[string]any, error) {
	parts := strings.Split(key, "|")
	if len(parts) != 4 {
		return nil, fmt.Errorf("radar key %q is not skuId|meterId|type|reservationTerm", key)
	}
	var e radarEntry
	if err := decodeExact(raw, &e); err != nil {
		return nil, fmt.Errorf("radar entry %s: %w", key, err)
	}
	if e.RetailPrice == "" {
		return nil, fmt.Errorf("radar entry %s has no retailPrice", key)
	}
	it := map[string]any{
		"skuId": parts[0], "meterId": parts[1], "type": parts[2],
		"armRegionName": e.ArmRegionName, "meterName": e.MeterName, "productName": e.ProductName,
		"retailPrice": e.RetailPrice, "skuName": e.SkuName, "unitOfMeasure": e.UnitOfMeasure,
	}
	if e.UnitPrice != "" {
		it["unitPrice"] = e.UnitPrice
	}
	if parts[3] != "" {
		it["reservationTerm"] = parts[3]
	}
	if strings.Contains(e.ProductName, "Virtual Machines") {
		if arm, ok := armSkuNameOf(e.SkuName); ok {
			it["armSkuName"] = arm
		}
	}
	return it, nil
}

var skuNameSize = regexp.MustCompile(`^(?i:standard_)?([A-Z][A-Za-z0-9-]*)((?:[ _]v[0-9]+)?)$`)

// armSkuNameOf spells a VM row's skuName as ARM names the size: the Retail
// Prices API writes "D2s v3", "D2s v3 Spot", "B1s Low Priority" or (newer
// meters) "Standard_E2bds_v5 Spot" for Standard_D2s_v3, Standard_B1s and
// Standard_E2bds_v5. A skuName of another shape ("D2 v3/D2s v3") has no
// armSkuName and prices nothing.
func armSkuNameOf(skuName string) (string, bool) {
	s := strings.TrimSuffix(strings.TrimSuffix(skuName, " Spot"), " Low Priority")
	m := skuNameSize.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	return "Standard_" + m[1] + strings.ReplaceAll(m[2], " ", "_"), true
}

// flexeraDisk is one disk type of azure_md_pricing.json.
type flexeraDisk struct {
	CurrencyCode  string      `json:"currencyCode"`
	Sku           string      `json:"sku"`
	PricePerUnit  json.Number `json:"pricePerUnit"`
	UnitOfMeasure string      `json:"unitOfMeasure"`
	ProductName   string      `json:"productName"`
}

var diskTierSku = regexp.MustCompile(`^[PES][0-9]+ (LRS|ZRS)$`)

// flexeraDiskItems reads azure_md_pricing.json. It keeps the tiered disk
// types only ("P10 LRS", "E4 ZRS", ...): Flexera's script kept, of the
// managed disk products, the Consumption rows whose meterName ends in
// "Disk", and a tier's is "<skuName> Disk" ("P10 LRS Disk"). Premium SSD
// v2 and Ultra meters, keyed otherwise, are skipped.
func flexeraDiskItems(data []byte) ([]map[string]any, error) {
	var file map[string]map[string]json.RawMessage
	if err := decodeExact(data, &file); err != nil {
		return nil, fmt.Errorf("not a Flexera disk price file: %w", err)
	}
	var out []map[string]any
	for _, region := range slices.Sorted(maps.Keys(file)) {
		for _, typ := range slices.Sorted(maps.Keys(file[region])) {
			var d flexeraDisk
			if err := decodeExact(file[region][typ], &d); err != nil {
				return nil, fmt.Errorf("%s %s: %w", region, typ, err)
			}
			if !diskTierSku.MatchString(d.Sku) {
				continue
			}
			if strings.ReplaceAll(d.Sku, " ", "_") != typ {
				return nil, fmt.Errorf("%s %s: sku %q does not name its key", region, typ, d.Sku)
			}
			if d.PricePerUnit == "" {
				return nil, fmt.Errorf("%s %s: no pricePerUnit", region, typ)
			}
			out = append(out, map[string]any{
				"armRegionName": region, "currencyCode": d.CurrencyCode, "skuName": d.Sku,
				"meterName": d.Sku + " Disk", "productName": d.ProductName,
				"retailPrice": d.PricePerUnit, "unitOfMeasure": d.UnitOfMeasure,
			})
		}
	}
	return out, nil
}

// selectSource keeps, of a source file in its format, the entries that
// price something the sheet looks for, verbatim, in the file's own format:
// what `azemu-prices select` writes into the sources folder from a
// published file.
func selectSource(format string, data []byte) ([]byte, error) {
	want := targetKeys()
	wanted := func(it map[string]any) (bool, error) {
		raw, err := marshalItem(it)
		if err != nil {
			return false, err
		}
		key, ok, err := billing.RowKey(raw)
		if err != nil {
			return false, err
		}
		_, t := want[key]
		return ok && t, nil
	}
	var b bytes.Buffer
	switch format {
	case formatRadar:
		var snap map[string]json.RawMessage
		if err := decodeExact(data, &snap); err != nil {
			return nil, fmt.Errorf("not a radar snapshot: %w", err)
		}
		var keep []string
		for _, key := range slices.Sorted(maps.Keys(snap)) {
			it, err := radarItem(key, snap[key])
			if err != nil {
				return nil, err
			}
			if ok, err := wanted(it); err != nil {
				return nil, err
			} else if ok {
				keep = append(keep, key)
			}
		}
		b.WriteString("{\n")
		for i, key := range keep {
			line, err := compactSorted(snap[key])
			if err != nil {
				return nil, err
			}
			k, _ := json.Marshal(key)
			fmt.Fprintf(&b, "  %s: %s", k, line)
			if i < len(keep)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
	case formatFlexeraDisks:
		var file map[string]map[string]json.RawMessage
		if err := decodeExact(data, &file); err != nil {
			return nil, fmt.Errorf("not a Flexera disk price file: %w", err)
		}
		keep := map[string][]string{}
		for _, region := range slices.Sorted(maps.Keys(file)) {
			one, err := json.Marshal(map[string]map[string]json.RawMessage{region: file[region]})
			if err != nil {
				return nil, err
			}
			items, err := flexeraDiskItems(one)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if ok, err := wanted(it); err != nil {
					return nil, err
				} else if ok {
					keep[region] = append(keep[region], strings.ReplaceAll(it["skuName"].(string), " ", "_"))
				}
			}
		}
		regions := slices.Sorted(maps.Keys(keep))
		b.WriteString("{\n")
		for i, region := range regions {
			r, _ := json.Marshal(region)
			fmt.Fprintf(&b, "  %s: {\n", r)
			for j, typ := range keep[region] {
				line, err := compactSorted(file[region][typ])
				if err != nil {
					return nil, err
				}
				t, _ := json.Marshal(typ)
				fmt.Fprintf(&b, "    %s: %s", t, line)
				if j < len(keep[region])-1 {
					b.WriteByte(',')
				}
				b.WriteByte('\n')
			}
			b.WriteString("  }")
			if i < len(regions)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString("}\n")
	default:
		return nil, fmt.Errorf("select reads the formats %q and %q, not %q", formatRadar, formatFlexeraDisks, format)
	}
	return b.Bytes(), nil
}

// compactSorted writes a JSON object on one line, keys sorted, numbers as
// written.
func compactSorted(raw json.RawMessage) ([]byte, error) {
	var v map[string]any
	if err := decodeExact(raw, &v); err != nil {
		return nil, err
	}
	return marshalItem(v)
}
