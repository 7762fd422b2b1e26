package armapi

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/catalog"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// vmInput is the part of a VM body that azemu validates and acts on; the
// body itself is kept as the client sent it, less read-only and secret
// properties.
type vmInput struct {
	Location   string `json:"location"`
	Properties *struct {
		HardwareProfile *struct {
			VMSize string `json:"vmSize"`
		} `json:"hardwareProfile"`
		StorageProfile *struct {
			ImageReference *struct {
				ID                      string `json:"id"`
				Publisher               string `json:"publisher"`
				Offer                   string `json:"offer"`
				SKU                     string `json:"sku"`
				Version                 string `json:"version"`
				CommunityGalleryImageID string `json:"communityGalleryImageId"`
				SharedGalleryImageID    string `json:"sharedGalleryImageId"`
			} `json:"imageReference"`
			OSDisk *struct {
				OSType       string `json:"osType"`
				CreateOption string `json:"createOption"`
				ManagedDisk  *struct {
					ID string `json:"id"`
				} `json:"managedDisk"`
				Vhd *struct {
					URI string `json:"uri"`
				} `json:"vhd"`
			} `json:"osDisk"`
			DataDisks []json.RawMessage `json:"dataDisks"`
		} `json:"storageProfile"`
		OSProfile *struct {
			ComputerName         string          `json:"computerName"`
			AdminUsername        string          `json:"adminUsername"`
			AdminPassword        string          `json:"adminPassword"`
			WindowsConfiguration json.RawMessage `json:"windowsConfiguration"`
			LinuxConfiguration   *struct {
				DisablePasswordAuthentication bool `json:"disablePasswordAuthentication"`
				SSH                           *struct {
					PublicKeys []json.RawMessage `json:"publicKeys"`
				} `json:"ssh"`
			} `json:"linuxConfiguration"`
		} `json:"osProfile"`
		NetworkProfile *struct {
			NetworkInterfaces              []json.RawMessage `json:"networkInterfaces"`
			NetworkInterfaceConfigurations []json.RawMessage `json:"networkInterfaceConfigurations"`
		} `json:"networkProfile"`
		LicenseType    string `json:"licenseType"`
		Priority       string `json:"priority"`
		EvictionPolicy string `json:"evictionPolicy"`
		BillingProfile *struct {
			MaxPrice *json.Number `json:"maxPrice"` // read exactly, as money is
		} `json:"billingProfile"`
		AdditionalCapabilities *struct {
			HibernationEnabled bool `json:"hibernationEnabled"`
		} `json:"additionalCapabilities"`
		VirtualMachineScaleSet *struct {
			ID string `json:"id"`
		} `json:"virtualMachineScaleSet"`
	} `json:"properties"`
}

// keyTree is the shape of a JSON body by canonical property names; a nil
// subtree stops the walk.
type keyTree map[string]keyTree

// vmKeys holds every VM property azemu reads, writes or scrubs (it must
// cover vmInput). ARM matches property names case-insensitively, as does
// encoding/json when checkVM decodes vmInput, but normaliseVMModel and
// renderVM look keys up exactly: a body sending "Properties" or
// "AdminPassword" passed validation yet escaped the scrubbing, and the
// password was stored and shown on every GET. canonicalKeys renames them
// first, so every step sees the same, canonical, keys.
var vmKeys = keyTree{
	"id": nil, "name": nil, "type": nil, "etag": nil, "managedBy": nil, "resources": nil,
	"location": nil, "tags": nil,
	"properties": {
		"provisioningState": nil, "instanceView": nil, "vmId": nil, "timeCreated": nil,
		"licenseType": nil, "priority": nil, "evictionPolicy": nil,
		"hardwareProfile": {"vmSize": nil},
		"storageProfile": {
			"imageReference": {"id": nil, "publisher": nil, "offer": nil, "sku": nil, "version": nil,
				"communityGalleryImageId": nil, "sharedGalleryImageId": nil},
			"osDisk": {"osType": nil, "createOption": nil, "caching": nil, "deleteOption": nil, "name": nil, "diskSizeGB": nil,
				"managedDisk": {"id": nil, "storageAccountType": nil}, "vhd": {"uri": nil}},
			"dataDisks": nil,
		},
		"osProfile": {"computerName": nil, "adminUsername": nil, "adminPassword": nil, "customData": nil,
			"secrets": nil, "allowExtensionOperations": nil,
			"windowsConfiguration": {"provisionVMAgent": nil, "enableAutomaticUpdates": nil},
			"linuxConfiguration": {"disablePasswordAuthentication": nil, "provisionVMAgent": nil,
				"ssh": {"publicKeys": nil}}},
		"networkProfile":         {"networkInterfaces": nil, "networkInterfaceConfigurations": nil},
		"additionalCapabilities": {"hibernationEnabled": nil},
		"billingProfile":         {"maxPrice": nil},
		"virtualMachineScaleSet": {"id": nil},
	},
}

