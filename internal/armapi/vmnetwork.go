package armapi

import (
	"fmt"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/engine"
)

// nicNaming says what the interfaces and public IPs a model's
// networkInterfaceConfigurations describe are called, and what becomes of
// them when their VM is deleted unless the configuration says.
type nicNaming struct {
	// nic is the ID of the interface of configuration name.
	nic func(name string) string
	// publicIP is the ID of the public IP configuration name of IP
	// configuration ipConfig of interface nicID describes.
	publicIP func(nicID, ipConfig, name string) string
	// deleteOption is what a configuration that does not say gets: ""
	// (Detach, a VM's default), or Delete.
	deleteOption string
	// owned means the interfaces and IPs go with their VM whatever the
	// configuration says (a Uniform scale set's instances).
	owned bool
	// subnetOptional lets an IP configuration name no subnet: its
	// interface is then not created (D: scale sets were accepted so before
	// azemu served their interfaces; Azure requires the subnet).
	subnetOptional bool
}

// vmNaming is how Compute names what a VM's configurations create:
// <vm>-<configuration>, and the public IP <vm>-<public IP configuration>
// (D: names of azemu's choosing), as top-level resources of its group.
func vmNaming(sub, rg, vm string) nicNaming {
	return nicNaming{
		nic: func(name string) string { return armid.NetworkID(sub, rg, "networkInterfaces", vm+"-"+name) },
		publicIP: func(_, _, name string) string {
			return armid.NetworkID(sub, rg, "publicIPAddresses", vm+"-"+strings.TrimSpace(name))
		},
	}
}

// instanceNaming is how Network names a Uniform scale set instance's
// interfaces and public IPs: under the instance, by their configurations'
// names (.../virtualMachineScaleSets/{set}/virtualMachines/{id}/networkInterfaces/{configuration}
// and .../ipConfigurations/{ipConfiguration}/publicIPAddresses/{name}).
// They live and die with the instance.
func instanceNaming(instanceID string) nicNaming {
	return nicNaming{
		nic: func(name string) string { return instanceID + "/networkInterfaces/" + name },
		publicIP: func(nicID, ipConfig, name string) string {
			return nicID + "/ipConfigurations/" + ipConfig + "/publicIPAddresses/" + strings.TrimSpace(name)
		},
		deleteOption: "Delete", owned: true, subnetOptional: true,
	}
}

// nicRefs reads the interfaces a normalised VM model's network profile
// names, and those its networkInterfaceConfigurations describe, named as
// naming says. Each described interface is added to the model's
// networkInterfaces, as Azure shows it.
func nicRefs(location string, model map[string]any, naming nicNaming) ([]engine.NICRef, *armerror.Error) {
	np := dig(model, "properties", "networkProfile")
	if np == nil {
		return nil, nil
	}
	listed, _ := np["networkInterfaces"].([]any)
	var refs []engine.NICRef
	seen := map[string]bool{}
	for i, x := range listed {
		m, _ := x.(map[string]any)
		id := canonicalID(str(m["id"]))
		if id == "" {
			return nil, missingParameter(fmt.Sprintf("networkProfile.networkInterfaces[%d].id", i))
		}
		props := dig(m, "properties")
		ref := engine.NICRef{ID: id, DeleteOption: canonicalOr(str(props["deleteOption"]), "Delete", "Detach")}
		ref.Primary, _ = props["primary"].(bool)
		refs = append(refs, ref)
		seen[armid.Key(id)] = true
	}
	configs, _ := np["networkInterfaceConfigurations"].([]any)
	for i, x := range configs {
		cfg, _ := x.(map[string]any)
		ref, e := nicTemplate(location, cfg, i, naming)
		if e != nil {
			return nil, e
		}
		if ref.ID == "" {
			continue
		}
		if seen[armid.Key(ref.ID)] {
			// Listed already (a client PUTting back what it read).
			for j := range refs {
				if armid.Equal(refs[j].ID, ref.ID) {
					refs[j].Create = ref.Create
				}
			}
			continue
		}
		refs = append(refs, ref)
		listed = append(listed, map[string]any{"id": ref.ID, "properties": map[string]any{"primary": ref.Primary, "deleteOption": ref.DeleteOption}})
	}
	if len(configs) > 0 && len(listed) > 0 {
		np["networkInterfaces"] = listed
	}
	// One interface is the primary one whether or not it says so.
	if len(refs) == 1 {
		refs[0].Primary = true
	}
	return refs, nil
}

