//go:build !purego

#include "textflag.h"

// func update8(n int, p, m, v, ga, gb *float32, c *Consts)
//
// Eight weights a pass, the scalar code's operations in its order:
//	g = ga + gb (if gb)
//	m = B1·m + C1·g
//	v = B2·v + (C2·g)·g
//	p = p − (Step·m) / (√v + Eps)
// Go's assembler writes VOP b, a, dst for dst = a OP b.
TEXT ·update8(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX
	MOVQ p+8(FP), DI
	MOVQ m+16(FP), SI
	MOVQ v+24(FP), DX
	MOVQ ga+32(FP), R8
	MOVQ gb+40(FP), R9
	MOVQ c+48(FP), AX
	VBROADCASTSS 0(AX), Y8
	VBROADCASTSS 4(AX), Y9
	VBROADCASTSS 8(AX), Y10
	VBROADCASTSS 12(AX), Y11
	VBROADCASTSS 16(AX), Y12
	VBROADCASTSS 20(AX), Y13
	XORQ BX, BX
	TESTQ R9, R9
	JZ one

two:
	CMPQ BX, CX
	JGE done
	VMOVUPS (R8)(BX*4), Y0
	VADDPS (R9)(BX*4), Y0, Y0
	JMP step

one:
	CMPQ BX, CX
	JGE done
	VMOVUPS (R8)(BX*4), Y0

step:
	VMULPS (SI)(BX*4), Y8, Y1
	VMULPS Y0, Y9, Y2
	VADDPS Y2, Y1, Y1
	VMOVUPS Y1, (SI)(BX*4)
	VMULPS (DX)(BX*4), Y10, Y3
	VMULPS Y0, Y11, Y4
	VMULPS Y0, Y4, Y4
	VADDPS Y4, Y3, Y3
	VMOVUPS Y3, (DX)(BX*4)
	VSQRTPS Y3, Y3
	VADDPS Y13, Y3, Y3
	VMULPS Y1, Y12, Y1
	VDIVPS Y3, Y1, Y1
	VMOVUPS (DI)(BX*4), Y5
	VSUBPS Y1, Y5, Y5
	VMOVUPS Y5, (DI)(BX*4)
	ADDQ $8, BX
	TESTQ R9, R9
	JZ one
	JMP two

done:
	VZEROUPPER
	RET