// canonicalKeys renames, in place, the keys of m that match a name of tree
// ignoring case (strings.EqualFold, the folding encoding/json uses) to that
// name, then walks the subtrees. When one property is sent under several
// casings, the exact name wins, else the first in sorted order (D); the
// others are dropped, so no variant of a secret survives.
func canonicalKeys(m map[string]any, tree keyTree) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := tree[k]; ok {
			continue
		}
		for name := range tree {
			if !strings.EqualFold(k, name) {
				continue
			}
			if _, taken := m[name]; !taken {
				m[name] = m[k]
			}
			delete(m, k)
			break
		}
	}
	for name, sub := range tree {
		if child, ok := m[name].(map[string]any); ok && sub != nil {
			canonicalKeys(child, sub)
		}
	}
}

// checkVM validates a VM body as Azure does and derives the engine's spec.
// Errors name the property, as Azure's InvalidParameter errors do. An
// update may leave out the admin password: Azure never returns it, so a
// client that PUTs back what it read has none.
func checkVM(name string, body map[string]any, update bool) (engine.VMSpec, *armerror.Error) {
	var spec engine.VMSpec
	var in vmInput
	if e := retyped(body, &in); e != nil {
		return spec, e
	}
	if strings.TrimSpace(in.Location) == "" {
		return spec, missingParameter("location")
	}
	p := in.Properties
	if p == nil {
		return spec, missingParameter("properties")
	}
	if p.HardwareProfile == nil || strings.TrimSpace(p.HardwareProfile.VMSize) == "" {
		return spec, missingParameter("hardwareProfile.vmSize")
	}
	size, ok := catalog.FindSize(p.HardwareProfile.VMSize)
	if !ok {
		return spec, invalidParameter("vmSize", "The value %s provided for the VM size is not valid. The valid sizes in the current region are: %s.",
			p.HardwareProfile.VMSize, strings.Join(catalog.SizeNames(), ","))
	}
	sp := p.StorageProfile
	if sp == nil || (sp.ImageReference == nil && sp.OSDisk == nil) {
		return spec, missingParameter("storageProfile.imageReference")
	}
	// Each size attaches so many data disks: a create with more, or a
	// resize (PUT or PATCH, whose merged body this is) to a size that
	// takes fewer than are attached, is refused as Azure refuses it.
	if len(sp.DataDisks) > size.MaxDataDisks {
		return spec, errorf("OperationNotAllowed", "dataDisks",
			"The maximum number of data disks allowed to be attached to a VM of this size is %d.", size.MaxDataDisks)
	}
	attach := sp.OSDisk != nil && strings.EqualFold(sp.OSDisk.CreateOption, "Attach")
	osType := ""
	if sp.OSDisk != nil {
		osType = normaliseOSType(sp.OSDisk.OSType)
	}
	switch {
	case attach:
		if sp.OSDisk.ManagedDisk == nil && sp.OSDisk.Vhd == nil {
			return spec, missingParameter("storageProfile.osDisk.managedDisk.id")
		}
		if osType == "" {
			return spec, missingParameter("storageProfile.osDisk.osType")
		}
		if p.OSProfile != nil {
			return spec, invalidParameter("osProfile", "Parameter 'osProfile' is not allowed.")
		}
		if sp.ImageReference != nil {
			return spec, invalidParameter("imageReference", "Parameter 'imageReference' is not allowed.")
		}
	default:
		img := sp.ImageReference
		if img == nil {
			return spec, missingParameter("storageProfile.imageReference")
		}
		if img.ID == "" && img.CommunityGalleryImageID == "" && img.SharedGalleryImageID == "" &&
			(img.Publisher == "" || img.Offer == "" || img.SKU == "") {
			return spec, invalidParameter("imageReference",
				"The value of parameter imageReference is invalid: give an id, or publisher, offer and sku.")
		}
		if osType == "" {
			osType = "Linux"
			if strings.Contains(strings.ToLower(img.Publisher+img.Offer+img.ID), "windows") {
				osType = "Windows"
			}
		}
		op := p.OSProfile
		if op == nil {
			return spec, missingParameter("osProfile")
		}
		if len(op.WindowsConfiguration) > 0 && string(op.WindowsConfiguration) != "null" {
			osType = "Windows"
		}
		if strings.TrimSpace(op.AdminUsername) == "" {
			return spec, missingParameter("adminUsername")
		}
		if strings.TrimSpace(op.ComputerName) == "" && len(name) > 15 && osType == "Windows" {
			return spec, invalidParameter("computerName", "The computer name of a Windows VM defaults to its name, which is longer than 15 characters; set osProfile.computerName.")
		}
		linuxKeysOnly := osType == "Linux" && op.LinuxConfiguration != nil && op.LinuxConfiguration.DisablePasswordAuthentication
		switch {
		case linuxKeysOnly:
			if op.LinuxConfiguration.SSH == nil || len(op.LinuxConfiguration.SSH.PublicKeys) == 0 {
				return spec, missingParameter("linuxConfiguration.ssh.publicKeys")
			}
		case op.AdminPassword == "" && !update:
			return spec, missingParameter("adminPassword")
		}
	}
	np := p.NetworkProfile
	if np == nil || (len(np.NetworkInterfaces) == 0 && len(np.NetworkInterfaceConfigurations) == 0) {
		return spec, missingParameter("networkProfile")
	}
	if p.Priority != "" && !oneOf(p.Priority, "Regular", "Spot", "Low") {
		return spec, invalidParameter("priority", "The value '%s' of parameter 'priority' is not allowed. Allowed values are 'Regular', 'Spot' and 'Low'.", p.Priority)
	}
	if p.EvictionPolicy != "" && !oneOf(p.EvictionPolicy, "Deallocate", "Delete") {
		return spec, invalidParameter("evictionPolicy", "The value '%s' of parameter 'evictionPolicy' is not allowed. Allowed values are 'Deallocate' and 'Delete'.", p.EvictionPolicy)
	}
	// A Spot VM's price cap: -1 pays up to the pay-as-you-go price (never
	// evicted for price), else a price in US dollars per hour above zero.
	if bp := p.BillingProfile; bp != nil && bp.MaxPrice != nil {
		if m, err := billing.ParseDecimal(bp.MaxPrice.String()); err != nil || (m.Sign() <= 0 && m.Cmp(big.NewRat(-1, 1)) != 0) {
			return spec, invalidParameter("billingProfile.maxPrice",
				"The value '%v' of parameter 'billingProfile.maxPrice' is not allowed. Allowed values are -1 or a price greater than 0.", bp.MaxPrice)
		}
	}
	spec = engine.VMSpec{
		Location:         armLocation(in.Location),
		VMSize:           p.HardwareProfile.VMSize,
		GeneralizedImage: !attach,
		OSType:           osType,
		LicenseType:      p.LicenseType,
		Priority:         canonicalOneOf(p.Priority, "Regular", "Spot", "Low"),
		EvictionPolicy:   canonicalOneOf(p.EvictionPolicy, "Deallocate", "Delete"),
	}
	if spec.Spot() && spec.EvictionPolicy == "" {
		spec.EvictionPolicy = "Deallocate"
	}
	if p.AdditionalCapabilities != nil {
		spec.HibernationEnabled = p.AdditionalCapabilities.HibernationEnabled
	}
	if p.VirtualMachineScaleSet != nil {
		spec.ScaleSetID = p.VirtualMachineScaleSet.ID
	}
	spec.ComputerName = name
	if p.OSProfile != nil && p.OSProfile.ComputerName != "" {
		spec.ComputerName = p.OSProfile.ComputerName
	}
	if sp.ImageReference != nil {
		spec.OSName, spec.OSVersion = guestOS(osType, sp.ImageReference.Offer, sp.ImageReference.SKU)
	}
	return spec, nil
}

