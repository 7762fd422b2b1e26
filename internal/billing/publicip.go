package billing

import "strings"

// Public IP addresses (Microsoft.Network/publicIPAddresses) bill by the hour
// from creation to deletion, whatever the state of the VM that uses them:
// this is the networking part of "a deallocated VM still costs its disks
// and its IPs". The Retail Prices API prices them under serviceName
// "Virtual Network", productName "IP Addresses", one meter per kind of
// address: "Standard IPv4 Static Public IP", "Basic IPv4 Static Public IP",
// "Basic IPv4 Dynamic Public IP", "Global IPv4 Static Public IP".

// Public IP attribute values, as ARM writes them.
const (
	IPSKUStandard   = "Standard"
	IPSKUBasic      = "Basic"
	IPTierRegional  = "Regional"
	IPTierGlobal    = "Global"
	IPStatic        = "Static"
	IPDynamic       = "Dynamic"
	IPv4            = "IPv4"
	IPv6            = "IPv6"
	publicIPProduct = "IP Addresses"
)

// PublicIPMeterName gives the Retail Prices meterName a public IP with these
// attributes bills on: "<SKU> <version> <allocation> Public IP", where a
// Global tier address bills as "Global" whatever its SKU (only Standard can
// be Global). An empty tier is Regional and an empty version IPv4 (ARM's
// defaults); an empty allocation is Static for Standard and Global (the only
// one they allow) and Dynamic for Basic (ARM's default). An SKU, version or
// allocation azemu does not know is kept as given, so the name matches no
// row and the address is reported unpriced, never free.
func PublicIPMeterName(a Attrs) string {
	sku := canonical(a.IPSKU, IPSKUStandard, IPSKUBasic)
	if strings.EqualFold(a.IPTier, IPTierGlobal) {
		sku = IPTierGlobal
	} else if a.IPTier != "" && !strings.EqualFold(a.IPTier, IPTierRegional) {
		sku = a.IPTier + " " + sku
	}
	version := canonical(a.IPVersion, IPv4, IPv6)
	if version == "" {
		version = IPv4
	}
	alloc := canonical(a.IPAllocation, IPStatic, IPDynamic)
	if alloc == "" {
		alloc = IPStatic
		if sku == IPSKUBasic {
			alloc = IPDynamic
		}
	}
	return sku + " " + version + " " + alloc + " Public IP"
}

// canonical gives s spelled as the one of names it equals ignoring case, or
// s as given.
func canonical(s string, names ...string) string {
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return n
		}
	}
	return s
}

// publicIPRowMeter recognises the hourly meter of a public IP address: a
// row of productName "IP Addresses" (serviceName "Virtual Network" when
// given) whose meterName ends in "Public IP". Other meters of the product
// (prefixes, remaps, the per-IP "Static Public IP" of sheets before 2021)
// are skipped.
func publicIPRowMeter(it *retailItem) (string, bool) {
	if it.ProductName != publicIPProduct {
		return "", false
	}
	if it.ServiceName != "" && it.ServiceName != "Virtual Network" {
		return "", false
	}
	f := strings.Fields(it.MeterName)
	if len(f) != 5 || f[3] != "Public" || f[4] != "IP" {
		return "", false
	}
	return strings.Join(f, " "), true
}
