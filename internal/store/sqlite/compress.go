package sqlite

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/klauspost/compress/s2"
	modernc "modernc.org/sqlite"
)

// A VM's state and a resource's body are kept compressed
// (0009_compressed_documents.sql): a VM's state is about 740 bytes of JSON
// at rest, 1.2 KB while a plan runs, most of it words every VM's state
// shares. The column is a BLOB holding either
//
//   - byte 5, then an S2 block (github.com/klauspost/compress/s2) of the
//     packed document (documents.go) against documentDict2;
//   - byte 4, then one against documentDict1, as documents were written
//     before interfaces had a dictionary: still read, no longer written;
//   - or the packed document itself, when compressing it saves nothing (a
//     packed document never begins with byte 4 or 5: documentArg keeps one
//     that would behind byte 3).
//
// S2 against a preset dictionary compresses a state to about a quarter of
// its size and costs a few microseconds a document either way; DEFLATE
// (compress/flate) with the same dictionary compressed a little better
// but took 15 times as long to write, since it clears 640 KB of tables for
// every document.
const (
	compressedPrefix1 = '\x04'
	compressedPrefix2 = '\x05'
)

// documentDict1 is the dictionary of compressedPrefix1: documents as the
// engine writes them, the commonest last, where copies from it are
// cheapest. It must never change, or the documents compressed against it
// could not be read (TestDocumentDictionaryIsFixed): a better dictionary
// needs a prefix of its own.
const documentDict1 = `` +
	// Words of other regions, sizes and images than those below.
	`"location":"australiaeast","location":"brazilsouth","location":"canadacentral","location":"centralindia","location":"centralus","location":"eastasia","location":"eastus2","location":"francecentral",` +
	`"location":"germanywestcentral","location":"japaneast","location":"koreacentral","location":"northeurope","location":"norwayeast","location":"southafricanorth","location":"southcentralus",` +
	`"location":"swedencentral","location":"switzerlandnorth","location":"uaenorth","location":"uksouth","location":"westus3","location":"westus2",` +
	`"vmSize":"Standard_B1s","vmSize":"Standard_B2ms","vmSize":"Standard_D4s_v3","vmSize":"Standard_D4s_v5","vmSize":"Standard_D8s_v5","vmSize":"Standard_E2s_v5","vmSize":"Standard_E4s_v5","vmSize":"Standard_F2s_v2","vmSize":"Standard_F4s_v2",` +
	`"osName":"debian","osVersion":"12","osName":"rhel","osVersion":"9.4","osName":"Windows Server 2019 Datacenter","osVersion":"10.0.17763",` +
	// A data disk's body, and the words of other resources' bodies.
	`{"spec":{"location":"westeurope","sku":"StandardSSD_LRS","sizeGB":64,"createOption":"Empty","osType":"Linux"},"managedBy":"` + "\x01" + `Microsoft.Compute/virtualMachines/vm-0","deleteOption":"Delete","uniqueId":"00000000-0000-0000-0000-000000000000","timeCreated":"2026-01-01T00:00:00Z"}` +
	`{"spec":{"location":"westus2","sku":"Standard_LRS","sizeGB":128,"createOption":"Copy","osType":"Windows","zones":["1"]},"deleteOption":"Detach","uniqueId":"","timeCreated":"2026-01-01T00:00:00Z"}` +
	// A VM's state while a run goes: a power-off, a deallocate.
	`{"machine":{"name":"vm-1","state":{"provisioning":"Updating","power":"stopping","failure":{"code":"","message":""},"generalized":true,"hibernated":true,"provisionedAt":"2026-01-01T00:00:00Z"},` +
	`"run":{"operationId":"00000000-0000-7000-8000-000000000000","plan":{"kind":"powerOff","steps":[{"provisioning":"Updating","power":"stopping","duration":15000000000}],` +
	`"end":{"provisioning":"Succeeded","power":"stopped","provisionedAt":"2026-01-01T00:00:00Z"},"removes":true},"step":0,"stepStarted":"2026-01-01T00:00:00Z","speed":1,"failAt":1,"holdUntil":"2026-01-01T00:00:00Z"}},` +
	`"spec":{"location":"westus","vmSize":"Standard_D2s_v3","priority":"Spot","evictionPolicy":"Deallocate","licenseType":"Windows_Server","hibernationEnabled":true,"scaleSetId":"` + "\x01" + `Microsoft.Compute/virtualMachineScaleSets/vmss","osType":"Linux","computerName":"vm",` +
	`"create":{"nics":[{"name":"vm-nic","publicIPs":[{"name":"vm-ip"}]}]}},"vmId":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z","waiting":[""]}` +
	`{"machine":{"name":"vm-2","state":{"provisioning":"Updating","power":"deallocating","provisionedAt":"2026-01-01T00:00:00Z"},"run":{"operationId":"00000000-0000-7000-8000-000000000000",` +
	`"plan":{"kind":"deallocate","steps":[{"provisioning":"Updating","power":"stopping","duration":15000000000},{"provisioning":"Updating","power":"deallocating","duration":30000000000}],` +
	`"end":{"provisioning":"Succeeded","power":"deallocated","provisionedAt":"2026-01-01T00:00:00Z"}},"step":1,"stepStarted":"2026-01-01T00:00:00Z","speed":1}},` +
	`"spec":{"location":"southeastasia","vmSize":"Standard_B2s","osType":"Windows","disks":[{"name":"vm-2_OsDisk_1_00000000000000000000000000000000","id":"` + "\x01" + `Microsoft.Compute/disks/vm-2_OsDisk_1_00000000000000000000000000000000","createOption":"FromImage","sizeGB":127,"sku":"Premium_LRS","deleteOption":"Detach","os":true}],` +
	`"nics":[{"id":"` + "\x01" + `Microsoft.Network/networkInterfaces/vm-2-nic","primary":true}],"computerName":"vm-2","osName":"Windows Server 2022 Datacenter","osVersion":"10.0.20348"},"vmId":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z"}` +
	// A VM's state while it is created.
	`{"machine":{"name":"vm-3","state":{"provisioning":"Creating","os":"osProvisioningInProgress","power":"starting","provisionedAt":"2026-01-01T00:00:00Z"},"run":{"operationId":"00000000-0000-7000-8000-000000000000",` +
	`"plan":{"kind":"create","steps":[{"provisioning":"Creating","duration":15000000000},{"provisioning":"Creating","power":"starting","duration":20000000000},{"provisioning":"Creating","os":"osProvisioningInProgress","power":"running","duration":40000000000},{"provisioning":"Creating","os":"osProvisioningComplete","power":"running","duration":5000000000}],` +
	`"end":{"provisioning":"Succeeded","power":"running","provisionedAt":"0001-01-01T00:00:00Z"}},"step":0,"stepStarted":"2026-01-01T00:00:00Z","speed":1}},` +
	// An OS disk's body.
	`{"spec":{"location":"eastus","sku":"Premium_LRS","sizeGB":127,"createOption":"FromImage","osType":"Windows"},"managedBy":"` + "\x01" + `Microsoft.Compute/virtualMachines/vm-5","deleteOption":"Detach","uniqueId":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z"}` +
	`{"spec":{"location":"eastus","sku":"Premium_LRS","sizeGB":30,"createOption":"FromImage","osType":"Linux"},"managedBy":"` + "\x01" + `Microsoft.Compute/virtualMachines/vm-4","deleteOption":"Delete","uniqueId":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z"}` +
	// A VM's state at rest: the commonest.
	`{"machine":{"name":"vm-4","state":{"provisioning":"Succeeded","power":"running","provisionedAt":"2026-01-01T00:00:00Z"}},"spec":{"location":"eastus","vmSize":"Standard_D2s_v5","generalizedImage":true,"osType":"Linux",` +
	`"disks":[{"name":"vm-4_OsDisk_1_00000000000000000000000000000000","id":"` + "\x01" + `Microsoft.Compute/disks/vm-4_OsDisk_1_00000000000000000000000000000000","createOption":"FromImage","sizeGB":30,"sku":"Premium_LRS","deleteOption":"Delete","os":true}],` +
	`"nics":[{"id":"` + "\x01" + `Microsoft.Network/networkInterfaces/vm-4-nic","primary":true}],"computerName":"vm-4","osName":"ubuntu","osVersion":"24.04"},"vmId":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z"}`

