package billing

import "math/big"

// LineItem is a usage line with its price and cost.
type LineItem struct {
	Usage
	Price  Price
	Priced bool
	Cost   *big.Rat // exact; nil when unpriced
}

// Rate prices usage: cost = price x seconds / 3600 for hourly meters and
// price x seconds / (730 x 3600) for monthly ones, computed exactly from the
// sheet's decimal text. A usage no row prices gets Priced false and a nil
// Cost: unpriced, never free. Each Cost is a fresh value the caller may
// modify.
func Rate(u []Usage, p *PriceSheet) []LineItem {
	out := make([]LineItem, len(u))
	rats := map[string]*big.Rat{} // exact prices by decimal text
	for i := range u {
		li := LineItem{Usage: u[i]}
		if pr, ok := p.Lookup(u[i].MeterKey); ok {
			if denom := unitSeconds(pr.Unit); denom > 0 {
				r, ok := rats[pr.Exact]
				if !ok || pr.Exact == "" {
					r = pr.ExactPrice()
					rats[pr.Exact] = r
				}
				li.Price, li.Priced = pr, true
				li.Cost = new(big.Rat).SetFrac64(u[i].Seconds, denom)
				li.Cost.Mul(li.Cost, r)
			}
		}
		out[i] = li
	}
	return out
}

// unitSeconds gives how many seconds one unit of measure lasts, or 0 for a
// unit the meter does not rate.
func unitSeconds(unit string) int64 {
	switch {
	case isHourly(unit):
		return 3600
	case isMonthly(unit):
		return HoursPerMonth * 3600
	}
	return 0
}

// Quantity is seconds in units of a meter's unit of measure (hours, or
// months of HoursPerMonth hours), exactly.
func Quantity(seconds int64, unit string) *big.Rat {
	denom := unitSeconds(unit)
	if denom == 0 {
		denom = 3600
	}
	return new(big.Rat).SetFrac64(seconds, denom)
}

// Totals sums the costs of priced line items per currency and counts the
// unpriced ones.
func Totals(items []LineItem) (byCurrency map[string]*big.Rat, unpriced int) {
	byCurrency = map[string]*big.Rat{}
	for _, li := range items {
		if !li.Priced {
			unpriced++
			continue
		}
		t := byCurrency[li.Price.Currency]
		if t == nil {
			t = new(big.Rat)
			byCurrency[li.Price.Currency] = t
		}
		t.Add(t, li.Cost)
	}
	return byCurrency, unpriced
}
