package tbranch

import "testing"

// TestMemberName: the column names of sub-branches, in the layouts ROOT
// writes: short member names under a split object, names carrying their
// parent's (Delphes' Jet.PT, TObject's bases), array dimensions, and the
// full prefixes under a top-level name ending with a dot (CMS's EDM).
func TestMemberName(t *testing.T) {
	for _, c := range []struct{ parent, branch, want string }{
		{"", "Jet", "Jet"},
		{"", "X.", "X."},
		{"Jet", "Jet.PT", "Jet.PT"},
		{"Jet", "Jet.Cov[5]", "Jet.Cov"},
		{"event", "fTracks", "event.fTracks"},
		{"event.fTracks", "fTracks.fPx", "event.fTracks.fPx"},
		{"trkInnerPos", "TObject", "trkInnerPos.TObject"},
		{"X.", "X.obj", "X.obj"},
		{"X.obj", "X.obj.chi2_", "X.obj.chi2_"},
		{"X.", "a", "X.a"},
	} {
		if got := MemberName(c.parent, c.branch); got != c.want {
			t.Errorf("MemberName(%q, %q) = %q, want %q", c.parent, c.branch, got, c.want)
		}
	}
}
