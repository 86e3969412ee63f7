// A small eBPF assembler: instructions as the kernel reads them (struct bpf_insn, 8 bytes
// little-endian: code, dst | src << 4, off, imm), with labels for the jumps. Only what the VRRP
// receive filter (vrrp-filter.ts) needs; names follow the kernel's BPF_* macros.
import { NetError } from './errors.ts';

// Opcode parts (linux/bpf_common.h, linux/bpf.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, JMP = 0x05, ALU64 = 0x07;
const W = 0x00, B = 0x10, DW = 0x18;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, ATOMIC = 0xc0;
const K = 0x00, X = 0x08;
const ADD = 0x00, AND = 0x50, LSH = 0x60, RSH = 0x70, MOV = 0xb0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JNE = 0x50, CALL = 0x80, EXIT = 0x90;

export const R0 = 0, R1 = 1, R2 = 2, R6 = 6, R7 = 7, R8 = 8, R9 = 9, R10 = 10;
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_FUNC_map_lookup_elem = 1;
// A load from the network header however the socket's data starts (SKF_NET_OFF, linux/filter.h).
export const SKF_NET_OFF = -0x100000;

interface Insn { code: number; dst: number; src: number; off: number | string; imm: number }

export class BpfAsm {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  private op(code: number, dst: number, src: number, off: number | string, imm: number): this {
    this.insns.push({ code, dst, src, off, imm });
    return this;
  }
  label(name: string): this { this.labels.set(name, this.insns.length); return this; }

  movImm(dst: number, imm: number): this { return this.op(ALU64 | MOV | K, dst, 0, 0, imm); }
  movReg(dst: number, src: number): this { return this.op(ALU64 | MOV | X, dst, src, 0, 0); }
  addImm(dst: number, imm: number): this { return this.op(ALU64 | ADD | K, dst, 0, 0, imm); }
  andImm(dst: number, imm: number): this { return this.op(ALU64 | AND | K, dst, 0, 0, imm); }
  lshImm(dst: number, imm: number): this { return this.op(ALU64 | LSH | K, dst, 0, 0, imm); }
  rshImm(dst: number, imm: number): this { return this.op(ALU64 | RSH | K, dst, 0, 0, imm); }
  /** r0 = the packet's byte at `off` (R6 holds the context; out of bounds ends the program: drop). */
  ldAbsB(off: number): this { return this.op(LD | ABS | B, 0, 0, 0, off); }
  /** r0 = the packet's byte at src + off. */
  ldIndB(src: number, off: number): this { return this.op(LD | IND | B, 0, src, 0, off); }
  ldxW(dst: number, src: number, off: number): this { return this.op(LDX | MEM | W, dst, src, off, 0); }
  stW(dst: number, off: number, imm: number): this { return this.op(ST | MEM | W, dst, 0, off, imm); }
  /** *(u64 *)(dst + off) += src, atomically. */
  atomicAddDW(dst: number, src: number, off: number): this { return this.op(STX | ATOMIC | DW, dst, src, off, ADD); }
  /** dst = the map whose fd is `fd` (a two-slot instruction). */
  ldMapFd(dst: number, fd: number): this {
    this.op(LD | IMM | DW, dst, BPF_PSEUDO_MAP_FD, 0, fd);
    return this.op(0, 0, 0, 0, 0);
  }
  ja(to: string): this { return this.op(JMP | JA, 0, 0, to, 0); }
  jeqImm(dst: number, imm: number, to: string): this { return this.op(JMP | JEQ | K, dst, 0, to, imm); }
  jneImm(dst: number, imm: number, to: string): this { return this.op(JMP | JNE | K, dst, 0, to, imm); }
  jgtReg(dst: number, src: number, to: string): this { return this.op(JMP | JGT | X, dst, src, to, 0); }
  call(helper: number): this { return this.op(JMP | CALL, 0, 0, 0, helper); }
  exit(): this { return this.op(JMP | EXIT, 0, 0, 0, 0); }

  /** The program's bytes, every label resolved (a jump counts from the instruction after it). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.insns.length * 8);
    const dv = new DataView(out.buffer);
    this.insns.forEach((n, pc) => {
      let off = n.off;
      if (typeof off === 'string') {
        const at = this.labels.get(off);
        if (at === undefined) throw new NetError(`BPF label ${off} is not defined`, 'VIGIL_EBPF');
        off = at - (pc + 1);
      }
      dv.setUint8(pc * 8, n.code);
      dv.setUint8(pc * 8 + 1, (n.dst & 0xf) | ((n.src & 0xf) << 4));
      dv.setInt16(pc * 8 + 2, off, true);
      dv.setInt32(pc * 8 + 4, n.imm, true);
    });
    return out;
  }
}