// guestOSes are the OS names and versions the guest agent reports for a
// few well-known marketplace images (D), matched by a word of the SKU
// (Windows) or of the offer (Linux), first match first.
var (
	windowsGuests = [][3]string{
		{"2025", "Windows Server 2025 Datacenter", "10.0.26100"},
		{"2019", "Windows Server 2019 Datacenter", "10.0.17763"},
		{"2016", "Windows Server 2016 Datacenter", "10.0.14393"},
		{"", "Windows Server 2022 Datacenter", "10.0.20348"},
	}
	linuxGuests = [][3]string{{"debian", "debian", "12"}, {"rhel", "redhat", "9.4"}, {"sles", "sles", "15.6"}, {"almalinux", "almalinux", "9.4"}}
)

// guestOS is what the guest agent would report as the OS's name and version
// for a marketplace image (D: a few well-known offers; others by OS type).
func guestOS(osType, offer, sku string) (name, version string) {
	o, k := strings.ToLower(offer), strings.ToLower(sku)
	if osType == "Windows" {
		for _, g := range windowsGuests {
			if strings.Contains(k, g[0]) {
				return g[1], g[2]
			}
		}
	}
	if strings.Contains(o, "ubuntu") {
		for _, v := range []string{"24_04", "22_04", "20_04", "18_04", "24.04", "22.04", "20.04"} {
			if strings.Contains(o, v) || strings.Contains(k, strings.ReplaceAll(v, "_", "")) || strings.Contains(k, v) {
				return "ubuntu", strings.ReplaceAll(v, "_", ".")
			}
		}
		return "ubuntu", "24.04"
	}
	for _, g := range linuxGuests {
		if strings.Contains(o, g[0]) {
			return g[1], g[2]
		}
	}
	return "linux", ""
}

