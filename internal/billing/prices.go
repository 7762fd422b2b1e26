package billing

import (
	"crypto/sha256"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Price is one row of a price sheet, as the meter's rating uses it.
type Price struct {
	Unit        string // unitOfMeasure: UnitHour or UnitMonth
	Currency    string
	MeterName   string
	ProductName string
	ServiceName string
	MeterID     string
	// Source says where the figure came from: the row's x_source, else the
	// sheet's top-level x_source.
	Source string

	// Additions to the contract.
	Exact              string // retailPrice per Unit in Currency, exactly as written in the sheet (decimal text)
	SKUName            string // skuName
	ArmSKUName         string // armSkuName
	Region             string // armRegionName
	EffectiveStartDate string // effectiveStartDate as written
	CapturedAt         string // the row's (or sheet's) x_capturedAt
}

// ExactPrice gives the price as an exact rational read from the sheet's
// decimal text (zero for a Price without one). Each call gives a fresh value.
func (p Price) ExactPrice() *big.Rat {
	if r, ok := new(big.Rat).SetString(p.Exact); ok {
		return r
	}
	return new(big.Rat)
}

// PriceSheet is an index of the rows of a Retail Prices API export that can
// price a MeterKey: hourly pay-as-you-go VM rows, monthly tiered managed
// disk rows and hourly public IP rows. It is immutable once parsed and safe for concurrent use.
type PriceSheet struct {
	rows       map[priceKey]candidate
	source     string // top-level x_source
	capturedAt string // top-level x_capturedAt
	items      int    // items read, relevant or not

	fingerprintOnce sync.Once
	fingerprint     [sha256.Size]byte
}

type priceKey struct {
	unit     string // "h" (VMs), "m" (disks) or "ip" (public IPs, hourly)
	location string // lower case
	sku      string // lower case armSkuName, tier name or public IP meter name
	os       string // "linux", "windows", "" for disks
	priority uint8  // prioRegular, prioSpot, prioLow
}

const (
	prioRegular uint8 = iota
	prioSpot
	prioLow
)

type candidate struct {
	price     Price
	effective time.Time
}

// retailItem is one element of Items in the Retail Prices API format; the
// x_ fields are this project's provenance additions.
type retailItem struct {
	CurrencyCode         string      `json:"currencyCode"`
	RetailPrice          json.Number `json:"retailPrice"`
	ArmRegionName        string      `json:"armRegionName"`
	EffectiveStartDate   string      `json:"effectiveStartDate"`
	MeterID              string      `json:"meterId"`
	MeterName            string      `json:"meterName"`
	ProductName          string      `json:"productName"`
	SkuName              string      `json:"skuName"`
	ServiceName          string      `json:"serviceName"`
	UnitOfMeasure        string      `json:"unitOfMeasure"`
	Type                 string      `json:"type"`
	PriceType            string      `json:"priceType"`
	ReservationTerm      string      `json:"reservationTerm"`
	ArmSkuName           string      `json:"armSkuName"`
	IsPrimaryMeterRegion *bool       `json:"isPrimaryMeterRegion"`
	XSource              string      `json:"x_source"`
	XCapturedAt          string      `json:"x_capturedAt"`
}

// ErrPriceSheet is wrapped by every error ParsePriceSheet returns.
var ErrPriceSheet = errors.New("billing: invalid price sheet")

// ParsePriceSheet reads a price sheet in the Azure Retail Prices API format:
// one or more concatenated page objects {"Items":[...], ...}, as the API
// answers them. It streams: only the rows that can price a MeterKey are kept,
// so a full export can be read in little memory. Rows whose type is not
// Consumption (Reservation, DevTestConsumption) or that have a
// reservationTerm are ignored; of several rows for one key, the one with the
// latest effectiveStartDate wins (the first of equals). Provenance may be
// given per row ("x_source", "x_capturedAt") or once at the top level of a
// page.
func ParsePriceSheet(r io.Reader) (*PriceSheet, error) {
	p := &PriceSheet{rows: map[priceKey]candidate{}}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	pages := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPriceSheet, err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return nil, fmt.Errorf("%w: want an object {\"Items\":[...]}, found %v", ErrPriceSheet, tok)
		}
		if err := p.readPage(dec); err != nil {
			return nil, err
		}
		pages++
	}
	if pages == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrPriceSheet)
	}
	return p, nil
}

