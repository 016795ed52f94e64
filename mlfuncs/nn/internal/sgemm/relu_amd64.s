//go:build !purego

#include "textflag.h"

// func relu8(p *float32, n8 int)
// VMAXPS returns its second source (zero) when the first is NaN or when
// they compare equal (-0), so the result is +0 there.
TEXT ·relu8(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), DI
	MOVQ n8+8(FP), CX
	VXORPS Y1, Y1, Y1
loop:
	VMOVUPS (DI), Y0
	VMAXPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ loop
	VZEROUPPER
	RET