func oneOf(v string, allowed ...string) bool { return canonicalOneOf(v, allowed...) != "" }

func canonicalOneOf(v string, allowed ...string) string {
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	return ""
}

func normaliseOSType(s string) string { return canonicalOneOf(s, "Linux", "Windows") }

// armLocation is a location as ARM returns it: lower case, no spaces.
func armLocation(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
}

// readOnlyProps are properties a client may send back from a GET but that
// the server owns.
var readOnlyProps = []string{"provisioningState", "instanceView", "vmId", "timeCreated"}

// normaliseVMModel turns a request body into the model azemu keeps: the
// server-owned fields dropped, the admin password never stored, and the
// defaults Azure fills in on a GET added.
func normaliseVMModel(sub, rg, name string, body map[string]any, spec engine.VMSpec, newID func() string) map[string]any {
	m := map[string]any{}
	for k, v := range body {
		switch k {
		case "id", "name", "type", "etag", "managedBy", "resources":
			continue
		}
		m[k] = v
	}
	m["location"] = spec.Location
	props, _ := m["properties"].(map[string]any)
	for _, k := range readOnlyProps {
		delete(props, k)
	}
	dropUnset(props, unsetOmitted...)
	if op, ok := props["osProfile"].(map[string]any); ok {
		delete(op, "adminPassword")
		delete(op, "customData")
		if _, ok := op["computerName"]; !ok {
			op["computerName"] = name
		}
		if spec.OSType == "Linux" {
			lc, _ := op["linuxConfiguration"].(map[string]any)
			if lc == nil {
				lc = map[string]any{"disablePasswordAuthentication": false}
				op["linuxConfiguration"] = lc
			}
			setDefault(lc, "provisionVMAgent", true)
		} else if spec.OSType == "Windows" {
			wc, _ := op["windowsConfiguration"].(map[string]any)
			if wc == nil {
				wc = map[string]any{}
				op["windowsConfiguration"] = wc
			}
			setDefault(wc, "provisionVMAgent", true)
			setDefault(wc, "enableAutomaticUpdates", true)
		}
		setDefault(op, "secrets", []any{})
		setDefault(op, "allowExtensionOperations", true)
	}
	sp, _ := props["storageProfile"].(map[string]any)
	if sp != nil {
		od, _ := sp["osDisk"].(map[string]any)
		if od == nil {
			od = map[string]any{}
			sp["osDisk"] = od
		}
		setDefault(od, "osType", spec.OSType)
		setDefault(od, "createOption", "FromImage")
		setDefault(od, "caching", "ReadWrite")
		setDefault(od, "deleteOption", "Detach")
		diskName, _ := od["name"].(string)
		if diskName == "" {
			diskName = defaultOSDiskName(name, od, newID)
			od["name"] = diskName
		}
		md, _ := od["managedDisk"].(map[string]any)
		if md == nil && od["vhd"] == nil {
			md = map[string]any{}
			od["managedDisk"] = md
		}
		if md != nil {
			setDefault(md, "storageAccountType", "Premium_LRS")
			setDefault(md, "id", fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s", sub, rg, diskName))
		}
		if _, ok := od["diskSizeGB"]; !ok {
			od["diskSizeGB"] = 30
			if spec.OSType == "Windows" {
				od["diskSizeGB"] = 127
			}
		}
		setDefault(sp, "dataDisks", []any{})
		if dds, ok := sp["dataDisks"].([]any); ok {
			for _, dd := range dds {
				if d, ok := dd.(map[string]any); ok {
					normaliseDataDisk(sub, rg, name, d)
				}
			}
		}
	}
	return m
}

// unsetOmitted are the properties Compute leaves out of a GET when the
// client sent them empty: the azurerm provider sends
// "additionalCapabilities": {} for a VM or scale set that sets none, and
// would read a kept {} back as capabilities set to false (a plan that
// always differs).
var unsetOmitted = []string{"additionalCapabilities"}

// dropUnset deletes each of keys from m whose value is null or an object
// whose every member is null.
func dropUnset(m map[string]any, keys ...string) {
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		obj, isObj := v.(map[string]any)
		if v != nil && !isObj {
			continue
		}
		empty := true
		for _, member := range obj {
			if member != nil {
				empty = false
			}
		}
		if empty {
			delete(m, k)
		}
	}
}

