package nsg

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/azemu/azemu/internal/kinds/resource"
	"github.com/azemu/azemu/internal/kinds/scenariotest"
)

// A security group scenario scripts one group's rules. Commands:
//
//	put [RULE:PRIORITY:DIRECTION:ACCESS:PROTOCOL...]   the whole group
//	rule NAME PRIORITY DIRECTION ACCESS PROTOCOL       a PUT of one rule
//	delete-rule NAME
//	delete [USER...]                                   with the IDs using it
func TestScenarios(t *testing.T) {
	scenariotest.Run(t, func() scenariotest.Step {
		var g *NSG
		env := resource.Env{Now: scenariotest.Start, NewID: scenariotest.IDs(), Speed: 1}
		return func(f []string, out *strings.Builder) error {
			var eff resource.Effects
			var err error
			switch f[0] {
			case "put":
				var rules []Rule
				for _, a := range f[1:] {
					rules = append(rules, parseRule(strings.Split(a, ":")))
				}
				_, eff, err = Put(g, "00000000-0000-0000-0000-000000000001", "rg", "web", Spec{Location: "eastus"}, rules, env)
			case "rule":
				_, eff, err = PutRule(g, parseRule(f[1:]), env)
			case "delete-rule":
				_, eff, err = DeleteRule(g, f[1], env)
			case "delete":
				eff, err = Delete(g, f[1:], env)
			default:
				return fmt.Errorf("unknown command %q", f[0])
			}
			if err != nil {
				return scenariotest.WriteError(out, err)
			}
			scenariotest.WriteEffects(out, eff)
			g = nil
			for _, s := range eff.Put {
				g = s.(*NSG)
			}
			if g != nil {
				for _, r := range g.Rules {
					fmt.Fprintf(out, "  = %s %d %s %s %s\n", r.Name, r.Priority, r.Direction, r.Access, r.Protocol)
				}
			}
			return nil
		}
	})
}

func parseRule(p []string) Rule {
	prio, _ := strconv.Atoi(p[1])
	return Rule{Name: p[0], Priority: prio, Direction: p[2], Access: p[3], Protocol: p[4]}
}
