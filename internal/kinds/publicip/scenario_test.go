package publicip

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A public IP scenario scripts one IP's model, association and its VM's
// power. Commands:
//
//	put [sku=S] [alloc=A] [version=V] [tier=T] [idle=N] [location=L]
//	associate IPCONFIG running|stopped
//	dissociate
//	power allocated|deallocated
//	delete
//	advance DURATION
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step {
		var p *PublicIP
		draw := 0.0
		env := resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1,
			Float64: func() float64 { draw += 0.61; draw -= float64(int(draw)); return draw }}
		taken := Taken{"203.0.113.1": true}
		return func(f []string, out *strings.Builder) error {
			args := scenariotest.Args(f[1:])
			var eff resource.Effects
			var err error
			switch f[0] {
			case "put":
				idle := 0
				fmt.Sscan(or(args["idle"], "0"), &idle)
				spec := Spec{Location: or(args["location"], "eastus"), SKU: or(args["sku"], Standard), Tier: or(args["tier"], Regional),
					Allocation: or(args["alloc"], Static), Version: or(args["version"], IPv4), IdleTimeout: idle}
				_, eff, err = Put(p, "00000000-0000-0000-0000-000000000001", "rg", "ip", spec, false, taken, env)
			case "associate":
				_, eff, err = Associate(p, f[1], "vm", f[2] == "running", taken, env)
			case "dissociate":
				_, eff = Dissociate(p, env)
			case "power":
				_, eff, err = Power(p, "vm", f[1] == "allocated", taken, env)
			case "delete":
				eff, err = Delete(p, env)
			case "advance":
				d, _ := time.ParseDuration(f[1])
				env.Now = env.Now.Add(d)
				return nil
			default:
				return fmt.Errorf("unknown command %q", f[0])
			}
			if err != nil {
				return scenariotest.WriteError(out, err)
			}
			scenariotest.WriteEffects(out, eff)
			for _, s := range eff.Put {
				p = s.(*PublicIP)
			}
			if len(eff.Removed) > 0 {
				p = nil
				return nil
			}
			if p != nil {
				fmt.Fprintf(out, "  = %s %s %s %s address %q on %q\n", p.Spec.SKU, p.Spec.Tier, p.Spec.Allocation, p.Spec.Version, p.Address, p.IPConfiguration)
			}
			return nil
		}
	})
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
