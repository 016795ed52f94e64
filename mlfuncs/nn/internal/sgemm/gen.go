//go:build ignore

// gen writes kernel_amd64.s: one strip kernel per row count 1..6. The six
// differ only in how many rows they broadcast and accumulate, so they are
// generated rather than kept in step by hand.
//
//	go run gen.go
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }
func label(l string)               { fmt.Fprintf(&out, "%s:\n", l) }

// Register use (bytes for strides):
//
//	AX a strip base, R8 row stride of op(a), DI k stride of op(a)
//	R12, R13 a cursors for rows 0-2 and 3-5
//	DX b block base, BX b cursor, R11 ldb
//	CX c block base, R10 ldc
//	SI k, R9 k counter (mask pointer in the edge block, SI the counter)
//	Y0-Y11 accumulators, Y12/Y13 b, Y14/Y15 broadcasts (Y15 the mask at the edge)

// aAddr is row r of op(a) at the cursor.
func aAddr(r int) string {
	base := "R12"
	if r >= 3 {
		base, r = "R13", r-3
	}
	if r == 0 {
		return "(" + base + ")"
	}
	return fmt.Sprintf("(%s)(R8*%d)", base, r)
}

// cAddr is row r of the c block at byte offset off; rows 3-5 go through
// R12, free once the k loop is done.
func cAddr(r, off int) string {
	o := ""
	if off != 0 {
		o = fmt.Sprint(off)
	}
	base := "CX"
	if r >= 3 {
		base, r = "R12", r-3
	}
	if r == 0 {
		return o + "(" + base + ")"
	}
	return fmt.Sprintf("%s(%s)(R10*%d)", o, base, r)
}

func setC(mr int) {
	if mr > 3 {
		p("LEAQ (CX)(R10*2), R12")
		p("ADDQ R10, R12")
	}
}

func setA(mr int) {
	p("MOVQ AX, R12")
	if mr > 3 {
		p("LEAQ (AX)(R8*2), R13")
		p("ADDQ R8, R13")
	}
}

func stepA(mr int) {
	p("ADDQ DI, R12")
	if mr > 3 {
		p("ADDQ DI, R13")
	}
}

// kind: 16 full, 8 masked 8-wide (mask Y15), 9 full 8 + masked 8 (mask Y15).
func kernel(mr, kind int) {
	acc := func(r, h int) string {
		if kind == 8 {
			return fmt.Sprintf("Y%d", r)
		}
		return fmt.Sprintf("Y%d", 2*r+h)
	}
	halves := 2
	if kind == 8 {
		halves = 1
	}
	masked := func(h int) bool { return kind == 8 || kind == 9 && h == 1 }
	sfx := fmt.Sprintf("%d_%d", mr, kind)

	// Accumulators start from c (beta 1) or zero (beta 0, c unread).
	setC(mr)
	p("CMPB acc+72(FP), $0")
	p("JEQ zero%s", sfx)
	for r := 0; r < mr; r++ {
		for h := 0; h < halves; h++ {
			if masked(h) {
				p("VMASKMOVPS %s, Y15, %s", cAddr(r, 32*h), acc(r, h))
			} else {
				p("VMOVUPS %s, %s", cAddr(r, 32*h), acc(r, h))
			}
		}
	}
	p("JMP start%s", sfx)
	label("zero" + sfx)
	for r := 0; r < mr; r++ {
		for h := 0; h < halves; h++ {
			p("VXORPS %s, %s, %s", acc(r, h), acc(r, h), acc(r, h))
		}
	}
	label("start" + sfx)

	ctr := "R9"
	if kind != 16 {
		ctr = "SI"
	} else {
		p("MOVQ SI, R9")
	}
	setA(mr)
	p("MOVQ DX, BX")
	label("loop" + sfx)
	for h := 0; h < halves; h++ {
		if masked(h) {
			p("VMASKMOVPS %d(BX), Y15, Y%d", 32*h, 12+h)
		} else {
			p("VMOVUPS %d(BX), Y%d", 32*h, 12+h)
		}
	}
	for r := 0; r < mr; r++ {
		bc := 14
		if kind == 16 {
			bc += r & 1
		}
		p("VBROADCASTSS %s, Y%d", aAddr(r), bc)
		for h := 0; h < halves; h++ {
			p("VFMADD231PS Y%d, Y%d, %s", 12+h, bc, acc(r, h))
		}
	}
	stepA(mr)
	p("ADDQ R11, BX")
	p("DECQ %s", ctr)
	p("JNZ loop%s", sfx)

	setC(mr)
	for r := 0; r < mr; r++ {
		for h := 0; h < halves; h++ {
			if masked(h) {
				p("VMASKMOVPS %s, Y15, %s", acc(r, h), cAddr(r, 32*h))
			} else {
				p("VMOVUPS %s, %s", acc(r, h), cAddr(r, 32*h))
			}
		}
	}
}

