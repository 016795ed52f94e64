// Package topref is the correctness reference for the topology
// classifier's selection and features (../shared/specs/topology.md,
// sections 2–6): a plain-Go computation over events read with groot's
// per-entry reader (ForEach, LoadROOT), written to be obviously right
// rather than fast, and kept independent of the SQL engine it checks.
// Isolation is a double loop over the particles, O(N²) per event.
//
// It implements the spec's definitions, not the reference code's
// deviations listed in the spec's section 8 (no unwrapped Δφ, no "minus
// one" self-removal, no signed-η lepton choice, no mT², no sign(PID)
// charge, no storage-order particles, no scaler fitted on all events, no
// rejection of events without particles, no standardised padding).
//
// # Conventions
//
// Where the spec leaves a choice open, this package decides as follows; a
// SQL implementation that wants equal values must decide the same way.
//
// Arithmetic. Branch values are float32; they are widened to float64 and
// every computation and comparison is in float64, so thresholds compare
// against the widened value: a jet stored at η = float32(2.6) =
// 2.5999999046 passes |η| < 2.6. Products that feed a sum are wrapped in
// float64(...) so Go cannot fuse them into FMA instructions (it does on
// arm64). Sums run in storage order. The low-level matrix rounds each
// float64 result to float32 once.
//
// Angles. Δφ = φ₁ − φ₂, moved by one full turn into [−π, π] when it lies
// outside (DeltaPhi); ΔR = sqrt(Δη² + Δφ²). Cuts are strict: ΔR < 0.3 for
// the cones, ΔR < 1e-4 for the lepton's own track, PT > 0.5 for tracks,
// ET > 1 for photons and neutral hadrons, pT > 23 and isolation sum < 0.45
// for the lepton, PT > 30 and |η| < 2.6 for jets.
//
// Isolation (section 2). The three lists are the whole filtered
// collections in storage order, never truncated. A particle of a list
// leaves itself out of its own list's cone sum by identity (its position),
// not by distance: another particle at the same η and φ still counts. The
// lepton belongs to no list; in the charged list it is represented by its
// own track, so every track within ΔR < 1e-4 of it is left out of its
// ChPFIso, while all photons and neutral hadrons in the cone count. The
// lepton's own track stays in the charged list for every other particle's
// ChPFIso. Relative isolation divides the cone sum by the object's pT (ET
// for towers); the selection adds ChPFIso + GammaPFIso + NeuPFIso left to
// right.
//
// Selection (section 3). Among electrons and muons passing the cuts the
// highest pT wins; an exact tie goes to the candidate met first, electrons
// before muons, each in storage order.
//
// Matrix (section 4). Row 0 is the lepton: its kinematics, vertex 0, its
// isolation, isElectron or isMuon, its charge. Then the tracks (every
// track within ΔR < 1e-4 of the lepton left out), photons and neutral
// hadrons, each group ranked by decreasing pT with ties in storage order,
// then truncated to 450, 150 and 200; then zero rows. Tracks carry their
// X, Y, Z, their Charge branch (not sign(PID)) and isChargedHadron; each
// particle's isolation is taken against the whole lists.
//
// High-level features (section 5). HT adds the counted jets' PT in
// storage order; nBJets counts those with BTag > 0; mT =
// sqrt(2·pT·MET·(1 − cos(φℓ − φMET))) multiplied left to right.
//
// Training data (section 6). The seeded steps sort by a hash of the
// event's identity, Key(seed, salt, id) = mix(mix(seed ^ salt) ^ id) with
// SplitMix64's mix, so the outcome does not depend on the order events
// arrive in: undersampling keeps in each class the events with the
// smallest undersampling keys, as many as the smallest class holds; the
// kept events are ordered by their shuffle keys and the first n·80/100
// (integer division) form the training set. Min–max scaling uses the
// training set's min and max; a constant feature maps to 0.5; test values
// are not clipped. The sequence input orders the particle rows by
// decreasing ΔR from the lepton (ties in matrix order), standardises each
// column over those rows with the population standard deviation (a
// column whose values are all equal becomes 0), and leaves the padding
// rows zero and unmarked at the end.
package topref
