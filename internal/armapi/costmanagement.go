package armapi

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/billing"
)

// The Cost Management Query API (Microsoft.CostManagement/query) over the
// meter: docs/api-coverage.md says what is served and how it differs from
// Azure.

// costDimensions are the dimensions a query may group and filter by, keyed
// by their lower-case name. ResourceGroup is the older name of
// ResourceGroupName, still accepted by Azure.
var costDimensions = func() map[string]string {
	m := map[string]string{}
	for _, d := range []string{"ResourceId", "ResourceGroupName", "ResourceGroup", "ResourceType", "ResourceLocation",
		"MeterCategory", "ServiceName", "Meter"} {
		m[strings.ToLower(d)] = d
	}
	return m
}()

const supportedDimensions = "ResourceId, ResourceGroupName (or ResourceGroup), ResourceType, ResourceLocation, MeterCategory, ServiceName, Meter"

// dim gives an item's value of a dimension, as Azure's usage data has it:
// IDs, resource groups and types in lower case.
func (b *billedItem) dim(name string) string {
	switch name {
	case "ResourceId":
		return b.ID
	case "ResourceGroupName", "ResourceGroup":
		return strings.ToLower(b.Group)
	case "ResourceType":
		return b.CostType
	case "ResourceLocation":
		return b.MeterKey.Location
	case "MeterCategory", "ServiceName":
		return b.Category
	case "Meter":
		return b.MeterName
	}
	return ""
}

// costQuery is a validated query definition.
type costQuery struct {
	from, to time.Time // the window, to clamped to now
	daily    bool
	aggs     []string // aggregation columns ("Cost", "PreTaxCost"), ordered by alias
	groups   []string // canonical dimension names
	filter   *costFilter
}

// costFilter is a node of a query filter: exactly one of its parts is set.
type costFilter struct {
	and, or []*costFilter
	not     *costFilter
	dim     string
	values  map[string]bool // lower case
}

func (f *costFilter) match(b *billedItem) bool {
	switch {
	case f == nil:
		return true
	case f.and != nil:
		for _, c := range f.and {
			if !c.match(b) {
				return false
			}
		}
		return true
	case f.or != nil:
		for _, c := range f.or {
			if c.match(b) {
				return true
			}
		}
		return false
	case f.not != nil:
		return !f.not.match(b)
	}
	return f.values[strings.ToLower(b.dim(f.dim))]
}

// queryInput is the body of a query as the client writes it; pointers tell
// a missing member from an empty one.
type queryInput struct {
	Type       *string `json:"type"`
	Timeframe  *string `json:"timeframe"`
	TimePeriod *struct {
		From *string `json:"from"`
		To   *string `json:"to"`
	} `json:"timePeriod"`
	Dataset *struct {
		Granularity *string `json:"granularity"`
		Aggregation map[string]*struct {
			Name     *string `json:"name"`
			Function *string `json:"function"`
		} `json:"aggregation"`
		Grouping []*struct {
			Type *string `json:"type"`
			Name *string `json:"name"`
		} `json:"grouping"`
		Filter *filterInput `json:"filter"`
	} `json:"dataset"`
}

type filterInput struct {
	And        []*filterInput   `json:"and"`
	Or         []*filterInput   `json:"or"`
	Not        *filterInput     `json:"not"`
	Dimensions *comparisonInput `json:"dimensions"`
	Tags       *comparisonInput `json:"tags"`
}

type comparisonInput struct {
	Name     *string   `json:"name"`
	Operator *string   `json:"operator"`
	Values   []*string `json:"values"`
}

// badQuery is Cost Management's answer to a query it cannot run.
func badQuery(target, format string, args ...any) *armerror.Error {
	return errorf("BadRequest", target, "Invalid query definition: "+format, args...)
}

// maxQueryDays bounds a query's window (A: Azure answers at most a year).
const maxQueryDays = 366

