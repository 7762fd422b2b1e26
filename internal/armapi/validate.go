package armapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/azemu/azemu/internal/armerror"
)

// checkWriteBody runs, for every ARM PUT and PATCH, the checks Azure makes
// of a body whatever the resource kind: the media type, tags, location,
// and the disk and zone properties Compute shares between VMs, scale sets
// and disks. It answers the error itself and returns false; on true the
// body is left for the handler to read again.
func (s *Server) checkWriteBody(r *request) bool {
	if r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return true
	}
	if ct := r.Header.Get("Content-Type"); !isJSON(ct) {
		s.writeError(r, errorf("UnsupportedMediaType", "",
			"The content media type '%s' is not supported. Only 'application/json' is supported.", ct))
		return false
	}
	body, ok := s.readBody(r)
	if !ok {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return true // the handler answers what is wrong with it
	}
	kind := writeKind(r)
	if e := checkBody(kind, r.Method == http.MethodPut, doc); e != nil {
		s.writeError(r, e)
		return false
	}
	return true
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json"
}

// Resource kinds whose bodies checkBody knows.
const (
	kindGroup    = "resourceGroups"
	kindVM       = "virtualMachines"
	kindScaleSet = "virtualMachineScaleSets"
	kindDisk     = "disks"
	kindOther    = ""
)

// writeKind names the kind a PUT or PATCH path writes.
func writeKind(r *request) string {
	n := len(r.lower)
	switch {
	case n == 4 && r.seg(2, "resourcegroups"):
		return kindGroup
	case n == 8 && r.seg(6, "virtualmachines"):
		return kindVM
	case n == 8 && r.seg(6, "virtualmachinescalesets"):
		return kindScaleSet
	case n == 8 && r.seg(6, "disks"):
		return kindDisk
	}
	return kindOther
}

// Limits Azure sets (Resource Manager's on tags; Compute's on disks).
const (
	maxTags           = 50
	maxTagNameLen     = 512
	maxTagValueLen    = 256
	maxDiskSizeGB     = 32767 // a managed disk's largest size, Premium SSD v2 and Ultra aside
	maxOSDiskSizeGB   = 4095  // an OS disk's
	maxDataDisks      = 64    // the most any VM size attaches
	maxLUN            = 63
	maxComputerName   = 64 // a Linux host name; Windows' 15 is checked with the OS
	tagNameReservedIn = "<>%&\\?/"
)

// checkBody checks a decoded PUT or PATCH body of kind.
func checkBody(kind string, put bool, doc map[string]any) *armerror.Error {
	if tags, ok := field(doc, "tags"); ok && tags != nil {
		if e := checkTags(tags); e != nil {
			return e
		}
	}
	if loc, ok := field(doc, "location"); ok && put && kind != kindOther {
		if s, isString := loc.(string); isString && strings.TrimSpace(s) != "" && !knownLocation(armLocation(s)) {
			if kind == kindGroup {
				return errorf("LocationNotAvailableForResourceGroup", "",
					"The provided location '%s' is not available for resource group. List of available regions is '%s'.", s, strings.Join(locations, ","))
			}
			return errorf("LocationNotAvailableForResourceType", "",
				"The provided location '%s' is not available for resource type 'Microsoft.Compute/%s'. List of available regions for the resource type is '%s'.",
				s, kind, strings.Join(locations, ","))
		}
	}
	if kind == kindGroup || kind == kindOther {
		return nil
	}
	if e := checkZones(kind, doc); e != nil {
		return e
	}
	if e := checkIdentity(doc); e != nil {
		return e
	}
	props, _ := field(doc, "properties")
	switch kind {
	case kindDisk:
		if size, ok := field(props, "diskSizeGB"); ok && size != nil {
			return checkDiskSize("diskSizeGB", size, maxDiskSizeGB)
		}
	case kindVM:
		if e := checkStorageProfile("", props); e != nil {
			return e
		}
		if op, ok := field(props, "osProfile"); ok {
			if cn, ok := field(op, "computerName"); ok {
				if s, isString := cn.(string); isString && utf8.RuneCountInString(s) > maxComputerName {
					return invalidParameter("osProfile.computerName",
						"The value of parameter osProfile.computerName is invalid: a computer name has at most %d characters (15 on Windows).", maxComputerName)
				}
			}
		}
	case kindScaleSet:
		vp, _ := field(props, "virtualMachineProfile")
		return checkStorageProfile("virtualMachineProfile.", vp)
	}
	return nil
}

