package memstore_test

import (
	"testing"

	"github.com/azemu/azemu/internal/store"
	"github.com/azemu/azemu/internal/store/memstore"
	"github.com/azemu/azemu/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

func TestSharedConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.NewShared() })
	storetest.RunShared(t, func(*testing.T) store.Shared { return memstore.NewShared() })
}