// parseCostQuery validates a query definition and resolves its timeframe
// against now (UTC).
func parseCostQuery(in *queryInput, now time.Time) (*costQuery, *armerror.Error) {
	now = now.UTC()
	if in.Type == nil || *in.Type == "" {
		return nil, badQuery("type", "'type' is required: ActualCost, AmortizedCost or Usage.")
	}
	if canonicalOneOf(*in.Type, "ActualCost", "AmortizedCost", "Usage") == "" {
		return nil, badQuery("type", "the type '%s' is not supported: use ActualCost, AmortizedCost or Usage.", *in.Type)
	}
	if in.Timeframe == nil || *in.Timeframe == "" {
		return nil, badQuery("timeframe", "'timeframe' is required: Custom, MonthToDate, BillingMonthToDate, TheLastMonth, TheLastBillingMonth or WeekToDate.")
	}
	if in.Dataset == nil {
		return nil, badQuery("dataset", "'dataset' is required.")
	}
	q := &costQuery{}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch canonicalOneOf(*in.Timeframe, "Custom", "MonthToDate", "BillingMonthToDate", "TheLastMonth", "TheLastBillingMonth", "WeekToDate") {
	case "Custom":
		tp := in.TimePeriod
		if tp == nil || tp.From == nil || tp.To == nil {
			return nil, badQuery("timePeriod", "the timeframe Custom needs 'timePeriod' with 'from' and 'to'.")
		}
		from, _, err := parseQueryTime(*tp.From)
		if err != nil {
			return nil, badQuery("timePeriod.from", "'%s' is not a date and time.", *tp.From)
		}
		to, dayEnd, err := parseQueryTime(*tp.To)
		if err != nil {
			return nil, badQuery("timePeriod.to", "'%s' is not a date and time.", *tp.To)
		}
		if dayEnd {
			// A date, or 23:59:59 of a day, is Azure's way of saying "up to
			// the end of that day".
			to = time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, time.UTC)
		}
		if !from.Before(to) {
			return nil, badQuery("timePeriod", "'from' (%s) must be before 'to' (%s).", *tp.From, *tp.To)
		}
		q.from, q.to = from, to
	case "MonthToDate", "BillingMonthToDate": // the emulator's billing month is the calendar month
		q.from, q.to = month, now
	case "TheLastMonth", "TheLastBillingMonth":
		q.from, q.to = month.AddDate(0, -1, 0), month
	case "WeekToDate":
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		q.from, q.to = day.AddDate(0, 0, -((int(day.Weekday())+6)%7)), now // back to Monday
	default:
		return nil, badQuery("timeframe", "the timeframe '%s' is not supported: use Custom, MonthToDate, BillingMonthToDate, TheLastMonth, TheLastBillingMonth or WeekToDate.", *in.Timeframe)
	}
	if q.to.Sub(q.from) > maxQueryDays*24*time.Hour {
		return nil, badQuery("timePeriod", "the time period cannot exceed one year.")
	}
	// Nothing accrues after now: the meter would extrapolate today's states.
	if q.to.After(now) {
		q.to = now
	}
	if q.from.After(q.to) {
		q.from = q.to
	}

	ds := in.Dataset
	if ds.Granularity != nil {
		switch canonicalOneOf(*ds.Granularity, "None", "Daily") {
		case "Daily":
			q.daily = true
		case "None":
		default:
			return nil, badQuery("dataset.granularity", "the granularity '%s' is not supported: use None or Daily.", *ds.Granularity)
		}
	}
	if len(ds.Aggregation) > 2 {
		return nil, badQuery("dataset.aggregation", "a query can have up to 2 aggregation clauses.")
	}
	aliases := make([]string, 0, len(ds.Aggregation))
	for alias := range ds.Aggregation {
		aliases = append(aliases, alias)
	}
	slices.Sort(aliases)
	for _, alias := range aliases {
		a := ds.Aggregation[alias]
		if a == nil || a.Name == nil || a.Function == nil {
			return nil, badQuery("dataset.aggregation."+alias, "an aggregation needs 'name' and 'function'.")
		}
		if !strings.EqualFold(*a.Function, "Sum") {
			return nil, badQuery("dataset.aggregation."+alias+".function", "the function '%s' is not supported: use Sum.", *a.Function)
		}
		col := canonicalOneOf(*a.Name, "Cost", "PreTaxCost")
		if col == "" {
			return nil, badQuery("dataset.aggregation."+alias+".name", "the aggregation column '%s' is not supported: use Cost or PreTaxCost.", *a.Name)
		}
		q.aggs = append(q.aggs, col)
	}
	if len(q.aggs) == 0 {
		// The column Azure answers with when none is asked for.
		col := "Cost"
		if strings.EqualFold(*in.Type, "Usage") {
			col = "PreTaxCost"
		}
		q.aggs = []string{col}
	}
	if len(ds.Grouping) > 2 {
		return nil, badQuery("dataset.grouping", "a query can have up to 2 group by clauses.")
	}
	for i, g := range ds.Grouping {
		target := fmt.Sprintf("dataset.grouping[%d]", i)
		if g == nil || g.Name == nil || *g.Name == "" {
			return nil, badQuery(target+".name", "a grouping needs a 'name'.")
		}
		if g.Type != nil && strings.EqualFold(*g.Type, "TagKey") {
			return nil, badQuery(target+".type", "grouping by the tag '%s' is not supported: azemu's usage data has no tags.", *g.Name)
		}
		if g.Type != nil && !strings.EqualFold(*g.Type, "Dimension") {
			return nil, badQuery(target+".type", "the grouping type '%s' is not supported: use Dimension.", *g.Type)
		}
		name, ok := costDimensions[strings.ToLower(*g.Name)]
		if !ok {
			return nil, badQuery(target+".name", "the grouping dimension '%s' is not supported: use one of %s.", *g.Name, supportedDimensions)
		}
		if !slices.Contains(q.groups, name) {
			q.groups = append(q.groups, name)
		}
	}
	if ds.Filter != nil {
		f, err := parseFilter(ds.Filter, "dataset.filter")
		if err != nil {
			return nil, err
		}
		q.filter = f
	}
	return q, nil
}

