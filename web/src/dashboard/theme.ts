/** Colours for the canvas, which CSS cannot reach: read from the page's custom properties. */
export interface PlotTheme {
  ink: string
  muted: string
  grid: string
  palette: string[]
}

const DARK = '(prefers-color-scheme: dark)'

function read (): PlotTheme {
  const style = getComputedStyle(document.documentElement)
  const v = (name: string): string => style.getPropertyValue(name).trim()
  return {
    ink: v('--ink'),
    muted: v('--muted'),
    grid: v('--line'),
    palette: [1, 2, 3, 4, 5, 6, 7, 8].map(i => v(`--plot-${i}`))
  }
}

/** The theme now, and again whenever the system switches between light and dark. */
export function watchTheme (onChange: (theme: PlotTheme) => void): () => void {
  const query = matchMedia(DARK)
  const changed = (): void => { onChange(read()) }
  query.addEventListener('change', changed)
  changed()
  return () => { query.removeEventListener('change', changed) }
}
