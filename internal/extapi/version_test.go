package extapi

import "testing"

func TestSupported(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.5.5": true, "v1.5.6": true, "v1.5.2": true, "v2.0.0": true, "v2.0.3-dev12": true,
		"v1.5.1": false, "v1.4.3": false, "v1.2.0": false, "v2.1.0": false, "v3.0.0": false,
		"": false, "1.5": false, "vx.y.z": false,
	} {
		if got := Supported(v); got != want {
			t.Errorf("Supported(%q) = %v, want %v", v, got, want)
		}
	}
}