// defaultOSDiskName is the name Azure gives an OS disk the body does not
// name: the attached disk's own name, or <vm>_OsDisk_1_<32 hex digits>.
func defaultOSDiskName(vm string, od map[string]any, newID func() string) string {
	if md, ok := od["managedDisk"].(map[string]any); ok {
		if id, _ := md["id"].(string); id != "" {
			if parsed, err := armid.Parse(id); err == nil {
				return parsed.Name()
			}
		}
	}
	return vm + "_OsDisk_1_" + strings.ReplaceAll(newID(), "-", "")
}

// normaliseDataDisk fills in a data disk's defaults as Azure shows them.
func normaliseDataDisk(sub, rg, vm string, d map[string]any) {
	lun, _ := d["lun"].(float64)
	name, _ := d["name"].(string)
	md, _ := d["managedDisk"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		d["managedDisk"] = md
	}
	if name == "" {
		if id, _ := md["id"].(string); id != "" {
			if parsed, err := armid.Parse(id); err == nil {
				name = parsed.Name()
			}
		}
	}
	if name == "" {
		name = fmt.Sprintf("%s_DataDisk_%d", vm, int(lun))
	}
	d["name"] = name
	setDefault(d, "caching", "None")
	setDefault(d, "deleteOption", "Detach")
	setDefault(d, "toBeDetached", false)
	setDefault(md, "storageAccountType", "Premium_LRS")
	setDefault(md, "id", fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/disks/%s", sub, rg, name))
}

// diskRefs reads the disks a normalised VM model names, checking the data
// disks as Azure does: a lun each, unique; a size for empty disks.
func diskRefs(model map[string]any) ([]engine.DiskRef, *armerror.Error) {
	props, _ := model["properties"].(map[string]any)
	sp, _ := props["storageProfile"].(map[string]any)
	if sp == nil {
		return nil, nil
	}
	var refs []engine.DiskRef
	if od, ok := sp["osDisk"].(map[string]any); ok {
		if md, ok := od["managedDisk"].(map[string]any); ok {
			ref := engine.DiskRef{OS: true, Name: str(od["name"]), ID: str(md["id"]), CreateOption: str(od["createOption"]),
				SKU: str(md["storageAccountType"]), DeleteOption: str(od["deleteOption"])}
			if n, ok := od["diskSizeGB"].(float64); ok {
				ref.SizeGB = int(n)
			} else if n, ok := od["diskSizeGB"].(int); ok {
				ref.SizeGB = n
			}
			refs = append(refs, ref)
		}
	}
	dds, _ := sp["dataDisks"].([]any)
	luns := map[int]bool{}
	for i, dd := range dds {
		d, ok := dd.(map[string]any)
		if !ok {
			return nil, invalidParameter(fmt.Sprintf("dataDisks[%d]", i), "A data disk must be an object.")
		}
		lun, ok := d["lun"].(float64)
		if !ok {
			return nil, missingParameter(fmt.Sprintf("dataDisks[%d].lun", i))
		}
		if luns[int(lun)] {
			return nil, invalidParameter("dataDisks", "Two data disks use LUN %d; each data disk needs its own LUN.", int(lun))
		}
		luns[int(lun)] = true
		if detach, _ := d["toBeDetached"].(bool); detach {
			continue
		}
		option := canonicalOneOf(str(d["createOption"]), "Empty", "Attach", "FromImage")
		if option == "" {
			return nil, invalidParameter(fmt.Sprintf("dataDisks[%d].createOption", i),
				"The value '%s' of parameter 'createOption' is not allowed. Allowed values are 'Empty', 'Attach' and 'FromImage'.", str(d["createOption"]))
		}
		size, _ := d["diskSizeGB"].(float64)
		if option == "Empty" && size <= 0 {
			return nil, missingParameter(fmt.Sprintf("dataDisks[%d].diskSizeGB", i))
		}
		md, _ := d["managedDisk"].(map[string]any)
		refs = append(refs, engine.DiskRef{Name: str(d["name"]), ID: str(md["id"]), CreateOption: option, SizeGB: int(size),
			SKU: str(md["storageAccountType"]), DeleteOption: str(d["deleteOption"])})
	}
	return refs, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// mergePatch applies an RFC 7386 JSON merge patch: objects merge, null
// deletes, anything else replaces.
func mergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, pv := range patch {
		if pv == nil {
			delete(target, k)
			continue
		}
		if pm, ok := pv.(map[string]any); ok {
			tm, _ := target[k].(map[string]any)
			target[k] = mergePatch(tm, pm)
			continue
		}
		target[k] = pv
	}
	return target
}

// renderVM is the VM as ARM shows it: the kept model plus the server-owned
// properties, with the instance view when asked for.
func renderVM(v *engine.VM, withInstanceView bool) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(v.Model.Bytes(), &m)
	if m == nil {
		m = map[string]any{}
	}
	out := map[string]any{}
	for k, val := range m {
		out[k] = val
	}
	out["id"] = v.ID
	out["name"] = v.Name
	out["type"] = "Microsoft.Compute/virtualMachines"
	out["location"] = v.Spec.Location
	out["etag"] = v.ETag()
	if v.Spec.ScaleSetID != "" {
		out["managedBy"] = v.Spec.ScaleSetID
	}
	props, _ := out["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		out["properties"] = props
	}
	props["vmId"] = v.VMID
	props["provisioningState"] = string(v.Machine.State.Provisioning)
	props["timeCreated"] = lifecycle.FormatTime(v.TimeCreated)
	if withInstanceView {
		props["instanceView"] = instanceView(v)
	}
	return out
}

