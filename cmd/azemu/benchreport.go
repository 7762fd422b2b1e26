package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// benchReport is what azemu bench prints.
type benchReport struct {
	VMs     int // the fleet read: every VM of the subscription
	Created int // of which the bench created
	// TargetIdle is the share of a CPU a target spent before the measured
	// part with no request from the bench (-1 unknown; 0 in process).
	TargetIdle float64
	Targeted   bool // azemu ran in a process of its own (--target)
	Clients    int
	Duration   time.Duration
	Rounds     int
	Where      string
	GoVersion  string
	CPUs       int
	Load       string // one-, five- and fifteen-minute load averages at the end
	Seed       time.Duration
	Results    []workloadResult
	Listing    listing // the zero value when listall did not run
	// Dials is the connections the clients opened during the measured
	// parts (each a TLS handshake on both sides): a warm-up opens its
	// workload's, so that none weighs on a figure.
	Dials   int64
	RSS     int64
	RSSFrom string
	DBBytes int64
}

// benchLabels name each workload in the report, with its unit.
var benchLabels = map[string][2]string{
	"bare":         {"bare HTTPS server: a fixed body from a map", "req/s"},
	"get":          {"GET VM", "req/s"},
	"expand":       {"GET VM ?$expand=instanceView", "req/s"},
	"instanceview": {"GET VM/instanceView", "req/s"},
	"listall":      {"listAll statusOnly=true, every page", "pages/s"},
	"churn":        {"start/powerOff/deallocate churn", "changes/s"},
	commitsSingle:  {"engine on SQLite, one change a transaction", "changes/s"},
	commitsGrouped: {"engine on SQLite, group commit", "changes/s"},
}

// overHTTPS reports whether a workload is served over HTTPS, next to the
// bare server; the commits run on the engine itself.
func overHTTPS(name string) bool { return name != commitsSingle && name != commitsGrouped }

// bareRate is the bare server's rate in the report, 0 when it failed.
func (b benchReport) bareRate() float64 {
	for _, r := range b.Results {
		if r.Name == "bare" && r.Err == "" {
			return r.rate()
		}
	}
	return 0
}

func (b benchReport) write(w io.Writer) {
	rounds := "1 round"
	if b.Rounds > 1 {
		rounds = fmt.Sprintf("%d rounds, the median of each", b.Rounds)
	}
	fmt.Fprintf(w, "azemu bench: %s VMs, %d clients, %s a workload, %s\n", thousands(int64(b.VMs)), b.Clients, b.Duration, rounds)
	fmt.Fprintf(w, "server:  %s\n", b.Where)
	fmt.Fprintf(w, "machine: %d CPUs, %s", b.CPUs, b.GoVersion)
	if b.Load != "" {
		fmt.Fprintf(w, ", load average %s at the end", b.Load)
	}
	fmt.Fprintln(w)
	if b.Created > 0 {
		fmt.Fprintf(w, "seeded:  %s VMs in %s; ", thousands(int64(b.Created)), b.Seed.Round(10*time.Millisecond))
	} else {
		fmt.Fprintf(w, "seeded:  none; ")
	}
	fmt.Fprintf(w, "each GET reads one of the subscription's %s VMs, drawn at random\n", thousands(int64(b.VMs)))
	switch {
	case !b.Targeted:
	case b.TargetIdle < 0:
		fmt.Fprintf(w, "target:  its CPU is not in its /metrics: no CPU per request\n")
	default:
		fmt.Fprintf(w, "target:  %.0f%% of a CPU busy with no request before the measured part; the bare server in a process of its own;\n", 100*b.TargetIdle)
		fmt.Fprintf(w, "         CPU/op is the clients', the bare server's and the target's\n")
	}
	fmt.Fprintln(w)

	// The ratio by CPU is the bare server's CPU time per request over this
	// workload's: on a machine shared with other work it is steadier than
	// the ratio of rates, as the process gets what CPU it can.
	bare := b.bareRate()
	rows := [][]string{{"workload", "rate", "", "ratio to bare", "CPU/op", "ratio by CPU", "body"}}
	var bareCPU time.Duration
	for _, r := range b.Results {
		if r.Name == "bare" && r.Err == "" {
			bareCPU = r.cpuPerOp()
		}
	}
	for _, r := range b.Results {
		label := benchLabels[r.Name]
		if r.Err != "" {
			rows = append(rows, []string{label[0], "failed", "", "", "", "", ""})
			continue
		}
		ratio := "-"
		if bare > 0 && overHTTPS(r.Name) {
			ratio = fmt.Sprintf("%.2f", r.rate()/bare)
		}
		body := "-"
		if r.Bytes > 0 {
			body = byteSize(r.Bytes)
		}
		cpu, cpuRatio := "-", "-"
		if c := r.cpuPerOp(); c > 0 {
			cpu = fmt.Sprintf("%.1f µs", float64(c)/1e3)
			if bareCPU > 0 && overHTTPS(r.Name) {
				cpuRatio = fmt.Sprintf("%.2f", float64(bareCPU)/float64(c))
			}
		}
		rows = append(rows, []string{label[0], thousands(int64(r.rate() + 0.5)), label[1], ratio, cpu, cpuRatio, body})
	}
	writeTable(w, rows)
	fmt.Fprintln(w)
	b.writeCommits(w)
	for _, r := range b.Results {
		if r.Refused > 0 {
			fmt.Fprintf(w, "%s: %s actions refused with 409 in the VM's state, not counted; the first: %s\n",
				benchLabels[r.Name][0], thousands(r.Refused), r.Refusal)
		}
	}
	if b.Dials > 0 {
		fmt.Fprintf(w, "connections opened while measuring: %s (each a TLS handshake in the CPU of its workload)\n", thousands(b.Dials))
	}
	if l := b.Listing; l.Pages > 0 || l.Err != "" {
		if l.Err == "" {
			pages := "pages"
			if l.Pages == 1 {
				pages = "page"
			}
			cpu := ""
			if l.ServerCPU > 0 {
				cpu = fmt.Sprintf(" (the target's CPU: %s)", roundDuration(l.ServerCPU))
			}
			fmt.Fprintf(w, "listAll statusOnly=true, one client: all %s %s (%s VMs, %s) in %s%s, and %s decoding them in the client\n",
				thousands(int64(l.Pages)), pages, thousands(int64(l.VMs)), byteSize(l.Bytes), roundDuration(l.Time), cpu, roundDuration(l.Decode))
		} else {
			fmt.Fprintf(w, "listAll statusOnly=true, one client: failed: %s\n", l.Err)
		}
	}
	if b.RSS > 0 {
		fmt.Fprintf(w, "resident memory: %s (%s)\n", byteSize(b.RSS), b.RSSFrom)
	}
	if b.DBBytes > 0 {
		fmt.Fprintf(w, "database: %s\n", byteSize(b.DBBytes))
	}
	for _, r := range b.Results {
		if r.Err != "" {
			fmt.Fprintf(w, "%s failed: %s\n", benchLabels[r.Name][0], r.Err)
		}
	}
}