func parseFilter(in *filterInput, target string) (*costFilter, *armerror.Error) {
	set := 0
	for _, b := range []bool{in.And != nil, in.Or != nil, in.Not != nil, in.Dimensions != nil, in.Tags != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, badQuery(target, "a filter has exactly one of 'and', 'or', 'not', 'dimensions' or 'tags'.")
	}
	f := &costFilter{}
	switch {
	case in.And != nil || in.Or != nil:
		op, list := "and", in.And
		if in.Or != nil {
			op, list = "or", in.Or
		}
		if len(list) < 2 {
			return nil, badQuery(target+"."+op, "'%s' must have at least 2 items.", op)
		}
		out := make([]*costFilter, 0, len(list))
		for i, c := range list {
			if c == nil {
				return nil, badQuery(fmt.Sprintf("%s.%s[%d]", target, op, i), "a filter item is null.")
			}
			cf, err := parseFilter(c, fmt.Sprintf("%s.%s[%d]", target, op, i))
			if err != nil {
				return nil, err
			}
			out = append(out, cf)
		}
		if op == "and" {
			f.and = out
		} else {
			f.or = out
		}
	case in.Not != nil:
		nf, err := parseFilter(in.Not, target+".not")
		if err != nil {
			return nil, err
		}
		f.not = nf
	case in.Tags != nil:
		name := ""
		if in.Tags.Name != nil {
			name = *in.Tags.Name
		}
		return nil, badQuery(target+".tags", "filtering by the tag '%s' is not supported: azemu's usage data has no tags.", name)
	default:
		c := in.Dimensions
		target += ".dimensions"
		if c.Name == nil || *c.Name == "" {
			return nil, badQuery(target+".name", "a comparison needs a 'name'.")
		}
		name, ok := costDimensions[strings.ToLower(*c.Name)]
		if !ok {
			return nil, badQuery(target+".name", "the filter dimension '%s' is not supported: use one of %s.", *c.Name, supportedDimensions)
		}
		if c.Operator == nil || !strings.EqualFold(*c.Operator, "In") {
			op := ""
			if c.Operator != nil {
				op = *c.Operator
			}
			return nil, badQuery(target+".operator", "the operator '%s' is not supported: use In.", op)
		}
		if len(c.Values) == 0 {
			return nil, badQuery(target+".values", "a comparison needs at least one value.")
		}
		f.dim, f.values = name, map[string]bool{}
		for _, v := range c.Values {
			if v != nil {
				f.values[strings.ToLower(*v)] = true
			}
		}
	}
	return f, nil
}

// parseQueryTime reads a timePeriod bound: RFC 3339, a date and time
// without a zone (UTC), or a date. dayEnd says the bound names a whole day
// (a date, or 23:59:59 of one).
func parseQueryTime(s string) (t time.Time, dayEnd bool, err error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			h, m, sec := t.Clock()
			return t, h == 23 && m == 59 && sec == 59, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not a time", s)
}

// windows gives the windows to meter: the whole window, or one per UTC day
// with its UsageDate (yyyymmdd).
func (q *costQuery) windows() ([]billing.Window, []int) {
	if !q.daily {
		return []billing.Window{{From: q.from, To: q.to}}, []int{0}
	}
	return billing.Days(q.from, q.to)
}

// costRow is one answer row before it is rendered.
type costRow struct {
	date     int
	dims     []string
	currency string
	cost     *big.Rat
}

