import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { expect, test } from '@playwright/test'

// What a relay serves (npm run build → dist/web) holds the page, the
// operator dashboard and the widget (its loader, frame and site owner's
// page) alone: no bench page, no test page, no fault seam. The test build (dist/test-web)
// holds them, which shows the markers below are the right ones to look for.
const MARKERS = ['golemClayFaults', 'cheatingRunner', 'faultyTap', 'mismatchingTap']

async function files (dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter(e => e.isFile()).map(e => join(e.parentPath, e.name))
}

async function markersIn (dir: string): Promise<string[]> {
  const found: string[] = []
  for (const file of await files(dir)) {
    if (!/\.(js|html)$/.test(file)) continue
    const text = await readFile(file, 'utf8')
    for (const m of MARKERS) if (text.includes(m)) found.push(`${relative(dir, file)}: ${m}`)
  }
  return found
}

test('the product build holds the page, the dashboard and the widget alone; bench and test pages are in the test build only', async () => {
  const html = (await files('dist/web')).filter(f => f.endsWith('.html')).map(f => relative('dist/web', f))
  expect(html.sort()).toEqual(['dashboard.html', 'index.html', 'widget-frame.html', 'widget.html'])
  expect((await files('dist/web')).map(f => relative('dist/web', f))).toContain('widget.js')
  expect(await markersIn('dist/web')).toEqual([])

  const testHtml = (await files('dist/test-web')).filter(f => f.endsWith('.html')).map(f => relative('dist/test-web', f))
  expect(testHtml).toEqual(expect.arrayContaining(['index.html', 'dashboard.html', 'test-pages/faults.html', 'bench/tasks.html', 'bench/storage.html']))
  expect((await markersIn('dist/test-web')).length).toBeGreaterThan(0)
})