// writeTable writes rows in columns: the first left-aligned, the numbers
// right-aligned, units left-aligned after their number.
func writeTable(w io.Writer, rows [][]string) {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	pad := func(s string, i int) string { return strings.Repeat(" ", width[i]-utf8.RuneCountInString(s)) }
	for _, row := range rows {
		var line strings.Builder
		for i, cell := range row {
			switch {
			case i == 0:
				line.WriteString(cell + pad(cell, i))
			case i == 2: // a unit, after its number
				line.WriteString(" " + cell + pad(cell, i))
			default:
				line.WriteString("  " + pad(cell, i) + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
}

// failures says which workloads failed, "" when none did.
func (b benchReport) failures() string {
	var failed []string
	for _, r := range b.Results {
		if r.Err != "" {
			failed = append(failed, r.Name)
		}
	}
	if b.Listing.Err != "" {
		failed = append(failed, "listing")
	}
	if len(failed) == 0 {
		return ""
	}
	return "workloads failed: " + strings.Join(failed, ", ")
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// byteSize writes n in B, KB, MB or GB (powers of 1,000, as df -H).
func byteSize(n int64) string {
	switch {
	case n < 10_000:
		return thousands(n) + " B"
	case n < 1_000_000:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	case n < 1_000_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// writeCommits says what group commit gives over one change a transaction,
// when both commits runs went through.
func (b benchReport) writeCommits(w io.Writer) {
	result := func(name string) workloadResult {
		for _, r := range b.Results {
			if r.Name == name {
				return r
			}
		}
		return workloadResult{}
	}
	single, grouped := result(commitsSingle), result(commitsGrouped)
	if single.Err != "" || grouped.Err != "" || single.rate() == 0 || grouped.rate() == 0 {
		return
	}
	perTx := func(r workloadResult) string {
		if r.Transactions == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(r.Changes)/float64(r.Transactions))
	}
	fmt.Fprintf(w, "durable changes through the engine on SQLite, %d clients: group commit %s/s, %.2fx one change a transaction (%s/s); %s changes a transaction\n",
		b.Clients, thousands(int64(grouped.rate()+0.5)), grouped.rate()/single.rate(), thousands(int64(single.rate()+0.5)), perTx(grouped))
}
