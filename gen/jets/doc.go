// Package jets generates synthetic boosted fat jets for UCluster
// (../shared/specs/ucluster.md): W, Z and top jets (and optionally QCD
// light-quark and gluon jets), one jet per entry, in the shape of the
// HLS4ML LHC jet data set: the jet's four-momentum and truth class, and up
// to 100 constituents, hardest first.
//
// The jets are synthetic: a toy model written for this project, not a
// matrix-element generator, parton shower or detector simulation, and
// nothing in them is a physics prediction. It aims at what makes clustering
// them an honest task: mass peaks at the right scales, two- and three-prong
// substructure, showered and hadronised constituents, pile-up, and a
// detector resolution that makes W and Z jets overlap.
//
// # Files and branches
//
// Generate writes jets_0000.root, jets_0001.root, … (FileName), each with
// a tree "Jets" (TreeName) of one entry per jet:
//
//	Jet_pt, Jet_eta, Jet_phi, Jet_mass, Jet_e   Float_t: the sum of all constituents in the cone
//	truth                                       Int_t: 0 W, 1 Z, 2 top, 3 QCD (Class)
//	nPart                                       UInt_t: constituents stored, at most 100
//	Part_pt, Part_eta, Part_phi, Part_e         Float_t[nPart], by decreasing pT
//	Part_pid                                    Int_t[nPart], signed PDG id
//
// The classes take turns (ClassOf: jet i has class i mod 3, or i mod 4
// with QCD), so every prefix of a sample is balanced. A jet takes about
// 720 bytes with zlib.
//
// # The model
//
// Parent: pT from dN/dpT ∝ pT⁻³ in [600, 1200] GeV, η uniform in
// [−1.5, 1.5], φ uniform; its direction is the jet's cone axis (R = 0.8).
//
//   - W (Breit–Wigner 80.38 ± 2.09 GeV) and Z (91.19 ± 2.50 GeV) decay to
//     two massless quarks, isotropic in the boson's frame.
//   - top (172.5 ± 1.42 GeV) decays to b (4.78 GeV) and a W, the W to two
//     quarks: three prongs, one pair of which has the W mass.
//   - QCD: one light quark or gluon (even odds) of the parent's pT.
//
// Shower: every quark (and every emitted gluon) radiates gluons in the
// soft-collinear limit, with density (2αs·C/π)·dθ/θ·dz/z (αs = 0.13,
// C = 4/3 for quarks, 3 for gluons), z log-uniform in (10⁻³, ½), angles
// ordered downwards from the colour-coherence limit (the angle to the
// nearest other prong for decay products; R for QCD), emissions of
// relative transverse momentum z·pT·θ below 0.4 GeV unresolved. Emitter
// and gluon share the pT and keep the pT-weighted direction.
//
// Hadronisation: every parton becomes 1 + Poisson(1.4·ln(1 + pT))
// massless hadrons sharing its pT by exponential weights, spread by about
// 0.35 GeV/pT around it. For W, Z and top the hadrons' momenta are then
// scaled so that they carry the parent's mass exactly (the pT-conserving
// shower does not conserve it).
//
// Pile-up and underlying event: Poisson(μ) particles, μ uniform in
// [2, 10], of pT 0.1 + Exp(0.4) GeV, uniform over the cone.
//
// Detector: a hadron is charged (62%: π±, K±, p±, PDG ±211, ±321, ±2212),
// a photon (25%, 22) or a neutral hadron (13%: K⁰_L 130 or n 2112).
// Resolutions: tracks σ(pT)/pT = 0.5% ⊕ 1.5·10⁻⁴·pT; photons
// σ(E)/E = 5%/√E ⊕ 1%; neutral hadrons 100%/√E ⊕ 8% and a direction
// smeared by 0.02; photons and neutral hadrons of one jet also share a
// calorimeter response drawn from a gaussian of 12% around 1.
// Thresholds: pT > 0.4 (tracks), 0.5 (photons), 1 GeV (neutral hadrons).
// Constituents are massless (E = pT·cosh η), as particle-flow candidates
// are in the HLS4ML data. What lies within ΔR < 0.8 of the axis is kept;
// the jet is the sum of all of it, the branches store its hardest 100.
//
// # The distributions (TestDistributions, 2000 jets per class)
//
//	class  mass q16/50/84 (GeV)  constituents q5/50/95  τ21 median  τ32 median
//	W       79.6 /  86.7 /  94.5      20 / 36 / 59         0.30        0.81
//	Z       88.8 /  96.9 / 104.9      20 / 37 / 59         0.29        0.80
//	top    131.3 / 172.4 / 183.0      27 / 44 / 69         0.47        0.44
//	QCD     42.6 /  78.8 / 175.0      16 / 41 / 81         0.60        0.79
//
// The peaks sit a few GeV above the resonances (pile-up adds mass); W and
// Z overlap (a cut halfway between their medians misplaces about a quarter
// of them); a top tail reaches down to the W mass when the b or a quark
// falls outside the cone. N-subjettiness (τ_N with exclusive-kT axes,
// computed by the test) shows the prongs: W and Z low in τ21, top low in
// τ32, QCD high in both. Jet pT medians are about 700 GeV (W, Z) to 760
// (QCD).
//
// # Determinism
//
// Jet i is a pure function of (Seed, i, QCD option): a PCG stream seeded
// from them alone. The same seed gives the same jets however they are
// split into files and whatever order the files are written in.
package jets