// rows meters the query's windows and sums the priced items that pass the
// filter by (day, groups, currency). Items with billed time that no price
// row prices are left out of every sum and returned by ID.
func (s *Server) costRows(r *request, q *costQuery, scope string) ([]costRow, []string, error) {
	wins, dates := q.windows()
	ms, err := s.meterWindows(r.Context(), wins, billing.PerSecond, scope)
	if err != nil {
		return nil, nil, err
	}
	rows := map[string]*costRow{}
	unpriced := map[string]bool{}
	for i := range ms.Len() {
		for _, li := range billing.Rate(ms.Meter(i).Usage(), s.prices) {
			if li.Seconds == 0 {
				continue // nothing consumed: Azure's usage data has no record
			}
			b := newBilledItem(li)
			if !q.filter.match(&b) {
				continue
			}
			if !li.Priced {
				unpriced[b.ID] = true
				continue
			}
			row := costRow{date: dates[i], currency: li.Price.Currency}
			for _, g := range q.groups {
				row.dims = append(row.dims, b.dim(g))
			}
			key := strconv.Itoa(row.date) + "\x00" + strings.Join(row.dims, "\x00") + "\x00" + row.currency
			acc := rows[key]
			if acc == nil {
				row.cost = new(big.Rat)
				acc = &row
				rows[key] = acc
			}
			acc.cost.Add(acc.cost, li.Cost)
		}
	}
	out := make([]costRow, 0, len(rows))
	for _, row := range rows {
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b costRow) int {
		if a.date != b.date {
			return a.date - b.date
		}
		if c := slices.Compare(a.dims, b.dims); c != 0 {
			return c
		}
		return strings.Compare(a.currency, b.currency)
	})
	ids := make([]string, 0, len(unpriced))
	for id := range unpriced {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return out, ids, nil
}

// costPageToken is the $skiptoken of a query's next page: the offset of its
// first row and the instant the first page resolved "now" at, so that every
// page of one answer meters the same window.
func costPageToken(offset int, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset) + ":" + strconv.FormatInt(now.UnixNano(), 10)))
}

func parseCostPageToken(tok string) (int, time.Time, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, time.Time{}, false
	}
	o, n, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, time.Time{}, false
	}
	offset, err1 := strconv.Atoi(o)
	nanos, err2 := strconv.ParseInt(n, 10, 64)
	if err1 != nil || err2 != nil || offset < 0 {
		return 0, time.Time{}, false
	}
	return offset, time.Unix(0, nanos).UTC(), true
}

// costQuery serves POST {scope}/providers/Microsoft.CostManagement/query for
// a subscription or resource group scope.
func (s *Server) costQuery(r *request, sub, rg string) (reply, error) {
	if r.Method != http.MethodPost {
		return reply{}, methodNotAllowed(r)
	}
	now, offset := s.eng.Now().UTC(), 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		var ok bool
		if offset, now, ok = parseCostPageToken(tok); !ok {
			return reply{}, badQuery("$skiptoken", "the $skiptoken '%s' is not one this server issued.", tok)
		}
	}
	var in queryInput
	if err := bodyJSON(r, &in); err != nil {
		return reply{}, err
	}
	q, aerr := parseCostQuery(&in, now)
	if aerr != nil {
		return reply{}, aerr
	}
	sub = strings.ToLower(sub)
	rows, unpriced, err := s.costRows(r, q, scopePrefix(sub, rg))
	if err != nil {
		return reply{}, err
	}
	if offset > len(rows) {
		offset = len(rows)
	}
	end := min(offset+s.pageSize, len(rows))

	columns := make([]map[string]string, 0, len(q.aggs)+len(q.groups)+2)
	for _, a := range q.aggs {
		columns = append(columns, map[string]string{"name": a, "type": "Number"})
	}
	if q.daily {
		columns = append(columns, map[string]string{"name": "UsageDate", "type": "Number"})
	}
	for _, g := range q.groups {
		columns = append(columns, map[string]string{"name": g, "type": "String"})
	}
	columns = append(columns, map[string]string{"name": "Currency", "type": "String"})
	out := make([][]any, 0, end-offset)
	for _, row := range rows[offset:end] {
		vals := make([]any, 0, len(columns))
		cost := billing.NumberOf(row.cost)
		for range q.aggs {
			vals = append(vals, cost)
		}
		if q.daily {
			vals = append(vals, row.date)
		}
		for _, d := range row.dims {
			vals = append(vals, d)
		}
		vals = append(vals, row.currency)
		out = append(out, vals)
	}
	props := map[string]any{"nextLink": nil, "columns": columns, "rows": out}
	if end < len(rows) {
		qs := r.URL.Query()
		qs.Set("$skiptoken", costPageToken(end, now))
		props["nextLink"] = r.base + r.URL.EscapedPath() + "?" + qs.Encode()
	}
	if len(unpriced) > 0 {
		// Azure never answers a null cost; azemu leaves unpriced resources
		// out of the rows and names them here (and counts them in the
		// x-azemu-unpriced header) rather than show them as free.
		props["x_unpriced"] = unpriced
	}
	scopeID := "subscriptions/" + sub
	if rg != "" {
		scopeID += "/resourceGroups/" + rg
	}
	name := s.eng.NewID()
	return reply{status: http.StatusOK, header: map[string]string{"x-azemu-unpriced": strconv.Itoa(len(unpriced))}, body: map[string]any{
		"id":         scopeID + "/providers/Microsoft.CostManagement/query/" + name,
		"name":       name,
		"type":       "Microsoft.CostManagement/query",
		"location":   nil,
		"sku":        nil,
		"eTag":       nil,
		"properties": props,
	}}, nil
}
