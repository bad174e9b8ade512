/**
 * Saturated colours far apart in CIELAB (ΔE ≥ 29 between any two), in an
 * order where the first few are the farthest apart: a task has a handful of
 * providers, each gets the next one. A hash of the peer ID could land two of
 * them on nearly the same hue.
 */
export const PROVIDER_PALETTE = [
  '#e6194b', '#3cb44b', '#4363d8', '#ffe119', '#f032e6', '#42d4f4',
  '#f58231', '#911eb4', '#bfef45', '#469990', '#9a6324', '#fabed4'
] as const

/** The colour of the `index`th provider of a task; past the palette, hues a golden angle apart. */
export function providerColour (index: number): string {
  const fixed = PROVIDER_PALETTE[index]
  if (fixed != null) return fixed
  return `hsl(${Math.round(((index - PROVIDER_PALETTE.length) * 137.508 + 15) % 360)}, 80%, 50%)`
}

/** Each provider of a task's tiles with its colour, in the order they first delivered one. */
export function providerColours (tiles: ReadonlyArray<{ provider: string }>): Map<string, string> {
  const colours = new Map<string, string>()
  for (const t of tiles) if (!colours.has(t.provider)) colours.set(t.provider, providerColour(colours.size))
  return colours
}

export const shortId = (peer: string): string => `…${peer.slice(-6)}`