// checkTags applies Resource Manager's tag rules.
func checkTags(v any) *armerror.Error {
	tags, ok := v.(map[string]any)
	if !ok {
		return errorf("InvalidRequestContent", "tags",
			"The request content was invalid and could not be deserialized: 'tags' must be an object of names to string values.")
	}
	if len(tags) > maxTags {
		return errorf("InvalidTags", "tags",
			"Too many tags specified. Requested tag count - '%d'. Maximum number of tags allowed - '%d'.", len(tags), maxTags)
	}
	for name, value := range tags {
		if strings.TrimSpace(name) == "" {
			return errorf("InvalidTagName", "tags",
				"The tag name must be non-null, non-empty and non-whitespace only. Please provide an actual value.")
		}
		if utf8.RuneCountInString(name) > maxTagNameLen {
			return errorf("InvalidTagName", "tags",
				"Tag key too large. Following tag name '%s' exceeded the maximum length. Maximum allowed length for tag name - '%d' characters.", truncate(name), maxTagNameLen)
		}
		if strings.ContainsAny(name, tagNameReservedIn) || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return errorf("InvalidTagNameCharacters", "tags",
				"The tag names '%s' have reserved characters '<,>,%%,&,\\,?,/' or control characters.", name)
		}
		s, isString := value.(string)
		if !isString && value != nil {
			return errorf("InvalidRequestContent", "tags",
				"The request content was invalid and could not be deserialized: the value of tag '%s' must be a string.", name)
		}
		if utf8.RuneCountInString(s) > maxTagValueLen {
			return errorf("InvalidTagValueLength", "tags",
				"Tag value too large. Following tag value '%s' exceeded the maximum length. Maximum allowed length for tag value - '%d' characters.", truncate(s), maxTagValueLen)
		}
	}
	return nil
}

// checkZones allows the zones Azure's zonal regions have, "1" to "3"; a
// VM or disk is in at most one.
func checkZones(kind string, doc map[string]any) *armerror.Error {
	zones, e := arrayField(doc, "zones")
	if e != nil {
		return e
	}
	if kind != kindScaleSet && len(zones) > 1 {
		return invalidParameter("zones", "A %s can be in at most one availability zone; %d were given.", strings.TrimSuffix(kind, "s"), len(zones))
	}
	for _, z := range zones {
		if s, _ := z.(string); s != "1" && s != "2" && s != "3" {
			return invalidParameter("zones", "The zone(s) '%v' is not supported. The supported zones are '1,2,3'.", z)
		}
	}
	return nil
}

// checkIdentity allows the managed identity types ARM defines.
func checkIdentity(doc map[string]any) *armerror.Error {
	id, ok := field(doc, "identity")
	if !ok || id == nil {
		return nil
	}
	t, _ := field(id, "type")
	s, _ := t.(string)
	switch strings.ToLower(strings.ReplaceAll(s, " ", "")) {
	case "none", "systemassigned", "userassigned", "systemassigned,userassigned":
		return nil
	}
	return invalidParameter("identity.type",
		"The value '%v' of parameter 'identity.type' is not allowed. Allowed values are 'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned' and 'None'.", t)
}

