package template

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
)

// UniqueString is Azure's uniqueString(): its arguments joined with '-',
// hashed with Resource Manager's 64-bit MurmurHash (two 32-bit MurmurHash3
// lanes over 8-byte blocks, seed 0), and written as 13 characters of
// base 32 (a-z, 2-7), five bits at a time from the top.
func UniqueString(parts ...string) string {
	h := murmur64([]byte(strings.Join(parts, "-")))
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	out := make([]byte, 13)
	for i := range out {
		out[i] = alphabet[h>>59]
		h <<= 5
	}
	return string(out)
}

func murmur64(data []byte) uint64 {
	const (
		c1 = 0x239b961b
		c2 = 0xab0e9789
	)
	var h1, h2 uint32
	n := len(data)
	i := 0
	for ; i+8 <= n; i += 8 {
		k1 := binary.LittleEndian.Uint32(data[i:])
		k2 := binary.LittleEndian.Uint32(data[i+4:])
		h1 = bits.RotateLeft32(h1^lane(k1, c1, c2, 15), 19)
		h1 = (h1+h2)*5 + 0x561ccd1b
		h2 = bits.RotateLeft32(h2^lane(k2, c2, c1, 17), 13)
		h2 = (h2+h1)*5 + 0x0bcaa747
	}
	if tail := n - i; tail > 0 {
		var k1 uint32
		for j := min(tail, 4) - 1; j >= 0; j-- {
			k1 = k1<<8 | uint32(data[i+j])
		}
		h1 ^= lane(k1, c1, c2, 15)
		if tail > 4 {
			var k2 uint32
			for j := tail - 1; j >= 4; j-- {
				k2 = k2<<8 | uint32(data[i+j])
			}
			h2 ^= lane(k2, c2, c1, 17)
		}
	}
	h1 ^= uint32(n)
	h2 ^= uint32(n)
	h1 += h2
	h2 += h1
	h1 = fmix32(h1)
	h2 = fmix32(h2)
	h1 += h2
	h2 += h1
	return uint64(h2)<<32 | uint64(h1)
}

// lane mixes one 4-byte word of input before it joins its lane's hash.
func lane(k, a, b uint32, r int) uint32 {
	return bits.RotateLeft32(k*a, r) * b
}

func fmix32(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// guidNamespace is the namespace Azure's guid() hashes its arguments in.
var guidNamespace = [16]byte{0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30}

// GUID is Azure's guid(): a name-based (version 5, SHA-1) UUID of its
// arguments joined with '-', in the namespace 11fb06fb-712d-4ddd-98c7-e71bbd588830.
func GUID(parts ...string) string {
	h := sha1.New()
	h.Write(guidNamespace[:])
	h.Write([]byte(strings.Join(parts, "-")))
	sum := h.Sum(nil)
	var u [16]byte
	copy(u[:], sum)
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
