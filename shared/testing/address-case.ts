/**
 * An EIP-55 address with its first letter's case flipped: a bad checksum,
 * always. Lowercasing the whole address is not one when the checksum has no
 * capitals (about 1 random address in 400), which made tests flaky.
 */
export function wrongCase (address: string): string {
  return address.replace(/(?<=^0x.*?)[a-fA-F]/, c => c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())
}
