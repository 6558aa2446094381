// A 174-byte x86 guest that proves KVM can run a 64-bit guest: a multiboot image (loaded at
// 1 MiB by QEMU's -kernel) that builds identity page tables, enters long mode and writes 0x31
// to the isa-debug-exit port, so QEMU exits with status (0x31 << 1) | 1 = 99.
// A readable /dev/kvm is not enough: on nested hosts KVM initialises, then fails to run guests.
//
// Source (assemble: gcc -c -m32 probe.S && ld -m elf_i386 -Ttext=0x100000 --oformat binary):
//   .code32                                   entry:  cli
//   header: .long 0x1BADB002, 0x00010000,             mov $0x300000,%edi; xor %eax,%eax
//           .long -(0x1BADB002+0x00010000)            mov $3072,%ecx; rep stosl
//           .long header, 0x100000, 0, 0, entry       movl $0x301003,0x300000   # PML4[0]
//   .code64                                           movl $0x302003,0x301000   # PDPT[0]
//   long64: mov $0x31,%al; out %al,$0xf4              movl $0x83,0x302000       # 2 MiB page
//   1: hlt; jmp 1b                                    mov $0x300000,%eax; mov %eax,%cr3
//   gdt:  .quad 0, 0x00209A0000000000,                cr4 |= PAE; EFER |= LME (rdmsr/wrmsr)
//         .quad 0x0000920000000000                    cr0 |= PG|PE; lgdt gdtr
//   gdtr: .word 23; .long gdt                         ljmp $0x08,$long64
const HEX =
  "02b0ad1b00000100fe4f51e40000100000001000000000000000000020001000fabf0000300031c0b9000c0000f3abc7" +
  "050000300003103000c7050010300003203000c7050020300083000000b8000030000f22d80f20e083c8200f22e0b98000" +
  "00c00f320d000100000f300f20c00d010000800f22c00f0115a8001000ea850010000800b031e6f4f4ebfd8d7426000000" +
  "00000000000000000000009a20000000000000920000170090001000";

export const KVM_PROBE_GUEST: Buffer = Buffer.from(HEX, "hex");

/** QEMU arguments that run the probe guest under KVM with the CPU model accelerated VMs use. */
export function kvmProbeArgs(guestFile: string): string[] {
  return [
    "-accel",
    "kvm",
    "-cpu",
    "host",
    "-machine",
    "pc",
    "-m",
    "16",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-monitor",
    "none",
    "-serial",
    "none",
    "-kernel",
    guestFile,
    "-device",
    "isa-debug-exit,iobase=0xf4,iosize=0x04",
  ];
}