// vmInstanceView is a VM's instance view in Azure's shape, typed so that
// rendering it is cheap: it is the most frequent read.
type vmInstanceView struct {
	// The host's update and fault domain, while the VM has one.
	PlatformUpdateDomain *int               `json:"platformUpdateDomain,omitempty"`
	PlatformFaultDomain  *int               `json:"platformFaultDomain,omitempty"`
	ComputerName         string             `json:"computerName,omitempty"`
	OSName               string             `json:"osName,omitempty"`
	OSVersion            string             `json:"osVersion,omitempty"`
	HyperVGeneration     string             `json:"hyperVGeneration,omitempty"`
	VMAgent              *vmAgentView       `json:"vmAgent,omitempty"`
	Disks                []diskStatusView   `json:"disks,omitempty"`
	Extensions           []extensionView    `json:"extensions,omitempty"`
	Statuses             []lifecycle.Status `json:"statuses"`
}

type vmAgentView struct {
	VMAgentVersion    string             `json:"vmAgentVersion"`
	Statuses          []lifecycle.Status `json:"statuses"`
	ExtensionHandlers []extensionHandler `json:"extensionHandlers"`
}

// extensionHandler is the agent's report of one extension handler it runs.
type extensionHandler struct {
	Type               string           `json:"type"`
	TypeHandlerVersion string           `json:"typeHandlerVersion"`
	Status             lifecycle.Status `json:"status"`
}

