// Package topology generates synthetic, Delphes-like proton–proton events
// for the LHC topology classifier (../shared/specs/topology.md): three
// samples, QCD multijet (label 0), tt̄ (label 1) and W+jets (label 2),
// written as ROOT files with NanoAOD-style branches.
//
// The events are synthetic. They are drawn from a toy model written for
// this project, not from a matrix-element generator, parton shower or
// detector simulation, and nothing in them is a physics prediction. The
// model aims at what the topology classifier's pipeline needs: the
// collections, multiplicities and event size of the real samples, and
// classes that differ the way the real ones do, without being trivially
// separable.
//
// # Files and branches
//
// Generate splits Options.Events equally between the classes (PerClass;
// the remainder goes to the lowest labels) and writes each class to its
// own files, qcd_0000.root, ttbar_0000.root, wjets_0000.root, … (FileName,
// ClassOf), holding a tree "Events". Each collection is a UInt_t counter
// and one Float_t or Int_t array per field:
//
//	nEFlowTrack          EFlowTrack_PT, _Eta, _Phi, _Charge (Int_t), _PID (Int_t, signed PDG id), _X, _Y, _Z (mm)
//	nEFlowPhoton         EFlowPhoton_ET, _Eta, _Phi
//	nEFlowNeutralHadron  EFlowNeutralHadron_ET, _Eta, _Phi
//	nElectron            Electron_PT, _Eta, _Phi, _Charge (Int_t)
//	nMuonTight           MuonTight_PT, _Eta, _Phi, _Charge (Int_t)
//	nJet                 Jet_PT, _Eta, _Phi, _Mass, _BTag (Int_t, 1 if b-tagged)
//	MissingET_MET, MissingET_Phi (scalars)
//
// Particle-flow collections are in production order, not sorted (as in
// Delphes); electrons, muons and jets are sorted by decreasing pT. An event
// weighs about 16 kB with zlib (18 kB uncompressed); the real Delphes
// files, with many more fields, held 83 kB.
//
// # The model
//
// Hard process, by class:
//   - QCD: a dijet pair with pT drawn from dN/dpT ∝ pT^-4.5 above 35 GeV,
//     plus Poisson(1.2) extra jets (pT^-3.5 above 20 GeV). The sample is
//     rich in heavy flavour (25% b, 20% c jets), so leptons come mostly
//     from b and c decays inside jets: a b (c) jet holds a lepton with
//     probability 0.45 (0.25), taking a share z = 0.05 + 0.75u² (u uniform)
//     of the jet's momentum, so it is rarely isolated. 8% of events also
//     hold an isolated fake: a jet whose energy one charged hadron carries
//     and which is reconstructed as an electron (70%) or muon (30%); its
//     track keeps the hadron's PID. MET comes from resolution only.
//   - tt̄: the pair recoils against Poisson(0.8) radiated jets; each top
//     (Breit–Wigner mass) decays t → bW isotropically. One W decays to eν
//     or μν, the other to quarks (to leptons too in 10% of events), giving
//     two b jets, two light jets (one a charm jet half of the time) and
//     high HT.
//   - W+jets: a W (Breit–Wigner mass, rapidity spread 1.8) recoils against
//     Poisson(1.8) jets (3% b, 7% c); W → eν or μν, isotropic in the W
//     frame, which gives the lepton its Jacobian peak below mW/2 and the
//     event real MET; W⁺ makes 57% of them.
//
// Jets: a parton fragments into 2 + Poisson(1.6·sqrt(pT)) massless
// particles sharing its pT by exponential weights, spread around the axis
// with σ = 0.02 + 0.1/sqrt(1 + pT) in η and φ within ΔR < 0.4: 62% tracks
// (π, K, p), 25% photons, 13% neutral hadrons. A b jet's tracks come from
// a displaced vertex half of the time (decay length growing with pT). The
// Jet object is the four-vector sum of its particles (and lepton), pT
// smeared by 8%, kept above 20 GeV within |η| < 4.7. B-tagging, within
// |η| < 2.5: efficiency 0.7 for b, 0.1 for c, mistag 0.01 for light jets.
//
// Leptons: every charged lepton leaves a track (PID −11·q or −13·q: e⁻ and
// μ⁻ have positive PDG ids) and, when reconstructed (pT > 10, |η| < 2.5
// for electrons and 2.4 for muons, efficiency 0.90 and 0.95), an Electron
// or MuonTight entry at exactly the track's η and φ, so the lepton's own
// track is at ΔR = 0 and must be removed from its isolation and from the
// matrix. A muon has the track's pT; an electron's pT is smeared by 2%.
//
// Soft particles: the primary vertex adds an underlying event of Poisson
// 40 tracks, 60 photons and 45 neutral hadrons; pile-up adds Poisson(μ)
// vertices with μ uniform in [12, 38] per event, each with Poisson 10
// tracks, 12 photons and 10 neutral hadrons, flat in η (|η| < 2.5 for
// tracks, 3.0 for towers), with pT 0.2 + Exp(0.8) for tracks, 0.02 +
// Exp(0.5) for photons, 0.05 + Exp(0.8) for neutral hadrons. This gives
// the multiplicities of spec section 1: 5%–95% ranges of about 170–470
// tracks (120–330 above 0.5 GeV), 200–560 photons (30–90 above 1 GeV) and
// 160–450 neutral hadrons (50–140 above 1 GeV). Vertices are spread along
// z by a gaussian of 40 mm (and 15 µm transversally); a track's X, Y, Z is
// its vertex smeared by 10 µm (30 µm in z).
//
// MET: the sum of neutrinos' transverse momenta plus a gaussian of
// σ = 0.5·sqrt(ΣET) per component, ΣET the scalar sum of all particles'
// pT.
//
// With the spec's selection (internal/topref), about 46% of the events
// pass, 6% of QCD, 72% of tt̄ and 58% of W+jets, so the mix after selection
// is roughly QCD 5%, tt̄ 53%, W+jets 43% (the reference data: 47%, and 5.6%,
// 56.0%, 38.4%).
//
// # Determinism
//
// Event i of class c is a pure function of (Seed, c, i): a PCG stream
// seeded from them alone. The same seed gives the same events however
// they are split into files and whatever order the files are written in.
package topology
