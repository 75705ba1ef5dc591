#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// One step of the feature loop: two panel registers times six broadcast
// query values, accumulated into Y0..Y11.
#define STEP(qoff, poff) \
	VMOVUPS poff(DI), Y12; \
	VMOVUPS poff+32(DI), Y13; \
	VBROADCASTSS qoff(SI), Y14; \
	VBROADCASTSS qoff+4(SI), Y15; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS qoff+8(SI), Y14; \
	VBROADCASTSS qoff+12(SI), Y15; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS qoff+16(SI), Y14; \
	VBROADCASTSS qoff+20(SI), Y15; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11

// One query row of the epilogue: scores rn - 2 dot into lo and hi, stored
// to the row at DX; their comparison with the row's threshold at R10
// gives the 16-bit mask stored at R11. Then DX, R10 and R11 move to the
// next row.
#define ROW(lo, hi) \
	VADDPS lo, lo, lo; \
	VSUBPS lo, Y12, lo; \
	VADDPS hi, hi, hi; \
	VSUBPS hi, Y13, hi; \
	VMOVUPS lo, (DX); \
	VMOVUPS hi, 32(DX); \
	VBROADCASTSS (R10), Y14; \
	VCMPPS $1, Y14, lo, Y15; \
	VMOVMSKPS Y15, AX; \
	VCMPPS $1, Y14, hi, Y15; \
	VMOVMSKPS Y15, R13; \
	SHLL $8, R13; \
	ORL R13, AX; \
	MOVW AX, (R11); \
	ADDQ R8, DX; \
	ADDQ $4, R10; \
	ADDQ R12, R11

// func score6x16(qp, pp *float32, d int, rn, thr, out *float32, ldo int, mask *uint16, ldm int)
TEXT ·score6x16(SB), NOSPLIT, $0-72
	MOVQ qp+0(FP), SI
	MOVQ pp+8(FP), DI
	MOVQ d+16(FP), CX
	MOVQ rn+24(FP), R9
	MOVQ thr+32(FP), R10
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), R8
	SHLQ $2, R8
	MOVQ mask+56(FP), R11
	MOVQ ldm+64(FP), R12
	SHLQ $1, R12

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	// Two features per iteration halve the loop overhead.
	MOVQ CX, BX
	SHRQ $1, BX
	JZ   tail

loop2:
	STEP(0, 0)
	STEP(24, 64)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  loop2

tail:
	ANDQ $1, CX
	JZ   epilogue
	STEP(0, 0)

epilogue:
	VMOVUPS (R9), Y12
	VMOVUPS 32(R9), Y13
	ROW(Y0, Y1)
	ROW(Y2, Y3)
	ROW(Y4, Y5)
	ROW(Y6, Y7)
	ROW(Y8, Y9)
	ROW(Y10, Y11)
	VZEROUPPER
	RET
