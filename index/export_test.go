package index

import (
	"net/http/httptest"
	"testing"
)

// For the tests of package index_test, which may import what imports index.

func NewFakeESServer() *httptest.Server {
	_, srv := newFakeES()
	return srv
}

func SamplesCase(t testing.TB) *Case { return samplesCase(t) }
