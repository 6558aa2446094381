/*
 * The x86_64 KVM probe guest: what an early Linux kernel asks of the hypervisor, in ~1 KiB.
 * QEMU loads it as a multiboot image at 1 MiB (-kernel) and runs it under the acceleration
 * being probed. It prints one letter per stage on COM1, so a probe that hangs says where, and
 * ends by writing to the isa-debug-exit port (QEMU exits with status (value << 1) | 1):
 *
 *   A  entered from the loader; CPUID leaves Linux reads early (vendor, features, leaf 7,
 *      XSAVE leaf 0xd, extended leaves, the hypervisor leaf)        no long mode: exit 0x10
 *   B  identity page tables (first 64 MiB, plus the local APIC page), PAE, EFER.LME/NXE, paging
 *   C  in long mode, an IDT (any exception ends the probe): MSRs Linux reads and writes (PAT, APIC base, STAR/LSTAR/SFMASK, FS/GS
 *      bases, TSC, ARCH_CAPABILITIES when advertised, kvmclock when KVM advertises it)
 *   D  x87/SSE on, XSAVE with every state component CPUID reports (xsetbv), an SSE instruction
 *   E  first touch of 56 MiB, one store per 4 KiB page, read back (two-level paging faults)
 *   F  timer interrupts: 8259 PIC remapped, PIT channel 0 at ~1 kHz, HLT until 20 ticks
 *   G  local APIC timer: software-enabled APIC, periodic timer, HLT until 10 ticks
 *   then "ok" and exit 0x31 (QEMU status 99). An unexpected exception prints '!' and exits 0x12.
 *
 * Build (binutils; kvm-probe-guest.test.ts checks that the bytes in kvm-probe-guest.ts match):
 *   gcc -c kvm-probe-guest.S -o probe.o
 *   ld -m elf_x86_64 -Ttext=0x100000 --oformat binary -o probe.bin probe.o
 */
        .set COM1, 0x3f8
        .set EXIT_PORT, 0xf4
        .set EXIT_OK, 0x31
        .set EXIT_NO_LONG_MODE, 0x10
        .set EXIT_EXCEPTION, 0x12
        .set PML4, 0x300000
        .set PDPT, 0x301000
        .set PD_LOW, 0x302000          /* 0 - 1 GiB: 32 x 2 MiB = 64 MiB */
        .set PD_APIC, 0x303000         /* 3 - 4 GiB: the local APIC's 2 MiB page */
        .set IDT, 0x310000
        .set KVMCLOCK, 0x311000
        .set STACK_TOP, 0x200000
        .set TOUCH_START, 0x400000
        .set TOUCH_END, 0x3c00000
        .set LAPIC, 0xfee00000
        .set PIT_TICKS, 20
        .set LAPIC_TICKS, 10

/* One stage letter on COM1 (the port needs %dx: it is above 0xff). */
        .macro mark char
        mov $\char, %al
        mov $COM1, %dx
        outb %al, %dx
        .endm

        .text
        .code32
        .globl _start
_start:
header:                                 /* multiboot 0.6.96, load addresses given (bit 16) */
        .long 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
        .long header, header, 0, 0, entry

entry:
        cli
        mark 'A'
        xor %eax, %eax                  /* leaf 0: highest basic leaf in eax */
        cpuid
        mov %eax, %esi
        mov $1, %eax
        cpuid
        cmp $7, %esi
        jb 1f
        mov $7, %eax
        xor %ecx, %ecx
        cpuid
        cmp $0xd, %esi
        jb 1f
        mov $0xd, %eax
        xor %ecx, %ecx
        cpuid
        mov $0xd, %eax
        mov $1, %ecx
        cpuid
1:      mov $0x40000000, %eax           /* hypervisor leaf (any answer is fine) */
        cpuid
        mov $0x80000000, %eax
        cpuid
        cmp $0x80000001, %eax
        jb no_long_mode
        mov %eax, %esi
        mov $0x80000001, %eax
        cpuid
        bt $29, %edx                    /* LM */
        jnc no_long_mode
        mov %edx, %ebp                  /* keep NX (bit 20) for EFER */
        cmp $0x80000008, %esi
        jb 2f
        mov $0x80000007, %eax
        cpuid
        mov $0x80000008, %eax
        cpuid
