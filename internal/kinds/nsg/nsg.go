// Package nsg decides network security groups and their security rules:
// each rule's priority lies in 100-4096 and no two rules of one
// direction share one, and a group that a subnet or a network interface
// uses cannot be deleted. Rules are part of their group's snapshot (Azure
// serves them inline and as child resources). It is pure: the caller
// passes who uses the group.
package nsg

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/kinds/network"
	"github.com/azemu/azemu/internal/kinds/resource"
)

// Type is the ARM type of network security groups.
const Type = network.Namespace + "/networkSecurityGroups"

// RuleType is the ARM type of their security rules.
const RuleType = Type + "/securityRules"

// Rule is one security rule: what the rules decide over, and its
// properties as written.
type Rule struct {
	Name      string          `json:"name"`
	Priority  int             `json:"priority"`
	Direction string          `json:"direction"` // Inbound or Outbound
	Access    string          `json:"access"`    // Allow or Deny
	Protocol  string          `json:"protocol"`  // Tcp, Udp, Icmp, Esp, Ah, *
	Model     json.RawMessage `json:"model,omitempty"`
}

// NSG is a network security group snapshot with its rules.
type NSG struct {
	network.Base
	Spec  Spec   `json:"spec"`
	Rules []Rule `json:"rules"`
}

// Spec is what azemu keeps of a group's model.
type Spec struct {
	Location string          `json:"location"`
	Model    json.RawMessage `json:"model,omitempty"` // tags as written
}

// Location is where the group is.
func (g *NSG) Location() string { return g.Spec.Location }

// ResourceType is Type.
func (g *NSG) ResourceType() string { return Type }

// Row is the group as the store keeps it.
func (g *NSG) Row() resource.Row { return g.Base.Row(g, g.Spec.Location) }

// Decode reads a group back from its stored row.
var Decode = resource.Decode[NSG]

// ID is the ID of the group named name in a resource group.
func ID(sub, rg, name string) string {
	return armid.NetworkID(sub, rg, "networkSecurityGroups", name)
}

// RuleID is the ID of a rule of g.
func (g *NSG) RuleID(name string) string { return armid.ChildID(g.ID, "securityRules", name) }

// Rule returns the rule named name, ignoring case.
func (g *NSG) Rule(name string) (Rule, bool) {
	return network.Find(g.Rules, func(r Rule) string { return r.Name }, name)
}

// NotFound is the error of a request naming a group that does not exist.
func NotFound(rg, name string) error {
	return network.NotFound("networkSecurityGroups", rg, name)
}

// RuleNotFound is the error of a request naming a rule that does not exist.
func RuleNotFound(group, name string) error {
	return &resource.Error{Code: "NotFound", Message: fmt.Sprintf("Resource /securityRules/%s of network security group %s not found.", name, group)}
}

// DefaultRule is one of the rules every group has below its own.
type DefaultRule struct {
	Name, Description, Protocol, Source, Destination, Access, Direction string
	Priority                                                            int
}