// documentDict2 is the dictionary of compressedPrefix2: network
// resources' bodies, which documentDict1 lacks (an interface's body was
// kept in 320 bytes against it, three times a disk's), then documentDict1
// as it is, so that its documents, the commonest, stay last and at the
// same distance from the end: a VM's state at rest or a disk's body is
// kept in no more bytes than against documentDict1 (a state while a plan
// runs in a byte or two more, at times). It must never change either
// (TestDocumentDictionaryIsFixed).
const documentDict2 = `` +
	// A network security group's body, a public IP's, a client's
	// virtual network's (az vm create's names) and a seeded one's.
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00.000000000Z","spec":{"location":"westeurope","model":{}},"rules":[{"name":"default-allow-ssh","priority":1000,"direction":"Inbound","access":"Allow","protocol":"Tcp",` +
	`"model":{"props":{"destinationAddressPrefix":"*","destinationPortRange":"22","sourceAddressPrefix":"*","sourcePortRange":"*"}}}]}` +
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00.000000000Z","spec":{"location":"westeurope","sku":"Standard","tier":"Regional","allocation":"Static","version":"IPv4","idleTimeoutInMinutes":4,"deleteOption":"Delete","model":{}},` +
	`"ipAddress":"203.0.113.1","ipConfiguration":"` + "\x01" + `Microsoft.Network/networkInterfaces/vmVMNic/ipConfigurations/ipconfigvm","vm":"` + "\x01" + `Microsoft.Compute/virtualMachines/vm"}` +
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00.000000000Z","spec":{"location":"westeurope","addressPrefixes":["10.0.0.0/16"],"model":{}},"subnets":[{"name":"vmSubnet","addressPrefix":"10.0.0.0/24","model":{}}]}` +
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z","spec":{"location":"eastus","addressPrefixes":["10.0.0.0/16"],"model":{"tags":{"seeded":"true"}}},"subnets":[{"name":"default","addressPrefix":"10.0.0.0/16","model":{}}]}` +
	// A client's interface, with a security group and a public IP.
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00.000000000Z","spec":{"location":"westeurope","nsg":"` + "\x01" + `Microsoft.Network/networkSecurityGroups/vmNSG",` +
	`"ipConfigurations":[{"name":"ipconfigvm","subnet":"` + "\x01" + `Microsoft.Network/virtualNetworks/vmVNET/subnets/vmSubnet","allocation":"Dynamic","version":"IPv4","primary":true,"publicIPAddress":"` + "\x01" + `Microsoft.Network/publicIPAddresses/vmPublicIP"}],"model":{}},` +
	`"ipConfigurations":[{"name":"ipconfigvm","subnet":"` + "\x01" + `Microsoft.Network/virtualNetworks/vmVNET/subnets/vmSubnet","allocation":"Dynamic","version":"IPv4","primary":true,"publicIPAddress":"` + "\x01" + `Microsoft.Network/publicIPAddresses/vmPublicIP","address":"10.0.0.4"}],` +
	`"virtualMachine":"` + "\x01" + `Microsoft.Compute/virtualMachines/vm","primary":true,"deleteOption":"Delete","macAddress":"00-0D-3A-00-00-00"}` +
	// A seeded VM's interface, the commonest of them.
	`{"resourceGuid":"00000000-0000-4000-8000-000000000000","timeCreated":"2026-01-01T00:00:00Z","spec":{"location":"eastus","ipConfigurations":[{"name":"ipconfig1","subnet":"` + "\x01" + `Microsoft.Network/virtualNetworks/seed-vnet/subnets/default","allocation":"Dynamic","version":"IPv4","primary":true}],"model":{"tags":{"seeded":"true"}}},` +
	`"ipConfigurations":[{"name":"ipconfig1","subnet":"` + "\x01" + `Microsoft.Network/virtualNetworks/seed-vnet/subnets/default","allocation":"Dynamic","version":"IPv4","primary":true,"address":"10.0.0.4"}],` +
	`"virtualMachine":"` + "\x01" + `Microsoft.Compute/virtualMachines/seed-vm-0000000","primary":true,"deleteOption":"Detach","macAddress":"00-0D-3A-00-00-00"}` +
	documentDict1

