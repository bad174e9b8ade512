/** A stable colour per provider, so a tile shows who computed it. */
export function providerColour (peer: string, alpha = 1): string {
  let h = 0
  for (let i = 0; i < peer.length; i++) h = (h * 31 + peer.charCodeAt(i)) >>> 0
  return `hsla(${h % 360}, 70%, 45%, ${alpha})`
}

export const shortId = (peer: string): string => `…${peer.slice(-6)}`
