package armapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/azemu/azemu/internal/armerror"
	"github.com/azemu/azemu/internal/armid"
	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
	"github.com/azemu/azemu/internal/lifecycle"
)

// diskSKUs are the managed disk SKUs azemu accepts, with their tier family.
var diskSKUs = map[string]string{
	"premium_lrs":     "Premium_LRS",
	"standardssd_lrs": "StandardSSD_LRS",
	"standard_lrs":    "Standard_LRS",
	"premium_zrs":     "Premium_ZRS",
	"standardssd_zrs": "StandardSSD_ZRS",
	"premiumv2_lrs":   "PremiumV2_LRS",
	"ultrassd_lrs":    "UltraSSD_LRS",
}

type diskInput struct {
	Location string             `json:"location"`
	Tags     map[string]*string `json:"tags"`
	SKU      *struct {
		Name string `json:"name"`
	} `json:"sku"`
	Properties *struct {
		DiskSizeGB   int    `json:"diskSizeGB"`
		OSType       string `json:"osType"`
		CreationData *struct {
			CreateOption     string          `json:"createOption"`
			ImageReference   json.RawMessage `json:"imageReference"`
			GalleryImageRef  json.RawMessage `json:"galleryImageReference"`
			SourceResourceID string          `json:"sourceResourceId"`
		} `json:"creationData"`
	} `json:"properties"`
}

// checkDisk validates a disk body as Azure does and returns its spec.
func (s *Server) checkDisk(body map[string]any, old *engine.Disk) (engine.DiskSpec, *armerror.Error) {
	var in diskInput
	if e := retyped(body, &in); e != nil {
		return engine.DiskSpec{}, e
	}
	if strings.TrimSpace(in.Location) == "" {
		return engine.DiskSpec{}, missingParameter("location")
	}
	spec := engine.DiskSpec{Location: armLocation(in.Location), SKU: "Standard_LRS"}
	if old != nil {
		spec = old.Spec
		spec.Location = armLocation(in.Location)
	}
	if in.SKU != nil && in.SKU.Name != "" {
		sku, ok := diskSKUs[strings.ToLower(in.SKU.Name)]
		if !ok {
			return spec, invalidParameter("sku.name", "The value '%s' of parameter 'sku.name' is not allowed.", in.SKU.Name)
		}
		spec.SKU = sku
	}
	p := in.Properties
	if p == nil {
		if old == nil {
			return spec, missingParameter("properties")
		}
	} else {
		if p.OSType != "" {
			spec.OSType = normaliseOSType(p.OSType)
		}
		if p.DiskSizeGB > 0 {
			spec.SizeGB = p.DiskSizeGB
		}
		if old == nil {
			cd := p.CreationData
			if cd == nil || cd.CreateOption == "" {
				return spec, missingParameter("creationData.createOption")
			}
			switch option := canonicalOneOf(cd.CreateOption, "Empty", "FromImage", "Copy"); option {
			case "Empty":
				if p.DiskSizeGB <= 0 {
					return spec, missingParameter("diskSizeGB")
				}
			case "FromImage":
				if len(cd.ImageReference) == 0 && len(cd.GalleryImageRef) == 0 {
					return spec, missingParameter("creationData.imageReference")
				}
				if spec.SizeGB == 0 {
					spec.SizeGB = 30
				}
			case "Copy":
				src, err := s.sourceDisk(cd.SourceResourceID)
				if err != nil {
					return spec, err
				}
				if spec.SizeGB == 0 {
					spec.SizeGB = src.Spec.SizeGB
				}
				if spec.OSType == "" {
					spec.OSType = src.Spec.OSType
				}
			default:
				return spec, invalidParameter("creationData.createOption",
					"The value '%s' of parameter 'createOption' is not supported by azemu. Supported values are 'Empty', 'FromImage' and 'Copy'.", cd.CreateOption)
			}
			spec.CreateOption = canonicalOneOf(cd.CreateOption, "Empty", "FromImage", "Copy")
		}
	}
	if spec.SizeGB > 32767 {
		return spec, invalidParameter("diskSizeGB", "The disk size %d GB is larger than the largest managed disk, 32767 GB.", spec.SizeGB)
	}
	model := map[string]any{}
	if in.Tags != nil {
		model["tags"] = tagsOf(in.Tags)
	} else if old != nil && len(old.Spec.Model) > 0 {
		_ = json.Unmarshal(old.Spec.Model, &model)
	}
	if p != nil && p.CreationData != nil {
		cd, _ := dig(body, "properties")["creationData"].(map[string]any)
		model["creationData"] = cd
	} else if old != nil {
		var prev map[string]any
		_ = json.Unmarshal(old.Spec.Model, &prev)
		if cd, ok := prev["creationData"]; ok {
			model["creationData"] = cd
		}
	}
	spec.Model, _ = json.Marshal(model)
	return spec, nil
}

func (s *Server) sourceDisk(id string) (*engine.Disk, *armerror.Error) {
	parsed, err := armid.Parse(id)
	if err != nil || !strings.EqualFold(parsed.Type(), engine.DiskType) {
		return nil, invalidParameter("creationData.sourceResourceId", "'%s' is not the ID of a managed disk.", id)
	}
	d, gerr := s.eng.GetDisk(parsed.SubscriptionID, parsed.ResourceGroup, parsed.Name())
	if gerr != nil {
		return nil, errorf("NotFound", "creationData.sourceResourceId", "The source disk '%s' was not found.", id)
	}
	return d, nil
}

