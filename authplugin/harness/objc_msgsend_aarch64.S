/*
 * objc_msgSend for ap_uiharness on aarch64 Linux (AAPCS64): stores x0-x7,
 * d0-d7 and where the stack arguments start, and passes them to
 * fake_dispatch (fake_appkit.c). Its struct {long; double} result comes
 * back in x0 and x1 (a mixed 16-byte composite); x1 is copied to d0, where
 * a floating-point return value is expected.
 */
	.text
	.globl	objc_msgSend
	.type	objc_msgSend, %function
objc_msgSend:
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
	sub	sp, sp, #144
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	d0, d1, [sp, #64]
	stp	d2, d3, [sp, #80]
	stp	d4, d5, [sp, #96]
	stp	d6, d7, [sp, #112]
	add	x9, x29, #16
	str	x9, [sp, #128]
	mov	x0, sp
	bl	fake_dispatch
	fmov	d0, x1
	mov	sp, x29
	ldp	x29, x30, [sp], #16
	ret
	.size	objc_msgSend, .-objc_msgSend
	.section	.note.GNU-stack,"",@progbits
