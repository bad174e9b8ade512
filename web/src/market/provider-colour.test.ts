import { describe, expect, it } from 'vitest'
import { PROVIDER_PALETTE, providerColour, providerColours } from './provider-colour.ts'

/** CIE76 ΔE between two #rrggbb colours: about 2.3 is just noticeable, under 20 reads as "the same teal". */
function deltaE (a: string, b: string): number {
  const lab = (hex: string): number[] => {
    const [r, g, b] = [1, 3, 5].map(i => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255
      return c > 0.04045 ? ((c + 0.055) / 1.055) ** 2.4 : c / 12.92
    }) as [number, number, number]
    const f = (t: number): number => t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116
    const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047)
    const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b)
    const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)
    return [116 * y - 16, 500 * (x - y), 200 * (y - z)]
  }
  const [p, q] = [lab(a), lab(b)]
  return Math.hypot(...p.map((v, i) => v - (q[i] as number)))
}

describe('provider colours', () => {
  it('the two providers the issue saw get colours far apart, whatever their IDs', () => {
    // what a hash gave two providers: rgb(34,195,150) and rgb(34,195,184)
    expect(deltaE('#22c396', '#22c3b8')).toBeLessThan(20)
    const colours = providerColours([{ provider: 'peerA' }, { provider: 'peerB' }, { provider: 'peerA' }])
    expect([...colours.keys()]).toEqual(['peerA', 'peerB'])
    expect(deltaE(colours.get('peerA') as string, colours.get('peerB') as string)).toBeGreaterThan(100)
  })

  it('every two palette colours differ by ΔE > 25', () => {
    let least = Infinity
    for (let i = 0; i < PROVIDER_PALETTE.length; i++) {
      for (let j = i + 1; j < PROVIDER_PALETTE.length; j++) least = Math.min(least, deltaE(PROVIDER_PALETTE[i] as string, PROVIDER_PALETTE[j] as string))
    }
    expect(least).toBeGreaterThan(25)
  })

  it('goes on past the palette with distinct hues', () => {
    const more = Array.from({ length: 8 }, (_, i) => providerColour(PROVIDER_PALETTE.length + i))
    expect(new Set(more).size).toBe(8)
    for (const c of more) expect(c).toMatch(/^hsl\(\d+, 80%, 50%\)$/)
  })
})