// checkStorageProfile checks the OS disk's and data disks' sizes and LUNs.
func checkStorageProfile(prefix string, props any) *armerror.Error {
	sp, _ := field(props, "storageProfile")
	if od, ok := field(sp, "osDisk"); ok {
		if size, ok := field(od, "diskSizeGB"); ok && size != nil {
			if e := checkDiskSize(prefix+"storageProfile.osDisk.diskSizeGB", size, maxOSDiskSizeGB); e != nil {
				return e
			}
		}
	}
	disks, e := arrayField(sp, "dataDisks")
	if e != nil {
		return e
	}
	if len(disks) > maxDataDisks {
		return errorf("OperationNotAllowed", "dataDisks",
			"The maximum number of data disks allowed to be attached to a VM of this size is %d.", maxDataDisks)
	}
	for i, d := range disks {
		target := fmt.Sprintf("%sstorageProfile.dataDisks[%d]", prefix, i)
		if lun, ok := field(d, "lun"); ok {
			n, isInt := wholeNumber(lun)
			if !isInt || n < 0 || n > maxLUN {
				return invalidParameter(target+".lun", "The value '%v' of parameter 'lun' is out of range. The value must be between 0 and %d, inclusive.", lun, maxLUN)
			}
		}
		if size, ok := field(d, "diskSizeGB"); ok && size != nil {
			if e := checkDiskSize(target+".diskSizeGB", size, maxDiskSizeGB); e != nil {
				return e
			}
		}
	}
	return nil
}

// checkDiskSize allows a whole number of GiB from 1 to most.
func checkDiskSize(target string, v any, most int64) *armerror.Error {
	n, ok := wholeNumber(v)
	if _, isNumber := v.(json.Number); !isNumber {
		return errorf("InvalidRequestContent", target,
			"The request content was invalid and could not be deserialized: '%s' must be an integer, not %s.", target, jsonText(v))
	}
	if !ok || n < 1 || n > most {
		return invalidParameter(target, "The value '%v' of parameter '%s' is out of range. The value must be between 1 and %d, inclusive.", v, target, most)
	}
	return nil
}

// wholeNumber reads a JSON number that is an integer of int64 range.
func wholeNumber(v any) (int64, bool) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := num.Int64()
	return n, err == nil
}

// arrayField reads an optional array property: nil when absent or null.
func arrayField(v any, name string) ([]any, *armerror.Error) {
	x, ok := field(v, name)
	if !ok || x == nil {
		return nil, nil
	}
	a, ok := x.([]any)
	if !ok {
		return nil, errorf("InvalidRequestContent", name,
			"The request content was invalid and could not be deserialized: '%s' must be an array.", name)
	}
	return a, nil
}

// field looks a property up ignoring case, as ARM matches names.
func field(v any, name string) (any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	if x, ok := m[name]; ok {
		return x, true
	}
	for k, x := range m {
		if strings.EqualFold(k, name) {
			return x, true
		}
	}
	return nil, false
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b))
}

// truncate shortens what an error message quotes back.
func truncate(s string) string {
	if utf8.RuneCountInString(s) <= 80 {
		return s
	}
	return string([]rune(s)[:80]) + "..."
}

// locations are the regions of Azure's public cloud, as ARM spells them.
var locations = []string{
	"australiacentral", "australiacentral2", "australiaeast", "australiasoutheast", "austriaeast", "belgiumcentral",
	"brazilsouth", "brazilsoutheast", "canadacentral", "canadaeast", "centralindia", "centralus", "centraluseuap",
	"chilecentral", "denmarkeast", "eastasia", "eastus", "eastus2", "eastus2euap", "francecentral", "francesouth",
	"germanynorth", "germanywestcentral", "indonesiacentral", "israelcentral", "italynorth", "japaneast", "japanwest",
	"jioindiacentral", "jioindiawest", "koreacentral", "koreasouth", "malaysiawest", "mexicocentral", "newzealandnorth",
	"northcentralus", "northeurope", "norwayeast", "norwaywest", "polandcentral", "qatarcentral", "southafricanorth",
	"southafricawest", "southcentralus", "southeastasia", "southindia", "spaincentral", "swedencentral", "swedensouth",
	"switzerlandnorth", "switzerlandwest", "uaecentral", "uaenorth", "uksouth", "ukwest", "westcentralus", "westeurope",
	"westindia", "westus", "westus2", "westus3",
}

func knownLocation(loc string) bool {
	for _, l := range locations {
		if l == loc {
			return true
		}
	}
	return false
}
