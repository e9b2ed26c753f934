/*
 * objc_msgSend for ap_uiharness on x86_64 Linux (System V ABI): like
 * Apple's, it leaves the caller's argument registers as they are, whatever
 * signature the call was cast to. It stores them all (rdi, rsi, rdx, rcx,
 * r8, r9; xmm0-7; where the stack arguments start) and passes them to
 * fake_dispatch (fake_appkit.c), whose struct {long; double} result comes
 * back in rax and xmm0, where either kind of return value is expected.
 */
	.text
	.globl	objc_msgSend
	.type	objc_msgSend, @function
objc_msgSend:
	pushq	%rbp
	movq	%rsp, %rbp
	subq	$128, %rsp
	movq	%rdi, 0(%rsp)
	movq	%rsi, 8(%rsp)
	movq	%rdx, 16(%rsp)
	movq	%rcx, 24(%rsp)
	movq	%r8, 32(%rsp)
	movq	%r9, 40(%rsp)
	movsd	%xmm0, 48(%rsp)
	movsd	%xmm1, 56(%rsp)
	movsd	%xmm2, 64(%rsp)
	movsd	%xmm3, 72(%rsp)
	movsd	%xmm4, 80(%rsp)
	movsd	%xmm5, 88(%rsp)
	movsd	%xmm6, 96(%rsp)
	movsd	%xmm7, 104(%rsp)
	leaq	16(%rbp), %rax
	movq	%rax, 112(%rsp)
	movq	%rsp, %rdi
	call	fake_dispatch
	leave
	ret
	.size	objc_msgSend, .-objc_msgSend
	.section	.note.GNU-stack,"",@progbits