type diskStatusView struct {
	Name     string             `json:"name"`
	Statuses []lifecycle.Status `json:"statuses"`
}

// vmAgentVersion is the guest agent version azemu reports (D).
const vmAgentVersion = "2.13.1.1"

// instanceView is the VM's runtime view: its status entries, and what the
// guest agent reports once the OS is up (computer name, OS, agent status).
func instanceView(v *engine.VM) vmInstanceView {
	st := v.Machine.State
	iv := vmInstanceView{Statuses: st.Statuses()}
	if st.Power.Allocated() {
		// A VM outside an availability set or a spread scale set is in
		// domain 0 of both.
		zero := 0
		iv.PlatformUpdateDomain, iv.PlatformFaultDomain = &zero, &zero
	}
	if v.Spec.GeneralizedImage || v.Spec.OSType != "" {
		iv.HyperVGeneration = "V2"
	}
	// The agent reports once the guest runs and, for a generalized image,
	// once OS provisioning has begun reporting.
	agentUp := st.Power == lifecycle.Running
	if agentUp {
		iv.ComputerName = v.Spec.ComputerName
		iv.OSName, iv.OSVersion = v.Spec.OSName, v.Spec.OSVersion
		iv.VMAgent = &vmAgentView{VMAgentVersion: vmAgentVersion, ExtensionHandlers: []extensionHandler{}, Statuses: []lifecycle.Status{{
			Code: "ProvisioningState/succeeded", Level: lifecycle.Info, DisplayStatus: "Ready",
			Message: "GuestAgent is running and processing the extensions.", Time: statusTime(st.ProvisionedAt)}}}
	} else if st.Power.Allocated() {
		// On a host but not running: the agent is there, silent. A
		// deallocated VM has no agent to report at all.
		iv.VMAgent = &vmAgentView{VMAgentVersion: "Unknown", ExtensionHandlers: []extensionHandler{}, Statuses: []lifecycle.Status{{
			Code: "ProvisioningState/Unavailable", Level: lifecycle.Warning, DisplayStatus: "Not Ready",
			Message: "VM status blob is found but not yet populated.", Time: statusTime(st.ProvisionedAt)}}}
	} else if st.Power != "" {
		// Deallocated: no host, no agent; Compute says the agent is
		// unresponsive (D: its wording for an agent it cannot reach).
		iv.VMAgent = &vmAgentView{VMAgentVersion: "Unknown", ExtensionHandlers: []extensionHandler{}, Statuses: []lifecycle.Status{{
			Code: "ProvisioningState/Unavailable", Level: lifecycle.Warning, DisplayStatus: "Not Ready",
			Message: "VM Agent is unresponsive.", Time: statusTime(st.ProvisionedAt)}}}
	}
	for _, d := range v.Spec.Disks {
		iv.Disks = append(iv.Disks, diskStatusView{Name: d.Name, Statuses: []lifecycle.Status{{
			Code: "ProvisioningState/succeeded", Level: lifecycle.Info, DisplayStatus: "Provisioning succeeded", Time: statusTime(v.TimeCreated)}}})
	}
	return iv
}

func statusTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