// readPage reads the members of one page object after its '{'.
func (p *PriceSheet) readPage(dec *json.Decoder) error {
	sawItems := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPriceSheet, err)
		}
		name, _ := tok.(string)
		switch {
		case strings.EqualFold(name, "Items"):
			if err := p.readItems(dec); err != nil {
				return err
			}
			sawItems = true
		case name == "x_source" || name == "x_capturedAt":
			var s string
			if err := dec.Decode(&s); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrPriceSheet, name, err)
			}
			if name == "x_source" {
				p.source = s
			} else {
				p.capturedAt = s
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrPriceSheet, name, err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return fmt.Errorf("%w: %v", ErrPriceSheet, err)
	}
	if !sawItems {
		return fmt.Errorf("%w: a page without \"Items\"", ErrPriceSheet)
	}
	return nil
}

func (p *PriceSheet) readItems(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: Items: %v", ErrPriceSheet, err)
	}
	if tok == nil { // "Items": null
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%w: Items is not an array", ErrPriceSheet)
	}
	for dec.More() {
		var it retailItem
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("%w: item %d: %v", ErrPriceSheet, p.items, err)
		}
		if err := p.addItem(&it); err != nil {
			return fmt.Errorf("%w: item %d (%s %s %s): %v", ErrPriceSheet, p.items, it.ArmRegionName, it.MeterName, it.ProductName, err)
		}
		p.items++
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return fmt.Errorf("%w: Items: %v", ErrPriceSheet, err)
	}
	return nil
}

// addItem indexes a row if it can price a MeterKey.
func (p *PriceSheet) addItem(it *retailItem) error {
	if !payAsYouGo(it) {
		return nil
	}
	key, ok := classify(it)
	if !ok {
		return nil
	}
	exact, err := parsePrice(string(it.RetailPrice))
	if err != nil {
		return err
	}
	if exact.Sign() < 0 {
		return fmt.Errorf("negative retailPrice %s", it.RetailPrice)
	}
	var eff time.Time
	if it.EffectiveStartDate != "" {
		if eff, err = parseDate(it.EffectiveStartDate); err != nil {
			return fmt.Errorf("effectiveStartDate: %v", err)
		}
	}
	c := candidate{effective: eff, price: Price{
		Unit:               it.UnitOfMeasure,
		Currency:           it.CurrencyCode,
		MeterName:          it.MeterName,
		ProductName:        it.ProductName,
		ServiceName:        it.ServiceName,
		MeterID:            it.MeterID,
		Source:             it.XSource,
		Exact:              string(it.RetailPrice),
		SKUName:            it.SkuName,
		ArmSKUName:         it.ArmSkuName,
		Region:             it.ArmRegionName,
		EffectiveStartDate: it.EffectiveStartDate,
		CapturedAt:         it.XCapturedAt,
	}}
	if old, ok := p.rows[key]; !ok || c.effective.After(old.effective) {
		p.rows[key] = c
	}
	return nil
}

// payAsYouGo reports whether a row is a pay-as-you-go price: type (or
// priceType) Consumption or unset, and no reservationTerm. Reservation and
// DevTestConsumption rows are not what a pay-as-you-go bill charges.
func payAsYouGo(it *retailItem) bool {
	typ := it.Type
	if typ == "" {
		typ = it.PriceType
	}
	return (typ == "" || strings.EqualFold(typ, "Consumption")) && it.ReservationTerm == ""
}

// parsePrice reads a retailPrice exactly (see ParseDecimal).
func parsePrice(s string) (*big.Rat, error) {
	if s == "" {
		return nil, errors.New("no retailPrice")
	}
	r, err := ParseDecimal(s)
	if err != nil {
		return nil, fmt.Errorf("retailPrice %w", err)
	}
	return r, nil
}

