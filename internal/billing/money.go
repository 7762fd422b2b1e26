package billing

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// DecimalPlaces bounds the decimals of an exact amount written as text: a
// cost is price x seconds / 3600, whose expansion need not terminate.
const DecimalPlaces = 18

// Decimal writes r in decimal, exactly when its expansion ends within
// places, else rounded there (half away from zero), without trailing zeros.
func Decimal(r *big.Rat, places int) string {
	s := r.FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Number is an exact amount that JSON renders as a decimal number (to
// DecimalPlaces): money leaves the server as the decimal the bill holds,
// never through a float64.
type Number struct{ r *big.Rat }

// NumberOf wraps r; a nil r renders as 0.
func NumberOf(r *big.Rat) Number { return Number{r} }

// Rat gives the exact amount (zero for the zero Number).
func (n Number) Rat() *big.Rat {
	if n.r == nil {
		return new(big.Rat)
	}
	return n.r
}

func (n Number) String() string { return Decimal(n.Rat(), DecimalPlaces) }

// MarshalJSON writes the amount as a JSON number.
func (n Number) MarshalJSON() ([]byte, error) { return []byte(n.String()), nil }

// UnmarshalJSON reads a JSON number exactly (see ParseDecimal for what it
// refuses).
func (n *Number) UnmarshalJSON(b []byte) error {
	r, err := ParseDecimal(string(b))
	if err != nil {
		return fmt.Errorf("billing: amount %w", err)
	}
	n.r = r
	return nil
}

// Amount is a sum of money that knows when part of it is unknown: Cost
// sums the priced parts; Unpriced says some billed part had no price, so
// Cost is a lower bound, never a cost of zero that is not one.
type Amount struct {
	Cost     *big.Rat // nil until a priced part is added
	Currency string   // of the first priced part
	Mixed    bool     // priced parts in more than one currency
	Unpriced bool
}

// Add adds a priced part (cost not nil) or an unpriced one (cost nil).
func (a *Amount) Add(cost *big.Rat, currency string) {
	if cost == nil {
		a.Unpriced = true
		return
	}
	if a.Cost == nil {
		a.Cost, a.Currency = new(big.Rat), currency
	} else if currency != a.Currency {
		a.Mixed = true
	}
	a.Cost.Add(a.Cost, cost)
}

// AddItem adds a line item: its cost, or, when no price prices its billed
// time, the fact that part of the sum is unknown. An unpriced item with no
// billed time adds nothing: it cost nothing whatever its price.
func (a *Amount) AddItem(li LineItem) {
	switch {
	case li.Priced:
		a.Add(li.Cost, li.Price.Currency)
	case li.Seconds > 0:
		a.Unpriced = true
	}
}

// Merge adds another amount.
func (a *Amount) Merge(o Amount) {
	a.Unpriced = a.Unpriced || o.Unpriced
	a.Mixed = a.Mixed || o.Mixed
	if o.Cost != nil {
		a.Add(o.Cost, o.Currency)
	}
}

// Value gives the priced sum, zero when nothing priced was added.
func (a Amount) Value() Number { return NumberOf(a.Cost) }

// Window is a metered interval [From, To).
type Window struct{ From, To time.Time }

// Days cuts [from, to) at UTC midnights: one window per UTC day it
// touches, the first and last clipped to the interval, each with its date
// as yyyymmdd.
func Days(from, to time.Time) ([]Window, []int) {
	from, to = from.UTC(), to.UTC()
	var wins []Window
	var dates []int
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC); d.Before(to); d = d.AddDate(0, 0, 1) {
		w := Window{From: d, To: d.AddDate(0, 0, 1)}
		if w.From.Before(from) {
			w.From = from
		}
		if w.To.After(to) {
			w.To = to
		}
		wins = append(wins, w)
		dates = append(dates, d.Year()*10000+int(d.Month())*100+d.Day())
	}
	return wins, dates
}

// Meters meters several windows in one pass over a history: each event is
// fed to every window it can still change (an event at or after a
// window's end changes nothing there).
type Meters struct {
	wins []Window
	ms   []*Meter
	end  time.Time
}

// NewMeters starts a meter per window at granularity g.
func NewMeters(wins []Window, g Granularity) *Meters {
	m := &Meters{wins: wins, ms: make([]*Meter, len(wins))}
	for i, w := range wins {
		m.ms[i] = NewMeter(w.From, w.To, g)
		if w.To.After(m.end) {
			m.end = w.To
		}
	}
	return m
}

// End is the end of the last window: no later event changes any of them.
func (m *Meters) End() time.Time { return m.end }

// Add feeds the next event to each window that ends after it. It returns
// the first meter's refusal (an error wrapping ErrOutOfOrder or
// ErrInvalidEvent, see Meter.Add); a meter that refuses an event stays as
// it was, and the caller may go on with the next one.
func (m *Meters) Add(e Event) error {
	var first error
	for i, mt := range m.ms {
		if !e.At.Before(m.wins[i].To) {
			continue
		}
		if err := mt.Add(e); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Meter gives the meter of window i.
func (m *Meters) Meter(i int) *Meter { return m.ms[i] }

// Len is the number of windows.
func (m *Meters) Len() int { return len(m.ms) }
