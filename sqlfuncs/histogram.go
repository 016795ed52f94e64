package sqlfuncs

import (
	"github.com/hepsql/hepsql/internal/capi"
)

// binning is the (lo, hi, nbins) arguments after the values.
type binning struct {
	lo, hi scalars[float64]
	nbins  scalars[int64]
}

func readBinning(in capi.Args) binning {
	n := in.Rows()
	return binning{readScalars[float64](in.Arg(1), n), readScalars[float64](in.Arg(2), n), readScalars[int64](in.Arg(3), n)}
}

// row checks the row's binning; a bad one is an error, not a NULL, since it
// is a mistake in the query rather than in the data.
func (b binning) row(r int) (lo, hi float64, nbins int, ok bool, err error) {
	if !b.lo.ok(r) || !b.hi.ok(r) || !b.nbins.ok(r) {
		return 0, 0, 0, false, nil
	}
	lo, hi, nb := b.lo.data[r], b.hi.data[r], b.nbins.data[r]
	if nb <= 0 || !(lo < hi) {
		return 0, 0, 0, false, capi.RowErrorf(r, "invalid binning: %d bins over [%g, %g)", nb, lo, hi)
	}
	return lo, hi, int(nb), true, nil
}

func execBinScalar(in capi.Args, out capi.Vector) error {
	n := in.Rows()
	v := readScalars[float64](in.Arg(0), n)
	b := readBinning(in)
	res := newResult[float64](out, n)
	for r := 0; r < n; r++ {
		lo, hi, nb, ok, err := b.row(r)
		if err != nil {
			return err
		}
		if !ok || !v.ok(r) {
			res.null(r)
			continue
		}
		res.data[r] = BinCentre(v.data[r], lo, hi, nb)
	}
	return nil
}

func execBinList[T float](in capi.Args, out capi.Vector) error {
	n := in.Rows()
	v := readLists[T](in.Arg(0), n)
	b := readBinning(in)
	w := newListResult[float64](out, n, len(v.child))
	for r := 0; r < n; r++ {
		lo, hi, nb, ok, err := b.row(r)
		if err != nil {
			return err
		}
		vals, okv := v.row(r)
		if !ok || !okv {
			w.null(r)
			continue
		}
		dst := w.begin(r, len(vals))
		for i, x := range vals {
			dst[i] = BinCentre(float64(x), lo, hi, nb)
		}
	}
	return w.finish()
}

var _ = define(&Function{
	Name:  "adl_bin",
	Group: "histograms",
	Summary: "The ADL benchmark's histogram position of a value (or of each element of a list): the centre of its bin of [lo, hi) in nbins bins, " +
		"lo − w/2 for underflow and hi + w/2 for overflow (w = bin width; the upper edge is exclusive).",
	Example: "SELECT adl_bin(37.2, 0, 2000, 100) AS x, adl_bin([-1.0, 2500.0], 0, 2000, 100) AS under_over",
	Overloads: append([]Overload{{
		Args: args("value", tDouble, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: tDouble, Exec: execBinScalar,
	}}, perElem(func(l capi.Type) Overload {
		return Overload{Args: args("values", l, "lo", tDouble, "hi", tDouble, "nbins", tBigInt), Returns: tDoubles,
			Exec: pick(l, execBinList[float32], execBinList[float64]).(func(capi.Args, capi.Vector) error)}
	})...),
})

var _ = define(&Function{
	Name:  "adl_hist",
	Group: "histograms",
	Summary: "Aggregate: the histogram of a column with adl_bin's convention, as a list of STRUCT(x, y) by ascending x, one per non-empty bin. " +
		"unnest(adl_hist(...), recursive := true) gives the benchmark's x, y rows.",
	Example: "SELECT unnest(adl_hist(v, 0, 10, 5), recursive := true) FROM (VALUES (1.0), (1.5), (9.0), (12.0)) t(v)",
	Params:  []string{"value", "lo", "hi", "nbins"},
	Macro: "list_sort(list_transform(map_entries(histogram(adl_bin(value, lo, hi, nbins))), " +
		"e -> {'x': e.key, 'y': e.value::BIGINT}))",
})
