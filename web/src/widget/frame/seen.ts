/** How long the frame must have been seen whole and uncovered before a click counts, ms. */
const SEEN_FOR_MS = 500

interface VisibilityEntry extends IntersectionObserverEntry { isVisible?: boolean }

/**
 * Whether the frame has been on screen whole, unobscured, opaque and
 * untransformed for a while, by Intersection Observer v2
 * (`trackVisibility`): a host page could otherwise make the frame
 * transparent and lay it over its own button, so that the visitor's click
 * lands on Join (clickjacking). Where the browser has no v2, every click
 * counts. `<html data-seen>` says when clicks count (tests wait on it).
 */
export function watchSeen (target: Element): { long: () => boolean } {
  const root = document.documentElement
  if (typeof IntersectionObserver === 'undefined' || !('isVisible' in IntersectionObserverEntry.prototype)) {
    root.dataset.seen = ''
    return { long: () => true }
  }
  let since: number | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries as VisibilityEntry[]) {
      const whole = entry.isVisible === true && entry.intersectionRatio >= 0.99
      if (whole && since == null) {
        since = Date.now()
        timer = setTimeout(() => { root.dataset.seen = '' }, SEEN_FOR_MS)
      } else if (!whole) {
        since = undefined
        clearTimeout(timer)
        delete root.dataset.seen
      }
    }
  }, { threshold: [0, 0.99, 1], trackVisibility: true, delay: 100 } as IntersectionObserverInit)
  observer.observe(target)
  return { long: () => since != null && Date.now() - since >= SEEN_FOR_MS }
}