// compressionDict1 and compressionDict2 are documentDict1 and 2 as S2
// reads them; the first repeat offset of each is where a state at rest
// begins. They are safe for concurrent use.
var (
	compressionDict1 = s2.MakeDictManual([]byte(documentDict1), uint16(strings.LastIndex(documentDict1, `{"machine":`)))
	compressionDict2 = s2.MakeDictManual([]byte(documentDict2), uint16(strings.LastIndex(documentDict2, `{"machine":`)))
)

// compressionDict is the dictionary of a column's first byte, nil when the
// column holds a packed document as it is.
func compressionDict(col []byte) *s2.Dict {
	if len(col) == 0 {
		return nil
	}
	switch col[0] {
	case compressedPrefix1:
		return compressionDict1
	case compressedPrefix2:
		return compressionDict2
	}
	return nil
}

// minCompressed is the shortest packed document worth compressing.
const minCompressed = 32

// maxCompressed bounds the length a compressed document may unpack to. A
// compressed column declares its length first, and S2 allocates that much
// before it finds the rest corrupt: a damaged column of a few bytes could
// declare 4 GiB. No document comes near the bound (a request's body is at
// most 4 MiB), and a longer one is stored as it is, never compressed, so
// that every document written can be read. A variable for the tests.
var maxCompressed = 256 << 20

