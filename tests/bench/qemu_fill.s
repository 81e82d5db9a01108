# The QEMU baseline's guest (tests/bench/bench_linerate.py): a Multiboot 1
# kernel that fills its RAM above 2 MiB with non-zero data, page by page
# (each dword of a page holds the page's address, low bit set), tells the
# harness on the debug console (port 0xe9: "S" at start, "F" when filled)
# and halts with interrupts off, so that nothing is dirtied during migration.
# QEMU loads it with -kernel; entry in 32-bit protected mode, paging off.

	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000002          # bit 1: fill in mem_lower/mem_upper
	.set MB_INFO_MEM, 0x00000001       # multiboot_info.flags: mem_* valid
	.set DEBUGCON, 0xe9
	.set FILL_START, 0x00200000
	.set PAGE, 4096

	.text
	.globl start
	.align 4
mb_header:
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

start:
	cli
	cld
	mov $'S', %al
	out %al, $DEBUGCON
	# End of RAM: mem_upper is the KiB above 1 MiB; without it, fill nothing.
	mov $FILL_START, %edx
	testl $MB_INFO_MEM, (%ebx)
	jz done
	mov 8(%ebx), %edx
	shl $10, %edx
	add $0x00100000, %edx
	mov $FILL_START, %edi
fill:
	cmp %edx, %edi
	jae done
	mov %edi, %eax
	or $1, %eax
	mov $(PAGE / 4), %ecx
	rep stosl
	jmp fill
done:
	mov $'F', %al
	out %al, $DEBUGCON
halt:
	hlt
	jmp halt
