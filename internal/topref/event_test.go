package topref

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hepsql/hepsql/gen/topology"
)

func TestLoadROOT(t *testing.T) {
	paths, err := topology.Generate(topology.Options{Events: 30, Seed: 4, OutDir: t.TempDir(), EventsPerFile: 4})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := LoadROOT(paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 30 {
		t.Fatalf("loaded %d events, want 30", len(evs))
	}
	// ForEach reuses its event; LoadROOT's copies must not alias it.
	i := 0
	err = ForEach(paths, func(file string, entry int64, ev *Event) error {
		if !reflect.DeepEqual(*ev, evs[i]) {
			t.Errorf("event %d (%s entry %d) differs between ForEach and LoadROOT", i, filepath.Base(file), entry)
		}
		if len(ev.Tracks) == 0 || len(ev.Photons) == 0 || len(ev.NeutralHadrons) == 0 {
			t.Errorf("event %d has an empty particle collection", i)
		}
		i++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadROOT([]string{filepath.Join(t.TempDir(), "none.root")}); err == nil || !strings.HasPrefix(err.Error(), "topref: open ") {
		t.Errorf("missing file: got %v", err)
	}
}