// DefaultRules are the six rules Azure gives every group: traffic within
// the virtual network and from the load balancer in, everything out to
// the virtual network and the internet, the rest denied.
var DefaultRules = []DefaultRule{
	{"AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "*", "VirtualNetwork", "VirtualNetwork", "Allow", "Inbound", 65000},
	{"AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "*", "AzureLoadBalancer", "*", "Allow", "Inbound", 65001},
	{"DenyAllInBound", "Deny all inbound traffic", "*", "*", "*", "Deny", "Inbound", 65500},
	{"AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "*", "VirtualNetwork", "VirtualNetwork", "Allow", "Outbound", 65000},
	{"AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "*", "Internet", "Allow", "Outbound", 65001},
	{"DenyAllOutBound", "Deny all outbound traffic", "*", "*", "*", "Deny", "Outbound", 65500},
}

// Put decides a client's PUT of a group with its rules (inline). old is
// the group as it is (nil when new).
func Put(old *NSG, sub, rg, name string, spec Spec, rules []Rule, env resource.Env) (*NSG, resource.Effects, error) {
	g, err := network.Next(old, spec.Location, func() *NSG { return &NSG{Base: network.Fresh(sub, rg, "networkSecurityGroups", name, env)} })
	if err != nil {
		return nil, resource.Effects{}, err
	}
	g.Spec, g.Rules = spec, rules
	if err := checkRules(rules); err != nil {
		return nil, resource.Effects{}, err
	}
	return g, resource.Effects{Put: []resource.State{g}}, nil
}

// PutRule decides a PUT of one rule of g.
func PutRule(g *NSG, r Rule, env resource.Env) (*NSG, resource.Effects, error) {
	return Put(g, g.SubscriptionID, g.ResourceGroup, g.Name, g.Spec, network.Upsert(g.Rules, r, ruleName), env)
}

// DeleteRule decides a DELETE of one rule of g.
func DeleteRule(g *NSG, name string, env resource.Env) (*NSG, resource.Effects, error) {
	return Put(g, g.SubscriptionID, g.ResourceGroup, g.Name, g.Spec, network.Without(g.Rules, ruleName, name), env)
}

func ruleName(r *Rule) *string { return &r.Name }

// Delete decides a client's DELETE; users are the IDs of the subnets and
// network interfaces linked to g, and any refuses it.
func Delete(g *NSG, users []string, env resource.Env) (resource.Effects, error) {
	if len(users) > 0 {
		return resource.Effects{}, network.Refusal("InUseNetworkSecurityGroupCannotBeDeleted", "", fmt.Sprintf(
			"Network security group %s cannot be deleted because it is in use by the following resources: %s. In order to delete the Network security group, remove the association with the resource(s). To learn how to do this, see aka.ms/deletensg.",
			g.ID, strings.Join(users, ", ")))
	}
	return Remove(g, "", env), nil
}

// Remove decides the deletion of a group whatever its state (its resource
// group is deleted).
func Remove(g *NSG, _ string, _ resource.Env) resource.Effects {
	return resource.Effects{Removed: []resource.State{g}}
}

// checkRules holds Azure's rules for security rules: a priority in
// 100-4096, unique per direction, and Azure's vocabulary for the rest.
func checkRules(rules []Rule) error {
	seen := map[string]string{}
	names := map[string]bool{}
	for _, r := range rules {
		if names[strings.ToLower(r.Name)] {
			return network.Refusal("InvalidRequestFormat", "", fmt.Sprintf("Cannot parse the request: two security rules are named '%s'.", r.Name))
		}
		names[strings.ToLower(r.Name)] = true
		if r.Priority < 100 || r.Priority > 4096 {
			return network.Refusal("SecurityRuleInvalidPriority", "", fmt.Sprintf(
				"Security rule has invalid Priority. Value provided: %d Allowed range 100-4096.", r.Priority))
		}
		for _, f := range [][3]string{
			{"direction", r.Direction, "Inbound|Outbound"},
			{"access", r.Access, "Allow|Deny"},
			{"protocol", r.Protocol, "Tcp|Udp|Icmp|Esp|Ah|*"},
		} {
			field, pair := f[0], f[1:]
			if !oneOf(pair[0], strings.Split(pair[1], "|")) {
				return network.Refusal("SecurityRuleParameterContainsUnsupportedValue", "", fmt.Sprintf(
					"Security rule parameter %s for rule with Id %s contains unsupported value '%s'. Allowed values are %s.",
					field, r.Name, pair[0], strings.ReplaceAll(pair[1], "|", ", ")))
			}
		}
		key := fmt.Sprintf("%s/%d", strings.ToLower(r.Direction), r.Priority)
		if other, ok := seen[key]; ok {
			return network.Refusal("SecurityRuleConflict", "", fmt.Sprintf(
				"Security rule %s conflicts with rule %s. Rules cannot have the same Priority and Direction. To learn more, see aka.ms/nsgrules.", r.Name, other))
		}
		seen[key] = r.Name
	}
	return nil
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}
