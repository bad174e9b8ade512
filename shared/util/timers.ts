/**
 * Lets Node exit while the timer is pending (a no-op in browsers, where
 * timers are numbers): for clean-ups that must not keep a process alive.
 */
export function unref<T> (timer: T): T {
  ;(timer as { unref?: () => void }).unref?.()
  return timer
}