func canonicalID(id string) string {
	if parsed, err := armid.Parse(id); err == nil {
		return parsed.String()
	}
	return id
}

// nicTemplate is the interface (and public IPs) one networkInterfaceConfigurations
// entry describes.
func nicTemplate(location string, cfg map[string]any, i int, naming nicNaming) (engine.NICRef, *armerror.Error) {
	name := str(cfg["name"])
	if name == "" {
		return engine.NICRef{}, missingParameter(fmt.Sprintf("networkProfile.networkInterfaceConfigurations[%d].name", i))
	}
	props := dig(cfg, "properties")
	ref := engine.NICRef{ID: naming.nic(name), DeleteOption: naming.deleteOptionOf(props)}
	ref.Primary, _ = props["primary"].(bool)
	spec := engine.NetworkInterfaceSpec{Location: location, NSG: refID(props, "networkSecurityGroup")}
	spec.AcceleratedNetworking, _ = props["enableAcceleratedNetworking"].(bool)
	spec.IPForwarding, _ = props["enableIPForwarding"].(bool)
	tmpl := &engine.NICTemplate{}
	ipConfigs, _ := props["ipConfigurations"].([]any)
	if len(ipConfigs) == 0 {
		// Nothing to connect: azemu creates no interface (Azure requires
		// ipConfigurations; earlier azemu accepted a configuration without).
		return engine.NICRef{}, nil
	}
	for j, y := range ipConfigs {
		m, _ := y.(map[string]any)
		cp := dig(m, "properties")
		c := engine.IPConfigSpec{Name: str(m["name"]), Subnet: refID(cp, "subnet"), Allocation: "Dynamic",
			Version: canonicalOr(str(cp["privateIPAddressVersion"]), "IPv4", "IPv6"), Pools: poolRefs(cp)}
		c.Primary, _ = cp["primary"].(bool)
		if c.Version == "" {
			c.Version = "IPv4"
		}
		if c.Subnet == "" && naming.subnetOptional {
			return engine.NICRef{}, nil
		}
		if c.Subnet == "" {
			return ref, missingParameter(fmt.Sprintf("networkInterfaceConfigurations[%d].properties.ipConfigurations[%d].properties.subnet.id", i, j))
		}
		if pc := dig(cp, "publicIPAddressConfiguration"); pc != nil {
			ip, e := publicIPTemplate(location, pc, func(name string) string { return naming.publicIP(ref.ID, c.Name, name) }, naming)
			if e != nil {
				return ref, e
			}
			c.PublicIP = ip.ID
			tmpl.PublicIPs = append(tmpl.PublicIPs, ip)
		}
		spec.IPConfigs = append(spec.IPConfigs, c)
	}
	tmpl.Spec = spec
	ref.Create = tmpl
	return ref, nil
}

// deleteOptionOf is the deleteOption of a configuration's properties, as
// naming has it.
func (naming nicNaming) deleteOptionOf(props map[string]any) string {
	if naming.owned {
		return "Delete"
	}
	if o := canonicalOr(str(props["deleteOption"]), "Delete", "Detach"); o != "" {
		return o
	}
	return naming.deleteOption
}

func publicIPTemplate(location string, pc map[string]any, idOf func(name string) string, naming nicNaming) (engine.PublicIPTemplate, *armerror.Error) {
	name := str(pc["name"])
	if name == "" {
		return engine.PublicIPTemplate{}, missingParameter("publicIPAddressConfiguration.name")
	}
	props := dig(pc, "properties")
	body := map[string]any{"location": location, "sku": pc["sku"], "properties": map[string]any{
		"publicIPAllocationMethod": props["publicIPAllocationMethod"], "publicIPAddressVersion": props["publicIPAddressVersion"],
		"idleTimeoutInMinutes": props["idleTimeoutInMinutes"]}}
	if body["sku"] == nil {
		delete(body, "sku")
	}
	b, e := readNetPut(body)
	if e != nil {
		return engine.PublicIPTemplate{}, e
	}
	spec, e := publicIPSpec(b)
	if e != nil {
		return engine.PublicIPTemplate{}, e
	}
	spec.DeleteOption = naming.deleteOptionOf(props)
	if spec.DeleteOption == "" {
		spec.DeleteOption = "Detach"
	}
	return engine.PublicIPTemplate{ID: idOf(name), Spec: spec}, nil
}