// ParseDecimal reads a decimal number exactly. It refuses what no amount of
// money needs and would make exact arithmetic explode: more than 40
// characters, or a decimal exponent beyond ±40 (1e-999999999 is a valid
// JSON number).
func ParseDecimal(s string) (*big.Rat, error) {
	if len(s) > 40 {
		return nil, fmt.Errorf("%.40q... is too long", s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		if exp, err := strconv.Atoi(s[i+1:]); err != nil || exp < -40 || exp > 40 {
			return nil, fmt.Errorf("%q is out of range", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || strings.ContainsRune(s, '/') { // a fraction is no decimal
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}

// classify gives the key a row prices, if it prices one: an hourly VM row
// (Linux or Windows by productName; Spot or Low Priority by meterName or
// skuName), a monthly LRS managed disk tier row, or an hourly public IP row
// (by meterName).
func classify(it *retailItem) (priceKey, bool) {
	region := normLocation(it.ArmRegionName)
	if region == "" {
		return priceKey{}, false
	}
	switch {
	case isHourly(it.UnitOfMeasure) && it.ProductName == publicIPProduct:
		meter, ok := publicIPRowMeter(it)
		if !ok {
			return priceKey{}, false
		}
		return priceKey{unit: "ip", location: region, sku: strings.ToLower(meter)}, true
	case isHourly(it.UnitOfMeasure):
		if it.ArmSkuName == "" {
			return priceKey{}, false
		}
		if it.ServiceName != "" && !strings.EqualFold(it.ServiceName, "Virtual Machines") {
			return priceKey{}, false
		}
		if it.ServiceName == "" && !strings.Contains(it.ProductName, "Virtual Machines") {
			return priceKey{}, false
		}
		k := priceKey{unit: "h", location: region, sku: strings.ToLower(it.ArmSkuName), os: "linux"}
		if strings.Contains(it.ProductName, "Windows") {
			k.os = "windows"
		}
		switch {
		case strings.Contains(it.MeterName, "Spot") || strings.Contains(it.SkuName, "Spot"):
			k.priority = prioSpot
		case strings.Contains(it.MeterName, "Low Priority") || strings.Contains(it.SkuName, "Low Priority"):
			k.priority = prioLow
		}
		return k, true
	case isMonthly(it.UnitOfMeasure):
		if !strings.Contains(it.ProductName, "Managed Disks") {
			return priceKey{}, false
		}
		tier, ok := diskRowTier(it.MeterName, it.SkuName)
		if !ok {
			return priceKey{}, false
		}
		want := map[byte]string{'P': "Premium SSD", 'E': "Standard SSD", 'S': "Standard HDD"}[tier[0]]
		if !strings.Contains(it.ProductName, want) {
			return priceKey{}, false
		}
		return priceKey{unit: "m", location: region, sku: strings.ToLower(tier)}, true
	}
	return priceKey{}, false
}

// diskRowTier recognises the monthly meter of an LRS disk tier: meterName
// "P10 LRS Disk" (older sheets: "P10 Disks"), skuName "P10 LRS" when given.
// Other monthly meters of the same products ("P10 LRS Disk Mount" for shared
// disks, ZRS tiers, bursting) are not tiers and are skipped.
func diskRowTier(meterName, skuName string) (string, bool) {
	f := strings.Fields(meterName)
	var tier string
	switch {
	case len(f) == 3 && f[1] == "LRS" && (f[2] == "Disk" || f[2] == "Disks"):
		tier = f[0]
	case len(f) == 2 && (f[1] == "Disk" || f[1] == "Disks"):
		tier = f[0]
	default:
		return "", false
	}
	if _, ok := DiskTierSizeGB(tier); !ok || strings.ToUpper(tier) != tier {
		return "", false
	}
	if skuName != "" && skuName != tier+" LRS" && skuName != tier {
		return "", false
	}
	return tier, true
}

// isPublicIPMeter tells a public IP meter name (lower case) from a VM size.
func isPublicIPMeter(sku string) bool { return strings.HasSuffix(sku, " public ip") }

func isHourly(unit string) bool  { return unit == UnitHour || unit == "1/Hour" }
func isMonthly(unit string) bool { return unit == UnitMonth || unit == "1 Month" }

// Lookup finds the price of a meter key. Location and SKU compare
// case-insensitively; a VM key's OS must be Linux or Windows.
func (p *PriceSheet) Lookup(k MeterKey) (Price, bool) {
	if p == nil {
		return Price{}, false
	}
	pk := priceKey{location: normLocation(k.Location), sku: strings.ToLower(k.SKU)}
	switch {
	case k.Spot && k.LowPriority:
		return Price{}, false
	case k.Spot:
		pk.priority = prioSpot
	case k.LowPriority:
		pk.priority = prioLow
	}
	switch {
	case isHourly(k.Unit) && k.OS == "" && isPublicIPMeter(pk.sku):
		if pk.priority != prioRegular {
			return Price{}, false
		}
		pk.unit = "ip"
		if _, ok := p.rows[pk]; !ok {
			// A meter priced once for every region is published under
			// armRegionName "Global".
			pk.location = "global"
		}
	case isHourly(k.Unit):
		pk.unit = "h"
		switch {
		case strings.EqualFold(k.OS, OSLinux):
			pk.os = "linux"
		case strings.EqualFold(k.OS, OSWindows):
			pk.os = "windows"
		default:
			return Price{}, false
		}
	case isMonthly(k.Unit):
		pk.unit = "m"
		if k.OS != "" || pk.priority != prioRegular {
			return Price{}, false
		}
	default:
		return Price{}, false
	}
	c, ok := p.rows[pk]
	if !ok {
		return Price{}, false
	}
	pr := c.price
	if pr.Source == "" {
		pr.Source = p.source
	}
	if pr.CapturedAt == "" {
		pr.CapturedAt = p.capturedAt
	}
	return pr, true
}

// Fingerprint is a digest of every price the sheet gives: two sheets with
// the same fingerprint price every key alike. What was rated by one sheet
// (a saved running account) is trusted by another only if they share it.
func (p *PriceSheet) Fingerprint() [sha256.Size]byte {
	if p == nil {
		return [sha256.Size]byte{}
	}
	p.fingerprintOnce.Do(func() {
		lines := make([]string, 0, len(p.rows))
		for k, c := range p.rows {
			lines = append(lines, fmt.Sprintf("%#v %#v", k, c.price))
		}
		slices.Sort(lines)
		h := sha256.New()
		fmt.Fprintf(h, "%q %q\n", p.source, p.capturedAt)
		for _, l := range lines {
			fmt.Fprintln(h, l)
		}
		h.Sum(p.fingerprint[:0])
	})
	return p.fingerprint
}

// Len gives the number of meter keys the sheet prices.
func (p *PriceSheet) Len() int { return len(p.rows) }

// Items gives the number of rows read, whether they price a key or not.
func (p *PriceSheet) Items() int { return p.items }

// Source gives the sheet's top-level x_source, if it has one.
func (p *PriceSheet) Source() string { return p.source }

//go:embed prices/default.json
var defaultSheetFS embed.FS

var defaultSheet = sync.OnceValue(func() *PriceSheet {
	f, err := defaultSheetFS.Open("prices/default.json")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	p, err := ParsePriceSheet(f)
	if err != nil {
		panic(fmt.Sprintf("billing: embedded default price sheet: %v", err))
	}
	return p
})

// DefaultPriceSheet gives the embedded default sheet: published retail prices
// of common sizes and disk tiers in a few regions, each row with its source
// and capture date. Resources it does not cover are unpriced.
func DefaultPriceSheet() *PriceSheet { return defaultSheet() }

// RowKey tells which price a Retail Prices API item (one element of Items)
// would set in a PriceSheet: two items with the same key compete for one
// price, and ok is false for an item the sheet ignores (another service, a
// reservation, a meter azemu does not rate). Tools that assemble sheets use
// it to select rows exactly as ParsePriceSheet will read them.
func RowKey(item []byte) (key string, ok bool, err error) {
	var it retailItem
	if err := json.Unmarshal(item, &it); err != nil {
		return "", false, fmt.Errorf("%w: %v", ErrPriceSheet, err)
	}
	if !payAsYouGo(&it) {
		return "", false, nil
	}
	k, ok := classify(&it)
	if !ok {
		return "", false, nil
	}
	prio := [...]string{prioRegular: "", prioSpot: "spot", prioLow: "low"}[k.priority]
	return strings.Join([]string{k.unit, k.location, k.sku, k.os, prio}, "|"), true, nil
}
