package catalog

import "strings"

// Location is an Azure region as the Subscriptions API lists it.
type Location struct {
	Name           string // armLocation form: "westeurope"
	DisplayName    string // "West Europe"
	Geography      string // the geography group: "Europe"
	PhysicalPlace  string
	Latitude       string
	Longitude      string
	PairedRegion   string
	AvailableZones bool
}

// RegionalDisplayName is the name the portal shows: "(Europe) West Europe".
func (l Location) RegionalDisplayName() string { return "(" + l.Geography + ") " + l.DisplayName }

// Locations are the regions azemu offers, in the order Azure lists them
// (by geography, then name). Coordinates and pairs are Azure's.
var Locations = []Location{
	{"eastus", "East US", "US", "Virginia", "37.3719", "-79.8164", "westus", true},
	{"eastus2", "East US 2", "US", "Virginia", "36.6681", "-78.3889", "centralus", true},
	{"centralus", "Central US", "US", "Iowa", "41.5908", "-93.6208", "eastus2", true},
	{"westus", "West US", "US", "California", "37.783", "-122.417", "eastus", false},
	{"westus2", "West US 2", "US", "Washington", "47.233", "-119.852", "westcentralus", true},
	{"northeurope", "North Europe", "Europe", "Ireland", "53.3478", "-6.2597", "westeurope", true},
	{"westeurope", "West Europe", "Europe", "Netherlands", "52.3667", "4.9", "northeurope", true},
	{"uksouth", "UK South", "UK", "London", "50.941", "-0.799", "ukwest", true},
	{"southeastasia", "Southeast Asia", "Asia Pacific", "Singapore", "1.283", "103.833", "eastasia", true},
	{"japaneast", "Japan East", "Asia Pacific", "Tokyo, Saitama", "35.68", "139.77", "japanwest", true},
	{"australiaeast", "Australia East", "Asia Pacific", "New South Wales", "-33.86", "151.2094", "australiasoutheast", true},
}

// FindLocation finds a region by name or display name, ignoring case and
// spaces ("West Europe" is westeurope).
func FindLocation(name string) (Location, bool) {
	key := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	for _, l := range Locations {
		if l.Name == key {
			return l, true
		}
	}
	return Location{}, false
}

// LocationDisplayNames are the regions' display names, as provider
// metadata lists a resource type's locations.
func LocationDisplayNames() []string {
	out := make([]string, len(Locations))
	for i, l := range Locations {
		out[i] = l.DisplayName
	}
	return out
}
