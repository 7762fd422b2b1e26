package nic

import "github.com/azemu/azemu/internal/jsonwire"

// A Spec is stored in the state document of a VM whose network interface
// configurations create the interface: these write and read it by hand,
// as encoding/json does, interning the words a fleet repeats.

// WriteJSON writes s as json.Marshal does.
func (s *Spec) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("location", s.Location).OmitEmpty("nsg", s.NSG).Flag("acceleratedNetworking", s.AcceleratedNetworking)
	w.Flag("ipForwarding", s.IPForwarding)
	jsonwire.WriteArray(w, "ipConfigurations", s.IPConfigs, false, (*IPConfigSpec).WriteJSON)
	w.RawMessage("model", s.Model).Close()
}

// ReadJSON reads s as json.Unmarshal does; the decoder gives up on any
// shape but WriteJSON's.
func (s *Spec) ReadJSON(d *jsonwire.Decoder) {
	d.Open().Word("location", &s.Location).Word("nsg", &s.NSG).Bool("acceleratedNetworking", &s.AcceleratedNetworking)
	d.Bool("ipForwarding", &s.IPForwarding)
	jsonwire.ReadArray(d, "ipConfigurations", &s.IPConfigs, (*IPConfigSpec).ReadJSON)
	d.RawMessage("model", &s.Model).Close()
}

// WriteJSON writes c as json.Marshal does.
func (c *IPConfigSpec) WriteJSON(w *jsonwire.Writer) {
	w.Open().Str("name", c.Name).Str("subnet", c.Subnet).OmitEmpty("privateIPAddress", c.PrivateIP).Str("allocation", c.Allocation)
	w.Str("version", c.Version).Bool("primary", c.Primary).OmitEmpty("publicIPAddress", c.PublicIP)
	w.Strings("loadBalancerBackendAddressPools", c.Pools).Close()
}

// ReadJSON reads c as json.Unmarshal does.
func (c *IPConfigSpec) ReadJSON(d *jsonwire.Decoder) {
	c.readMembers(d.Open())
	d.Close()
}

// readMembers reads c's members, which an IPConfig's object holds too.
func (c *IPConfigSpec) readMembers(d *jsonwire.Decoder) {
	d.Word("name", &c.Name).Word("subnet", &c.Subnet).Str("privateIPAddress", &c.PrivateIP).Word("allocation", &c.Allocation)
	d.Word("version", &c.Version).Bool("primary", &c.Primary).Str("publicIPAddress", &c.PublicIP)
	d.Words("loadBalancerBackendAddressPools", &c.Pools)
}
