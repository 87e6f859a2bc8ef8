// Bump allocation of per-packet output buffers (MPPE frames, GRE packets) from larger blocks: one
// allocation per block instead of one per packet on the data path (DESIGN.md §2 "allocates nothing
// per packet that it can avoid"), without ever reusing memory a queued packet may still point into.

/**
 * Hands out fresh regions carved from blocks of `blockSize` bytes. A region is never handed out
 * twice: a full block is dropped, not recycled, so a view stays valid and unchanged for as long as
 * its holder keeps it (a send queue flushed in a later microtask, a TUN batch); the block is freed
 * when the last view into it is gone. Regions of a fresh block are zero-filled; requests above a
 * quarter block get an array of their own.
 */
export class ByteSlab {
  readonly blockSize: number
  private block: Uint8Array | undefined
  private used = 0

  constructor(blockSize = 64 * 1024) {
    if (!Number.isInteger(blockSize) || blockSize < 64) throw new RangeError(`slab block size ${blockSize} too small`)
    this.blockSize = blockSize
  }

  /** A region of exactly `n` bytes that no other take() returned or will return. */
  take(n: number): Uint8Array {
    if (n > this.blockSize >>> 2) return new Uint8Array(n)
    let b = this.block
    if (b === undefined || this.used + n > b.length) {
      b = this.block = new Uint8Array(this.blockSize)
      this.used = 0
    }
    const start = this.used
    // 8-byte aligned starts keep every region's byteOffset aligned for any later typed view.
    this.used = (start + n + 7) & ~7
    return b.subarray(start, start + n)
  }
}

/**
 * The process-wide slab for packet outputs, shared like Node's Buffer pool: sharing keeps the memory
 * in flight to a few blocks whatever the number of sessions, and is safe because regions are never reused.
 */
export const packetSlab = new ByteSlab()