func strip(mr int) {
	fmt.Fprintf(&out, "\n// func strip%d(k int, a *float32, rsA, ksA int, b *float32, ldb int, c *float32, ldc int, n int, acc bool)\n", mr)
	fmt.Fprintf(&out, "TEXT ·strip%d(SB), NOSPLIT, $0-73\n", mr)
	p("MOVQ k+0(FP), SI")
	p("MOVQ a+8(FP), AX")
	p("MOVQ rsA+16(FP), R8")
	p("SHLQ $2, R8")
	p("MOVQ ksA+24(FP), DI")
	p("SHLQ $2, DI")
	p("MOVQ b+32(FP), DX")
	p("MOVQ ldb+40(FP), R11")
	p("SHLQ $2, R11")
	p("MOVQ c+48(FP), CX")
	p("MOVQ ldc+56(FP), R10")
	p("SHLQ $2, R10")

	label(fmt.Sprintf("block%d", mr))
	p("CMPQ n+64(FP), $16")
	p("JLT edge%d", mr)
	kernel(mr, 16)
	p("ADDQ $64, DX")
	p("ADDQ $64, CX")
	p("SUBQ $16, n+64(FP)")
	p("JMP block%d", mr)

	// The last 1..15 columns: lanes past n are neither loaded nor stored,
	// so a strip may end at the very end of b's or c's slice.
	label(fmt.Sprintf("edge%d", mr))
	p("MOVQ n+64(FP), R9")
	p("TESTQ R9, R9")
	p("JEQ done%d", mr)
	p("LEAQ ·edgeMask(SB), BX")
	p("NEGQ R9")
	p("LEAQ 64(BX)(R9*4), R9")
	p("CMPQ n+64(FP), $8")
	p("JGT wide%d", mr)
	p("VMOVUPS (R9), Y15")
	kernel(mr, 8)
	p("JMP done%d", mr)
	label(fmt.Sprintf("wide%d", mr))
	p("VMOVUPS 32(R9), Y15")
	kernel(mr, 9)
	label(fmt.Sprintf("done%d", mr))
	p("VZEROUPPER")
	p("RET")
}

// transpose8 moves 8×8 blocks with the usual unpack, shuffle and lane
// permute sequence. Register use: SI, R10 source rows 0-3 and 4-7, R8 and
// R9 its stride and 3× stride; DI, R13 destination rows 0-3 and 4-7, R11
// and R12 the same for it; BX, CX the block counters, DX the column count.
func transpose8() {
	out.WriteString("\n// func transpose8(dst *float32, ldd int, src *float32, lds int, rows8, cols8 int)\n")
	out.WriteString("TEXT ·transpose8(SB), NOSPLIT, $0-48\n")
	p("MOVQ ldd+8(FP), R11")
	p("SHLQ $2, R11")
	p("LEAQ (R11)(R11*2), R12")
	p("MOVQ lds+24(FP), R8")
	p("SHLQ $2, R8")
	p("LEAQ (R8)(R8*2), R9")
	p("MOVQ rows8+32(FP), BX")
	p("MOVQ cols8+40(FP), DX")
	p("TESTQ BX, BX")
	p("JEQ tdone")
	p("TESTQ DX, DX")
	p("JEQ tdone")
	label("trows")
	// Block row jb: source rows 8jb.., destination columns 8jb...
	p("MOVQ src+16(FP), SI")
	p("MOVQ dst+0(FP), DI")
	p("MOVQ DX, CX")
	label("tcols")
	p("LEAQ (SI)(R8*4), R10")
	p("LEAQ (DI)(R11*4), R13")
	src := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)", "(R10)", "(R10)(R8*1)", "(R10)(R8*2)", "(R10)(R9*1)"}
	dst := []string{"(DI)", "(DI)(R11*1)", "(DI)(R11*2)", "(DI)(R12*1)", "(R13)", "(R13)(R11*1)", "(R13)(R11*2)", "(R13)(R12*1)"}
	for i := 0; i < 8; i++ {
		p("VMOVUPS %s, Y%d", src[i], i)
	}
	// t(2i) = interleaved low halves of rows 2i, 2i+1; t(2i+1) the high.
	for i := 0; i < 4; i++ {
		p("VUNPCKLPS Y%d, Y%d, Y%d", 2*i+1, 2*i, 8+2*i)
		p("VUNPCKHPS Y%d, Y%d, Y%d", 2*i+1, 2*i, 9+2*i)
	}
	// s: columns q and q+4 of rows 0-3 (Y0-Y3) and of rows 4-7 (Y4-Y7).
	for g := 0; g < 2; g++ {
		t := 8 + 4*g
		p("VSHUFPS $0x44, Y%d, Y%d, Y%d", t+2, t, 4*g)
		p("VSHUFPS $0xEE, Y%d, Y%d, Y%d", t+2, t, 4*g+1)
		p("VSHUFPS $0x44, Y%d, Y%d, Y%d", t+3, t+1, 4*g+2)
		p("VSHUFPS $0xEE, Y%d, Y%d, Y%d", t+3, t+1, 4*g+3)
	}
	for q := 0; q < 4; q++ {
		p("VPERM2F128 $0x20, Y%d, Y%d, Y%d", q+4, q, 8+q)
		p("VPERM2F128 $0x31, Y%d, Y%d, Y%d", q+4, q, 12+q)
	}
	for q := 0; q < 8; q++ {
		p("VMOVUPS Y%d, %s", 8+q, dst[q])
	}
	p("ADDQ $32, SI")
	p("LEAQ (DI)(R11*8), DI")
	p("DECQ CX")
	p("JNZ tcols")
	p("MOVQ R8, R10")
	p("SHLQ $3, R10")
	p("ADDQ R10, src+16(FP)")
	p("ADDQ $32, dst+0(FP)")
	p("DECQ BX")
	p("JNZ trows")
	label("tdone")
	p("VZEROUPPER")
	p("RET")
}

func main() {
	out.WriteString("// Code generated by gen.go; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n\n")
	out.WriteString("// edgeMask[16-r:][:16] enables the first r lanes of a 16-float row.\n")
	for i := 0; i < 32; i++ {
		v := "$0xffffffff"
		if i >= 16 {
			v = "$0"
		}
		fmt.Fprintf(&out, "DATA ·edgeMask+%d(SB)/4, %s\n", 4*i, v)
	}
	out.WriteString("GLOBL ·edgeMask(SB), RODATA|NOPTR, $128\n")
	for mr := 1; mr <= 6; mr++ {
		strip(mr)
	}
	transpose8()
	if err := os.WriteFile("kernel_amd64.s", out.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
