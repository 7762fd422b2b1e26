package catalog

import "strings"

// Azure's published api-versions, newest first: each resource provider's
// stable versions (and the previews still served), as the Azure REST API
// specifications list them. One table for provider metadata and for every
// check of a request's api-version.
var (
	computeVersions = []string{"2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-09-01", "2023-07-01",
		"2023-03-01", "2022-11-01", "2022-08-01", "2022-03-01", "2021-11-01", "2021-07-01", "2021-04-01", "2021-03-01",
		"2020-12-01", "2020-06-01", "2019-12-01", "2019-07-01", "2019-03-01", "2018-10-01", "2018-06-01", "2018-04-01",
		"2017-12-01", "2017-03-30", "2016-08-30", "2016-04-30-preview", "2016-03-30", "2015-06-15"}
	diskVersions = []string{"2025-01-02", "2024-03-02", "2023-10-02", "2023-04-02", "2023-01-02", "2022-07-02",
		"2022-03-02", "2021-12-01", "2021-08-01", "2021-04-01", "2020-12-01", "2020-09-30", "2020-06-30", "2020-05-01",
		"2019-11-01", "2019-07-01", "2019-03-01", "2018-09-30", "2018-06-01", "2018-04-01", "2017-03-30", "2016-04-30-preview"}
	skuVersions       = []string{"2021-07-01", "2019-04-01", "2017-09-01", "2017-03-30"}
	resourcesVersions = []string{"2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01",
		"2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01", "2019-08-01",
		"2019-07-01", "2019-05-10", "2019-05-01", "2019-03-01", "2018-05-01", "2018-02-01", "2018-01-01", "2017-08-01",
		"2017-06-01", "2017-05-10", "2016-09-01", "2016-07-01", "2016-06-01", "2016-02-01", "2015-11-01", "2015-01-01", "2014-04-01"}
	tagsVersions          = []string{"2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-08-01", "2020-06-01", "2019-10-01"}
	subscriptionsVersions = []string{"2022-12-01", "2021-01-01", "2020-01-01", "2019-11-01", "2019-06-01", "2018-06-01", "2016-06-01", "2016-01-01", "2015-11-01", "2015-01-01", "2014-04-01"}
	networkVersions       = []string{"2025-05-01", "2025-03-01", "2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01", "2023-09-01", "2023-06-01",
		"2023-05-01", "2023-04-01", "2023-02-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01",
		"2021-08-01", "2021-05-01", "2021-03-01", "2021-02-01", "2020-11-01", "2020-08-01", "2020-07-01", "2020-06-01",
		"2020-05-01", "2020-04-01", "2020-03-01", "2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01", "2019-07-01",
		"2019-06-01", "2019-04-01", "2019-02-01", "2018-12-01", "2018-11-01", "2018-10-01", "2018-08-01", "2018-07-01",
		"2018-06-01", "2018-04-01", "2018-02-01", "2018-01-01", "2017-11-01", "2017-10-01", "2017-09-01", "2017-08-01",
		"2017-06-01", "2017-03-01", "2016-12-01", "2016-09-01", "2016-06-01", "2016-03-30", "2015-06-15"}
	costVersions   = []string{"2025-03-01", "2024-08-01", "2023-11-01", "2023-09-01", "2023-08-01", "2023-07-01", "2023-03-01", "2022-10-01", "2021-10-01", "2019-11-01", "2019-10-01", "2019-01-01"}
	healthVersions = []string{"2024-02-01", "2023-10-01-preview", "2022-10-01", "2020-05-01", "2018-07-01", "2017-07-01", "2015-01-01"}
)

// ResourceType is one type of a provider, with where and in which
// api-versions it is served.
type ResourceType struct {
	Type        string // "virtualMachines", "virtualMachines/extensions"
	APIVersions []string
	// Regional types list the regions; global ones ("locations",
	// "operations") list none.
	Regional bool
}

// Provider is a resource provider namespace with its types.
type Provider struct {
	Namespace string
	Types     []ResourceType
}

// Providers are the namespaces azemu answers for, all registered.
var Providers = []Provider{
	{"Microsoft.Compute", []ResourceType{
		{"virtualMachines", computeVersions, true},
		{"virtualMachines/extensions", computeVersions, true},
		{"virtualMachineScaleSets", computeVersions, true},
		{"virtualMachineScaleSets/virtualMachines", computeVersions, true},
		{"disks", diskVersions, true},
		{"skus", skuVersions, false},
		{"locations", computeVersions, false},
		{"locations/operations", computeVersions, false},
		{"locations/vmSizes", computeVersions, false},
		{"locations/usages", computeVersions, false},
		{"locations/publishers", computeVersions, false},
		{"operations", computeVersions, false},
	}},
	{"Microsoft.Network", []ResourceType{
		{"networkInterfaces", networkVersions, true},
		{"publicIPAddresses", networkVersions, true},
		{"loadBalancers", networkVersions, true},
		{"loadBalancers/backendAddressPools", networkVersions, true},
		{"loadBalancers/inboundNatRules", networkVersions, true},
		{"loadBalancers/inboundNatPools", networkVersions, true},
		{"loadBalancers/loadBalancingRules", networkVersions, true},
		{"loadBalancers/probes", networkVersions, true},
		{"virtualNetworks", networkVersions, true},
		{"virtualNetworks/subnets", networkVersions, true},
		{"networkSecurityGroups", networkVersions, true},
		{"networkSecurityGroups/securityRules", networkVersions, true},
		{"locations", networkVersions, false},
		{"locations/operations", networkVersions, false},
		{"locations/operationResults", networkVersions, false},
	}},
	{"Microsoft.Resources", []ResourceType{
		{"resourceGroups", resourcesVersions, false},
		{"resources", resourcesVersions, false},
		{"subscriptions", subscriptionsVersions, false},
		{"subscriptions/resourceGroups", resourcesVersions, false},
		{"subscriptions/resources", resourcesVersions, false},
		{"subscriptions/locations", subscriptionsVersions, false},
		{"subscriptions/tagNames", resourcesVersions, false},
		{"tags", tagsVersions, false},
		{"providers", resourcesVersions, false},
		{"tenants", subscriptionsVersions, false},
	}},
	{"Microsoft.CostManagement", []ResourceType{{"query", costVersions, false}}},
	{"Microsoft.ResourceHealth", []ResourceType{{"availabilityStatuses", healthVersions, false}}},
}

// FindProvider finds a namespace, ignoring case.
func FindProvider(namespace string) (Provider, bool) {
	for _, p := range Providers {
		if strings.EqualFold(p.Namespace, namespace) {
			return p, true
		}
	}
	return Provider{}, false
}

// APIVersions are the versions a resource type answers to ("Microsoft.Compute",
// "virtualMachines/extensions"); nil when azemu does not know the type.
func APIVersions(namespace, resourceType string) []string {
	p, ok := FindProvider(namespace)
	if !ok {
		return nil
	}
	for _, t := range p.Types {
		if strings.EqualFold(t.Type, resourceType) {
			return t.APIVersions
		}
	}
	return nil
}