// decodeCompressed is the document that src, a compressed column less its
// first byte, holds against dict, decoded into dst's room when it fits.
func decodeCompressed(dict *s2.Dict, dst, src []byte) ([]byte, error) {
	n, err := s2.DecodedLen(src)
	if err != nil {
		return nil, fmt.Errorf("a compressed document: %w", err)
	}
	if n > maxCompressed {
		return nil, fmt.Errorf("a compressed document declares %d bytes, more than the %d any is written with", n, maxCompressed)
	}
	packed, err := dict.Decode(dst, src)
	if err != nil {
		return nil, fmt.Errorf("a compressed document: %w", err)
	}
	return packed, nil
}

// documentArg binds doc, packed (packDocument) and compressed when that
// is shorter, as a BLOB; nil as NULL.
func documentArg(doc json.RawMessage, scope string) any {
	if doc == nil {
		return nil
	}
	return compressDocument(packedDocument(doc, scope))
}

// compressDocument is packed compressed, or packed itself when
// compressing it saves nothing.
func compressDocument(packed []byte) []byte {
	if compressionDict(packed) != nil {
		// Only a document that is not JSON begins so, and its packed form
		// is then the document itself (packDocument): kept whole.
		packed = append([]byte{keptPrefix}, packed...)
	}
	if len(packed) < minCompressed || len(packed) > maxCompressed {
		return packed
	}
	out := make([]byte, 1+s2.MaxEncodedLen(len(packed)))
	out[0] = compressedPrefix2
	n := len(compressionDict2.Encode(out[1:], packed))
	if 1+n >= len(packed) {
		return packed
	}
	return out[:1+n]
}

// storedDocument scans a column documentArg bound: Valid is false for
// NULL, and Packed is the document as packDocument packed it, ready for
// unpack.
type storedDocument struct {
	Packed []byte
	Valid  bool
}

// Scan implements sql.Scanner. The driver's bytes are not kept.
func (d *storedDocument) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = storedDocument{}
		return nil
	case string: // a TEXT column of before 0009
		*d = storedDocument{Packed: []byte(v), Valid: true}
		return nil
	case []byte:
		packed, err := decompressDocument(v)
		*d = storedDocument{Packed: packed, Valid: err == nil}
		return err
	}
	return fmt.Errorf("a stored document of type %T", src)
}

