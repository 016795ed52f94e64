// Package adl generates synthetic, NanoAOD-style ROOT files carrying the
// branches that the IRIS-HEP ADL benchmark queries read, for tests and demos.
//
// The files mimic the layout of the CMS open-data sample
// Run2012B_SingleMu.root (tree "Events"): the same branch names and the same
// ROOT leaf types, with jagged collections stored as a counter branch nX/i
// and one Float_t, Int_t or Bool_t array branch X_y[nX] per property. The
// physics is a toy: events are drawn from a handful of processes (W→μν,
// Z→μμ, Z→ee next to a trigger muon, a hadronic top next to a W→μν, and
// multijet background with soft muons) with falling pT spectra, detector
// acceptance cuts, resolution smearing and the placeholder values (-999
// isolation, -1/-10 b-tag) that the real sample carries. It is good enough
// for every ADL query to fill its histogram with a recognisable shape (a Z
// peak in Q5, a top-mass region in Q6, a Jacobian peak in Q8), and nothing
// in it should be read as a physics prediction.
//
// Generation is deterministic: event i is a pure function of (Seed, i), so
// the same seed yields the same events however they are split into files.
package adl