2:      mark 'B'

        mov $PML4, %edi                 /* zero the four tables */
        xor %eax, %eax
        mov $4096, %ecx
        rep stosl
        movl $(PDPT + 3), PML4
        movl $(PD_LOW + 3), PDPT
        movl $(PD_APIC + 3), PDPT + 3 * 8
        mov $PD_LOW, %edi               /* 2 MiB pages, present + writable + large */
        mov $0x83, %eax
        mov $32, %ecx
3:      mov %eax, (%edi)
        add $0x200000, %eax
        add $8, %edi
        loop 3b
        /* LAPIC page: uncached (PCD | PWT) */
        movl $(LAPIC + 0x9b), PD_APIC + ((LAPIC - 0xc0000000) >> 21) * 8
        mov $PML4, %eax
        mov %eax, %cr3
        mov %cr4, %eax
        or $0x20, %eax                  /* PAE */
        mov %eax, %cr4
        mov $0xc0000080, %ecx           /* EFER: LME, and NXE when CPUID has NX */
        rdmsr
        or $0x100, %eax
        bt $20, %ebp
        jnc 4f
        or $0x800, %eax
4:      wrmsr
        mov %cr0, %eax
        or $0x80010001, %eax            /* PG | WP | PE */
        mov %eax, %cr0
        lgdt gdtr
        ljmp $0x08, $long64

        .code64
long64:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $STACK_TOP, %esp
        mov $IDT, %edi                  /* every vector → unexpected, then 0x20, 0x27, 0x30 */
        mov $unexpected, %ebx
        mov $256, %ecx
11:     call set_gate
        add $16, %edi
        loop 11b
        mov $(IDT + 0x20 * 16), %edi
        mov $pit_tick, %ebx
        call set_gate
        mov $(IDT + 0x27 * 16), %edi    /* spurious IRQ 7: no EOI */
        mov $just_return, %ebx
        call set_gate
        mov $(IDT + 0x30 * 16), %edi
        mov $lapic_tick, %ebx
        call set_gate
        mov $(IDT + 0xff * 16), %edi    /* APIC spurious vector */
        mov $just_return, %ebx
        call set_gate
        lidt idtr
        mark 'C'

        mov $0x277, %ecx                /* PAT: read, write Linux's layout */
        rdmsr
        mov $0x00070406, %eax
        mov $0x00070406, %edx
        wrmsr
        mov $0x1b, %ecx                 /* APIC base */
        rdmsr
        xor %eax, %eax                  /* syscall MSRs */
        mov $0x00230010, %edx
        mov $0xc0000081, %ecx
        wrmsr
        mov $long64, %eax
        xor %edx, %edx
        mov $0xc0000082, %ecx
        wrmsr
        mov $0x47700, %eax
        mov $0xc0000084, %ecx
        wrmsr
        xor %eax, %eax                  /* FS, GS and kernel GS bases */
        mov $0xc0000100, %ecx
        wrmsr
        mov $0xc0000101, %ecx
        wrmsr
        mov $0xc0000102, %ecx
        wrmsr
        rdtsc
        xor %eax, %eax                  /* ARCH_CAPABILITIES when CPUID.7.EDX[29] says so */
        cpuid
        cmp $7, %eax
        jb 5f
        mov $7, %eax
        xor %ecx, %ecx
        cpuid
        bt $29, %edx
        jnc 5f
        mov $0x10a, %ecx
        rdmsr
5:      mov $0x40000000, %eax           /* kvmclock, when KVM advertises it ("KVMKVMKVM") */
        cpuid
        cmp $0x4b4d564b, %ebx
        jne 6f
        cmp $0x40000001, %eax
        jb 6f
        mov $0x40000001, %eax
        cpuid
        bt $3, %eax                     /* KVM_FEATURE_CLOCKSOURCE2 */
        jnc 6f
        mov $0x4b564d01, %ecx
        mov $(KVMCLOCK + 1), %eax
        xor %edx, %edx
        wrmsr
        rdtsc
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
6:      mark 'D'

        mov %cr0, %rax                  /* FPU: no emulation, native errors, monitor */
        and $~0x4, %eax
        or $0x22, %eax
        mov %rax, %cr0
        mov %cr4, %rax
        or $0x600, %eax                 /* OSFXSR | OSXMMEXCPT */
        mov %rax, %cr4
        mov $1, %eax
        cpuid
        bt $26, %ecx                    /* XSAVE */
        jnc 7f
        mov %cr4, %rax
        or $0x40000, %eax               /* OSXSAVE */
        mov %rax, %cr4
        mov $0xd, %eax
        xor %ecx, %ecx
        cpuid
        and $0xe7, %eax                 /* x87, SSE, AVX, AVX-512: what Linux enables */
        mov %eax, %ebx
        and $0xe0, %ebx                 /* AVX-512 only as a whole */
        cmp $0xe0, %ebx
        je 8f
        and $0x07, %eax
