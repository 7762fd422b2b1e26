package loadbalancer

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/kinds/publicip"
	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

const sub = "00000000-0000-0000-0000-000000000001"

// A load balancer scenario scripts one balancer over the public IPs and
// subnets of its group. Commands:
//
//	ip NAME [sku=S] [alloc=A] [location=L]   create a public IP
//	subnet NAME                               a subnet of network vnet exists
//	put [sku=S] [location=L] [FRONTEND=ip:NAME|subnet:NAME|both:NAME ...]
//	delete
//	delete-ip NAME                            a client's DELETE of a public IP
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step {
		var b *LB
		w := World{PublicIPs: map[string]*publicip.PublicIP{}, Subnets: map[string]string{}, Taken: publicip.Taken{}}
		draw := 0.0
		env := resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1,
			Float64: func() float64 { draw += 0.37; draw -= float64(int(draw)); return draw }}
		subnetID := func(name string) string {
			return "/subscriptions/" + sub + "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/" + name
		}
		return func(f []string, out *strings.Builder) error {
			args := scenariotest.Args(f[1:])
			var eff resource.Effects
			var err error
			switch f[0] {
			case "ip":
				spec := publicip.Spec{Location: or(args["location"], "eastus"), SKU: or(args["sku"], Standard), Tier: "Regional",
					Allocation: or(args["alloc"], publicip.Static), Version: publicip.IPv4}
				_, eff, err = publicip.Put(nil, sub, "rg", f[1], spec, false, w.Taken, env)
			case "subnet":
				w.Subnets[Key(subnetID(f[1]))] = "eastus"
				return nil
			case "put":
				spec := Spec{Location: or(args["location"], "eastus"), SKU: or(args["sku"], Standard), Tier: "Regional"}
				var names []string
				for k := range args {
					if k != "sku" && k != "location" {
						names = append(names, k)
					}
				}
				sort.Strings(names)
				for _, name := range names {
					how, ref, _ := strings.Cut(args[name], ":")
					fe := Frontend{Name: name}
					if how == "ip" || how == "both" {
						fe.PublicIP = publicip.ID(sub, "rg", ref)
					}
					if how == "subnet" || how == "both" {
						fe.Subnet = subnetID(ref)
					}
					spec.Frontends = append(spec.Frontends, fe)
				}
				_, eff, err = Put(b, sub, "rg", "lb", spec, w, env)
			case "delete":
				eff = Delete(b, w, env)
			case "delete-ip":
				eff, err = publicip.Delete(w.PublicIPs[Key(publicip.ID(sub, "rg", f[1]))], env)
			default:
				return fmt.Errorf("unknown command %q", f[0])
			}
			if err != nil {
				return scenariotest.WriteError(out, err)
			}
			scenariotest.WriteEffects(out, eff)
			for _, s := range eff.Put {
				switch s := s.(type) {
				case *LB:
					b = s
				case *publicip.PublicIP:
					w.PublicIPs[Key(s.ID)] = s
					if s.Address != "" {
						w.Taken[s.Address] = true
					}
				}
			}
			for _, s := range eff.Removed {
				switch s := s.(type) {
				case *LB:
					b = nil
				case *publicip.PublicIP:
					delete(w.PublicIPs, Key(s.ID))
				}
			}
			var ips []string
			for k := range w.PublicIPs {
				ips = append(ips, k)
			}
			sort.Strings(ips)
			for _, k := range ips {
				p := w.PublicIPs[k]
				fmt.Fprintf(out, "  ip %s %s %s address %q on %q\n", p.Name, p.Spec.SKU, p.Spec.Allocation, p.Address, p.IPConfiguration)
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