func (s *Server) putDisk(r *request, sub, rg, name string, patch bool) {
	var body map[string]any
	if !s.readJSON(r, &body) {
		return
	}
	if patch {
		old, err := s.eng.GetDisk(sub, rg, name)
		if err != nil {
			s.writeErr(r, err)
			return
		}
		// A PATCH names only what changes; the location stays.
		body["location"] = old.Spec.Location
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{
		ID: armid.ComputeID(sub, rg, "disks", name), Verb: engine.VerbPut,
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Build: engine.Build(func(old *engine.Disk) (any, error) {
			if patch && old == nil {
				return nil, armerror.New(armerror.CodeResourceNotFound, "The disk '%s' was not found.", name)
			}
			return asError(s.checkDisk(body, old))
		}),
	})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	d := res.State.(*engine.Disk)
	// Disks answer 200 for a create too: Azure's disk API knows no 201,
	// and its clients reject one.
	r.w.Header().Set("ETag", d.ETag())
	s.writeJSON(r, http.StatusOK, s.renderDisk(d))
}

func (s *Server) getDisk(sub, rg, name string) (reply, error) {
	d, err := s.eng.GetDisk(sub, rg, name)
	if err != nil {
		return reply{}, err
	}
	return tagged(d.ETag(), s.renderDisk(d))
}

func (s *Server) deleteDisk(r *request, sub, rg, name string) {
	if _, ok := s.eng.Group(sub, rg); !ok {
		s.writeErr(r, armerror.ResourceGroupNotFound(rg))
		return
	}
	res, err := s.eng.Do(ctxWithoutCancel(r.Context()), engine.Command{ID: armid.ComputeID(sub, rg, "disks", name), Verb: engine.VerbDelete})
	if err != nil {
		s.writeErr(r, err)
		return
	}
	if !res.Found {
		r.w.WriteHeader(http.StatusNoContent)
		return
	}
	r.w.WriteHeader(http.StatusOK)
}

func (s *Server) listDisks(r *request, sub, rg string) {
	prefix := "/subscriptions/" + strings.ToLower(sub) + "/"
	if rg != "" {
		if _, ok := s.eng.Group(sub, rg); !ok {
			s.writeErr(r, armerror.ResourceGroupNotFound(rg))
			return
		}
		prefix = strings.ToLower(armid.ResourceGroupID(sub, rg)) + "/providers/microsoft.compute/disks/"
	}
	page, next := s.eng.ListDisks(func(d *engine.Disk) bool { return strings.HasPrefix(strings.ToLower(d.ID), prefix) && r.readable(d.ID) },
		r.URL.Query().Get("$skiptoken"), s.pageSize)
	value := make([]any, 0, len(page))
	for _, d := range page {
		value = append(value, s.renderDisk(d))
	}
	s.writeList(r, value, next)
}

// diskSKUTier is the sku.tier Azure shows for a SKU.
func diskSKUTier(sku string) string {
	switch {
	case strings.HasPrefix(sku, "PremiumV2"), strings.HasPrefix(sku, "Premium"):
		return "Premium"
	case strings.HasPrefix(sku, "Ultra"):
		return "Ultra"
	}
	return "Standard"
}

// renderDisk is the disk as ARM shows it.
// diskState is DiskRP's diskState: an attached disk is Reserved while its
// VM is deallocated and Frozen while it is hibernated (DiskRP 2024-03-02
// DiskState), which orphan-disk and FinOps tools key on.
func (s *Server) diskState(d *engine.Disk) string {
	state := d.State()
	if d.ManagedBy == "" {
		return state
	}
	if vm, ok := s.eng.VMByID(d.ManagedBy); ok && vm.Machine.State.Power == lifecycle.Deallocated {
		if vm.Machine.State.Hibernated {
			return "Frozen"
		}
		return "Reserved"
	}
	return state
}

func (s *Server) renderDisk(d *engine.Disk) map[string]any {
	var model map[string]any
	_ = json.Unmarshal(d.Spec.Model, &model)
	props := map[string]any{
		"diskSizeGB":          d.Spec.SizeGB,
		"diskSizeBytes":       int64(d.Spec.SizeGB) << 30,
		"uniqueId":            d.UniqueID,
		"provisioningState":   "Succeeded",
		"diskState":           s.diskState(d),
		"timeCreated":         lifecycle.FormatTime(d.TimeCreated),
		"encryption":          map[string]any{"type": "EncryptionAtRestWithPlatformKey"},
		"networkAccessPolicy": "AllowAll",
		"publicNetworkAccess": "Enabled",
	}
	if cd, ok := model["creationData"]; ok && cd != nil {
		props["creationData"] = cd
	} else {
		props["creationData"] = map[string]any{"createOption": d.Spec.CreateOption}
	}
	if d.Spec.OSType != "" {
		props["osType"] = d.Spec.OSType
	}
	if tier, ok := billing.DiskTier(d.Spec.SKU, d.Spec.SizeGB); ok {
		props["tier"] = tier
	}
	out := map[string]any{
		"id":         d.ID,
		"name":       d.Name,
		"type":       engine.DiskType,
		"location":   d.Spec.Location,
		"sku":        map[string]any{"name": d.Spec.SKU, "tier": diskSKUTier(d.Spec.SKU)},
		"properties": props,
	}
	if tags, ok := model["tags"]; ok {
		out["tags"] = tags
	}
	if d.ManagedBy != "" {
		out["managedBy"] = d.ManagedBy
	}
	return out
}