8:      xor %edx, %edx
        xor %ecx, %ecx
        xsetbv
        xgetbv
7:      fninit
        xorps %xmm0, %xmm0
        mark 'E'

        mov $TOUCH_START, %edi
9:      mov %edi, (%rdi)
        add $4096, %edi
        cmp $TOUCH_END, %edi
        jb 9b
        mov $TOUCH_START, %edi
10:     cmp %edi, (%rdi)
        jne unexpected
        add $4096, %edi
        cmp $TOUCH_END, %edi
        jb 10b
        mark 'F'


        mov $0x11, %al                  /* 8259: ICW1..4, vectors 0x20/0x28, only IRQ 0 */
        outb %al, $0x20
        outb %al, $0xa0
        mov $0x20, %al
        outb %al, $0x21
        mov $0x28, %al
        outb %al, $0xa1
        mov $4, %al
        outb %al, $0x21
        mov $2, %al
        outb %al, $0xa1
        mov $1, %al
        outb %al, $0x21
        outb %al, $0xa1
        mov $0xfe, %al
        outb %al, $0x21
        mov $0xff, %al
        outb %al, $0xa1
        mov $0x34, %al                  /* PIT channel 0, mode 2, divisor 1193 (~1 kHz) */
        outb %al, $0x43
        mov $0xa9, %al
        outb %al, $0x40
        mov $0x04, %al
        outb %al, $0x40
        sti
12:     hlt
        cmpl $PIT_TICKS, pit_ticks
        jb 12b
        cli
        mov $0xff, %al                  /* PIC off */
        outb %al, $0x21
        mark 'G'

        mov $LAPIC, %edi                /* (zero-extended: a disp32 would sign-extend) */
        movl $0x1ff, 0xf0(%rdi)         /* SVR: enabled, spurious vector 0xff */
        movl $0x3, 0x3e0(%rdi)          /* divide by 16 */
        movl $0x20030, 0x320(%rdi)      /* LVT timer: periodic, vector 0x30 */
        movl $100000, 0x380(%rdi)       /* initial count */
        sti
13:     hlt
        cmpl $LAPIC_TICKS, lapic_ticks
        jb 13b
        cli
        movl $0x10000, 0x320(%rdi)      /* timer masked */

        mark 'o'
        mark 'k'
        mark '\n'
        mov $EXIT_OK, %al
        outb %al, $EXIT_PORT
14:     hlt
        jmp 14b

/* IDT gate at %rdi for the handler at %ebx: 64-bit interrupt gate, code selector 0x08. */
set_gate:
        mov %bx, (%rdi)
        movw $0x08, 2(%rdi)
        movw $0x8e00, 4(%rdi)
        mov %ebx, %eax
        shr $16, %eax
        mov %ax, 6(%rdi)
        movq $0, 8(%rdi)
        ret

pit_tick:
        push %rax
        incl pit_ticks
        mov $0x20, %al                  /* EOI */
        outb %al, $0x20
        pop %rax
just_return:
        iretq

lapic_tick:
        push %rdi
        incl lapic_ticks
        mov $LAPIC, %edi
        movl $0, 0xb0(%rdi)             /* EOI */
        pop %rdi
        iretq

unexpected:
        mark '!'
        mov $EXIT_EXCEPTION, %al
        outb %al, $EXIT_PORT
15:     hlt
        jmp 15b

        .code32
no_long_mode:
        mov $EXIT_NO_LONG_MODE, %al
        outb %al, $EXIT_PORT
16:     hlt
        jmp 16b

        .balign 8
gdt:    .quad 0, 0x00209a0000000000, 0x0000920000000000
gdtr:   .word 23
        .long gdt
        .balign 4
idtr:   .word 256 * 16 - 1
        .quad IDT
pit_ticks:
        .long 0
lapic_ticks:
        .long 0