// decompressDocument is the packed document a column holds, in bytes of
// its own.
func decompressDocument(col []byte) ([]byte, error) {
	dict := compressionDict(col)
	if dict == nil {
		return bytes.Clone(col), nil
	}
	return decodeCompressed(dict, nil, col[1:])
}

// unpack is the document d holds, with its scope unpacked.
func (d storedDocument) unpack(scope string) json.RawMessage {
	if !d.Valid {
		return nil
	}
	s := d.Packed
	if len(s) > 0 {
		switch s[0] {
		case scopedPrefix:
			return bytes.ReplaceAll(s[1:], []byte(scopeMark), []byte(scope))
		case keptPrefix:
			return s[1:]
		}
	}
	if s == nil {
		s = []byte{}
	}
	return s
}

// reusedDocument is a storedDocument that one reader scans row after row
// (a load's): a compressed document is decompressed into the room of the
// one before, and unpack copies it out into a chunk that the documents of
// many rows share, so that a load allocates once a chunk where it
// allocated once a document, or twice.
type reusedDocument struct {
	storedDocument
	chunk []byte     // what is left of the chunk unpack copies into
	pool  *chunkPool // where the chunks come from; nil: made afresh
	used  [][]byte   // the chunks taken from pool since handOver
}

// handOver returns the chunks of pool the documents unpacked since the
// last call are in, and starts the next document in a chunk of its own.
func (d *reusedDocument) handOver() [][]byte {
	used := d.used
	d.chunk, d.used = nil, nil
	return used
}

// documentChunk is the size of the chunks unpack copies documents into:
// large enough that a chunk holds about a hundred VMs' states, small enough
// that one document kept from a load keeps little beside it.
const documentChunk = 64 << 10

// Scan implements sql.Scanner.
func (d *reusedDocument) Scan(src any) error {
	col, ok := src.([]byte)
	dict := compressionDict(col)
	if !ok || dict == nil {
		return d.storedDocument.Scan(src)
	}
	packed, err := decodeCompressed(dict, d.Packed[:cap(d.Packed)], col[1:])
	if err != nil {
		d.storedDocument = storedDocument{}
		return err
	}
	d.storedDocument = storedDocument{Packed: packed, Valid: true}
	return nil
}

// unpack is storedDocument's unpack, in bytes of its own: its capacity is
// its length, so that appending to it never writes into another's.
func (d *reusedDocument) unpack(scope string) json.RawMessage {
	if !d.Valid {
		return nil
	}
	s, scoped := d.Packed, false
	if len(s) > 0 {
		switch s[0] {
		case scopedPrefix:
			s, scoped = s[1:], true
		case keptPrefix:
			s = s[1:]
		}
	}
	n := len(s)
	if scoped {
		n += bytes.Count(s, []byte(scopeMark)) * (len(scope) - len(scopeMark))
	}
	if n == 0 {
		return json.RawMessage{}
	}
	if len(d.chunk) < n {
		d.chunk = d.pool.get(n)
		if d.pool != nil {
			d.used = append(d.used, d.chunk)
		}
	}
	out := d.chunk[:0:n]
	d.chunk = d.chunk[n:]
	if !scoped {
		return append(out, s...)
	}
	for {
		i := bytes.IndexByte(s, scopeMark[0])
		if i < 0 {
			return append(out, s...)
		}
		out = append(append(out, s[:i]...), scope...)
		s = s[i+1:]
	}
}

// compressFunction is compress_document(text) in SQL, for the migration
// that compresses the stored documents: the BLOB documentArg would bind
// for a TEXT column's packed document, NULL for NULL.
const compressFunction = "compress_document"

func init() {
	modernc.MustRegisterDeterministicScalarFunction(compressFunction, 1,
		func(_ *modernc.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case nil:
				return nil, nil
			case string:
				return compressDocument([]byte(v)), nil
			}
			return nil, errors.New(compressFunction + ": the argument is not a TEXT document")
		})
}
