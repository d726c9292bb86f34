#!/usr/bin/env node
// Draws Lectern's icon (an open book on a lectern, #2f5d8a on #f6f5f2) and writes it as PNG:
//   build/icon.png      512x512, electron-builder's source for AppImage/deb/nsis/dmg icons
//   resources/icon.png  256x256, the window icon, shipped via extraResources
// Run `node build/makeIcons.mjs` after changing the drawing; both PNGs are committed.
// The PNG encoder is written here (node:zlib for deflate) so the icon needs no image package.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const OUTPUTS = [
  { path: new URL('./icon.png', import.meta.url), sizePx: 512 },
  { path: new URL('../resources/icon.png', import.meta.url), sizePx: 256 },
]

/** Straight (not premultiplied) RGBA colours, 0-255. */
const PAPER = [0xf6, 0xf5, 0xf2, 0xff]
const EDGE = [0xd5, 0xd0, 0xc5, 0xff]
const INK = [0x2f, 0x5d, 0x8a, 0xff]

/** Samples per pixel along each axis; 4x4 gives smooth edges at every size. */
const SUPERSAMPLE = 4

// ---- Shapes, as inside-tests in unit coordinates (0..1, y down) ----

function roundedRect(x0, y0, x1, y1, radius) {
  return (x, y) => {
    const dx = Math.max(x0 + radius - x, 0, x - (x1 - radius))
    const dy = Math.max(y0 + radius - y, 0, y - (y1 - radius))
    return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= radius * radius
  }
}

/** Even-odd crossing test; points are [x, y] pairs in drawing order. */
function polygon(points) {
  return (x, y) => {
    let inside = false
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i]
      const [xj, yj] = points[j]
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
    }
    return inside
  }
}

/** A stroke with round caps from (ax, ay) to (bx, by). */
function capsule(ax, ay, bx, by, width) {
  const lengthSq = (bx - ax) ** 2 + (by - ay) ** 2
  return (x, y) => {
    const t = Math.min(1, Math.max(0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / lengthSq))
    return (x - ax - t * (bx - ax)) ** 2 + (y - ay - t * (by - ay)) ** 2 <= (width / 2) ** 2
  }
}

const union = (...shapes) => (x, y) => shapes.some((inside) => inside(x, y))

/** Both pages of the open book, mirrored about x = 0.5; `side` is -1 (left) or 1 (right). */
function page(side) {
  const spineX = 0.5 + side * 0.014
  const outerX = 0.5 + side * 0.31
  // The pages rise towards their outer edges, as a book lying open on a sloped desk looks from the front.
  return polygon([
    [spineX, 0.34],
    [outerX, 0.26],
    [outerX, 0.56],
    [spineX, 0.64],
  ])
}

/** Lines of text on a page, drawn in paper colour over the page. */
function textLines(side) {
  const lines = []
  for (let i = 0; i < 4; i++) {
    const dy = 0.075 + i * 0.055
    // The last line is short at its right end, like the end of a paragraph.
    const shortLeft = i === 3 && side < 0
    const shortRight = i === 3 && side > 0
    const innerX = 0.5 + side * (shortLeft ? 0.13 : 0.07)
    const outerX = 0.5 + side * (shortRight ? 0.19 : 0.25)
    // Parallel to the page's top edge, which climbs 0.08 over the page's 0.296 width.
    const topAt = (x) => 0.34 - (Math.abs(x - 0.5) - 0.014) * (0.08 / 0.296)
    lines.push(capsule(innerX, topAt(innerX) + dy, outerX, topAt(outerX) + dy, 0.022))
  }
  return union(...lines)
}

/** Paint order: later layers cover earlier ones. */
const LAYERS = [
  { color: EDGE, inside: roundedRect(0.03, 0.03, 0.97, 0.97, 0.2) },
  { color: PAPER, inside: roundedRect(0.045, 0.045, 0.955, 0.955, 0.185) },
  {
    color: INK,
    inside: union(
      page(-1),
      page(1),
      // The lectern: a sloped ledge under the book, a column and a foot.
      capsule(0.17, 0.6, 0.5, 0.685, 0.036),
      capsule(0.83, 0.6, 0.5, 0.685, 0.036),
      roundedRect(0.46, 0.66, 0.54, 0.82, 0.01),
      roundedRect(0.3, 0.8, 0.7, 0.86, 0.03),
    ),
  },
  { color: PAPER, inside: union(textLines(-1), textLines(1)) },
]

/** Renders the icon to straight RGBA bytes, row by row. */
function render(sizePx) {
  const rgba = Buffer.alloc(sizePx * sizePx * 4)
  const samples = SUPERSAMPLE * SUPERSAMPLE
  for (let py = 0; py < sizePx; py++) {
    for (let px = 0; px < sizePx; px++) {
      // Sum premultiplied colour over the sub-samples, then divide out the coverage.
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (px + (sx + 0.5) / SUPERSAMPLE) / sizePx
          const y = (py + (sy + 0.5) / SUPERSAMPLE) / sizePx
          let color = null
          for (const layer of LAYERS) if (layer.inside(x, y)) color = layer.color
          if (color === null) continue
          r += color[0]
          g += color[1]
          b += color[2]
          a += color[3]
        }
      }
      const offset = (py * sizePx + px) * 4
      const covered = a / 255
      if (covered > 0) {
        rgba[offset] = Math.round(r / covered)
        rgba[offset + 1] = Math.round(g / covered)
        rgba[offset + 2] = Math.round(b / covered)
      }
      rgba[offset + 3] = Math.round(a / samples)
    }
  }
  return rgba
}

// ---- PNG encoding (PNG spec, ISO/IEC 15948) ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(bytes) {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** One chunk: length, type, data, and the CRC of type + data. */
function chunk(type, data) {
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typeAndData))
  return Buffer.concat([length, typeAndData, crc])
}

function encodePng(widthPx, heightPx, rgba) {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(widthPx, 0)
  header.writeUInt32BE(heightPx, 4)
  header[8] = 8 // bits per channel
  header[9] = 6 // colour type: RGBA
  header[10] = 0 // compression: deflate
  header[11] = 0 // filter method 0
  header[12] = 0 // no interlace
  // Each scanline starts with its filter type; 0 (None) keeps the encoder trivial and deflate does the rest.
  const rowBytes = widthPx * 4
  const raw = Buffer.alloc((rowBytes + 1) * heightPx)
  for (let y = 0; y < heightPx; y++) rgba.copy(raw, y * (rowBytes + 1) + 1, y * rowBytes, (y + 1) * rowBytes)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

for (const { path, sizePx } of OUTPUTS) {
  const file = fileURLToPath(path)
  mkdirSync(dirname(file), { recursive: true })
  const png = encodePng(sizePx, sizePx, render(sizePx))
  writeFileSync(file, png)
  console.log(`wrote ${file} (${sizePx}x${sizePx}, ${png.length} bytes)`)
}
